//! `flux config get [--default=VALUE] [--type=TYPE] [NAME]`: print the instance
//! configuration, or one dotted key of it (strings bare, anything else as JSON).

use anyhow::bail;
use serde_json::Value;

use crate::util;

/// Query the instance configuration.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the configuration, or the value of NAME (a dotted key)
    Get(Get),
}

/// `flux config get` options.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Get {
    /// Print VALUE when NAME is not set
    #[arg(short, long, value_name = "VALUE")]
    default: Option<String>,
    /// Fail unless the value has this type (string, integer, real, boolean, array, table)
    #[arg(short, long, value_name = "TYPE")]
    r#type: Option<String>,
    /// A dotted key, e.g. sched-fluxion-qmanager.queue-policy
    name: Option<String>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "real",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "table",
        Value::Null => "null",
    }
}

/// The value at `name` (the whole configuration without one).
fn lookup<'a>(conf: &'a Value, name: Option<&str>) -> Option<&'a Value> {
    match name {
        None => Some(conf),
        Some(name) => name.split('.').try_fold(conf, |v, part| v.get(part)),
    }
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let Command::Get(args) = cmd;
    let h = util::connect().await?;
    let conf: Value = h.rpc_json("config.get", &serde_json::json!({})).await?;
    let value = match (lookup(&conf, args.name.as_deref()), &args.default) {
        (Some(v), _) => v.clone(),
        // A default is JSON when it parses as JSON (`--default=5`), else a string.
        (None, Some(d)) => serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.clone())),
        (None, None) => bail!(
            "{} is not set",
            args.name.as_deref().unwrap_or("configuration")
        ),
    };
    if let Some(want) = &args.r#type
        && type_name(&value) != want
        && !(want == "real" && type_name(&value) == "integer")
    {
        bail!(
            "{} has type {}, not {want}",
            args.name.as_deref().unwrap_or("configuration"),
            type_name(&value)
        );
    }
    match value {
        Value::String(s) => println!("{s}"),
        other => println!("{other}"),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_names_and_types() {
        let conf = json!({"a": {"b": [1], "c": "x"}});
        assert_eq!(lookup(&conf, Some("a.b")), Some(&json!([1])));
        assert_eq!(lookup(&conf, Some("a.d")), None);
        assert_eq!(lookup(&conf, None), Some(&conf));
        assert_eq!(type_name(&json!(1)), "integer");
        assert_eq!(type_name(&json!(1.5)), "real");
        assert_eq!(type_name(&conf), "table");
    }
}
