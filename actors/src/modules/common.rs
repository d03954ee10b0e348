//! What every module does alike: parse `key=value` arguments, answer `NAME.ping` and
//! `NAME.stats-get`.

use std::collections::BTreeMap;

use flux_proto::{Envelope, errno};
use serde_json::json;

use crate::tracer::Probe;

/// Module arguments: `key=value` words (a bare `key` means `key=`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ModuleArgs(BTreeMap<String, String>);

impl ModuleArgs {
    /// Parse the words given to `flux module load`.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Self {
        let map = words
            .iter()
            .map(|w| match w.as_ref().split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (w.as_ref().to_string(), String::new()),
            })
            .collect();
        ModuleArgs(map)
    }

    /// Add the `key = value` entries of a configuration table that were not given
    /// (strings as they are, lists joined by commas, anything else as JSON).
    pub fn or_defaults(&mut self, table: &serde_json::Map<String, serde_json::Value>) {
        use serde_json::Value;
        for (key, value) in table {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            self.0.entry(key.clone()).or_insert(text);
        }
    }

    /// Take one argument out (so that leftovers can be reported as unknown).
    pub fn take(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// Fail on arguments the module did not take.
    pub fn finish(&self, module: &str) -> Result<(), String> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(key) => Err(format!("{module}: unknown argument '{key}'")),
        }
    }
}

/// Answer the requests every module serves; `None` when `msg` is for the module itself.
pub fn handle_common(name: &str, probe: &Probe, msg: &Envelope) -> Option<Envelope> {
    let method = msg.topic.strip_prefix(name)?.strip_prefix('.')?;
    match method {
        "ping" => {
            let mut body: serde_json::Value = msg.json().unwrap_or_else(|_| json!({}));
            if let Some(obj) = body.as_object_mut() {
                obj.insert("route".into(), json!(msg.route.join("!")));
            }
            Some(msg.response_json(&body))
        }
        "stats-get" => Some(msg.response_json(&probe.snapshot())),
        "disconnect" => None,
        _ => None,
    }
}

/// The response for a method a module does not have.
pub fn unknown_method(msg: &Envelope) -> Envelope {
    msg.error_response(errno::ENOSYS, format!("unknown method {}", msg.topic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn args_report_leftovers() {
        let mut args = ModuleArgs::parse(&["period=1s", "verbose"]);
        assert_eq!(args.take("period").as_deref(), Some("1s"));
        assert_eq!(
            args.clone().finish("hb").unwrap_err(),
            "hb: unknown argument 'verbose'"
        );
        assert_eq!(args.take("verbose").as_deref(), Some(""));
        assert!(args.finish("hb").is_ok());
    }

    #[test]
    fn ping_echoes_with_route() {
        let probe = Probe::new("hb", "module", 0);
        let mut req = Envelope::request("hb.ping", 0, Bytes::from_static(b"{\"seq\":3}"));
        req.route = vec!["a1b2".into()];
        let rsp = handle_common("hb", &probe, &req).unwrap();
        let body: serde_json::Value = rsp.json().unwrap();
        assert_eq!(body, json!({"seq": 3, "route": "a1b2"}));
        assert!(
            handle_common(
                "hb",
                &probe,
                &Envelope::request("hb.other", 0, Bytes::new())
            )
            .is_none()
        );
        assert!(
            handle_common(
                "hb",
                &probe,
                &Envelope::request("hbx.ping", 0, Bytes::new())
            )
            .is_none()
        );
    }
}
