//! Compact encodings used by R: idsets (`0-3,5`) and hostlists (`node[0-3,5]`),
//! and a tiny JSON object builder that keeps insertion order with jansson's separators.

/// Encodes integers as an RFC 22 idset (sorted, ranges joined with `-`).
pub fn idset(ids: &[i64]) -> String {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            v[i].to_string()
        } else {
            format!("{}-{}", v[i], v[j])
        });
        i = j + 1;
    }
    out.join(",")
}

/// Compresses host names (kept in order) into an RFC 29 hostlist.
pub fn hostlist(names: &[String]) -> String {
    // Runs of names sharing a prefix become `prefix[ids]`.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for n in names {
        let (prefix, num) = crate::readers::split_trailing_digits(n);
        match (num, groups.last_mut()) {
            (Some(num), Some((p, nums))) if p == prefix && !nums.is_empty() => {
                nums.push(num.to_string())
            }
            (Some(num), _) => groups.push((prefix.to_string(), vec![num.to_string()])),
            (None, _) => groups.push((prefix.to_string(), Vec::new())),
        }
    }
    let mut out = Vec::new();
    for (prefix, nums) in groups {
        match nums.len() {
            0 => out.push(prefix),
            1 => out.push(format!("{prefix}{}", nums[0])),
            _ => {
                // Zero-padded numbers are kept verbatim as singletons.
                let plain = nums.iter().all(|n| n == "0" || !n.starts_with('0'));
                let body = if plain {
                    let ids: Vec<i64> = nums.iter().filter_map(|n| n.parse().ok()).collect();
                    ranges_in_order(&ids)
                } else {
                    nums.join(",")
                };
                out.push(format!("{prefix}[{body}]"));
            }
        }
    }
    out.join(",")
}

/// Like [`idset`] but keeps the given order (hostlists are ordered).
fn ranges_in_order(ids: &[i64]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            ids[i].to_string()
        } else {
            format!("{}-{}", ids[i], ids[j])
        });
        i = j + 1;
    }
    out.join(",")
}

/// JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// An ordered JSON object written with `", "` and `": "` separators (jansson style).
#[derive(Debug, Default)]
pub struct Obj(Vec<(String, String)>);

impl Obj {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a raw JSON value.
    pub fn raw(mut self, k: &str, v: impl Into<String>) -> Self {
        self.0.push((k.to_string(), v.into()));
        self
    }

    /// Adds a string value.
    pub fn str(self, k: &str, v: &str) -> Self {
        self.raw(k, json_str(v))
    }

    /// Renders the object.
    pub fn render(&self) -> String {
        let body: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}: {v}", json_str(k)))
            .collect();
        format!("{{{}}}", body.join(", "))
    }
}

/// Renders a JSON array of raw values.
pub fn array(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idsets_and_hostlists() {
        assert_eq!(idset(&[5, 0, 1, 2, 3, 7, 8]), "0-3,5,7-8");
        assert_eq!(idset(&[]), "");
        let names: Vec<String> = ["node0", "node1", "node2", "node5", "login"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(hostlist(&names), "node[0-2,5],login");
        assert_eq!(hostlist(&["node3".to_string()]), "node3");
    }

    #[test]
    fn objects_keep_order() {
        let o = Obj::new().str("b", "x").raw("a", "1");
        assert_eq!(o.render(), r#"{"b": "x", "a": 1}"#);
        assert_eq!(array(&["1".into(), "2".into()]), "[1, 2]");
    }
}
