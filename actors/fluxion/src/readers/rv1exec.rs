//! rv1exec reader: builds `cluster0 -> node -> {core, gpu}` from RFC 20 R (R_lite and
//! nodelist), the way the broker module populates the graph without a JGF `scheduling` key.

use std::collections::BTreeMap;

use serde_json::Value;

use super::add_containment_vertex;
use crate::error::ReaderError;
use crate::graph::{ResourceGraph, VertexId};

fn invalid(msg: impl Into<String>) -> ReaderError {
    ReaderError::Invalid(format!("rv1exec: {}", msg.into()))
}

/// Decodes an RFC 22 idset (`0-3,7`).
pub fn decode_idset(s: &str) -> Result<Vec<i64>, ReaderError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (i64, i64) = (
            a.parse().map_err(|_| invalid(format!("bad idset {s}")))?,
            b.parse().map_err(|_| invalid(format!("bad idset {s}")))?,
        );
        if b < a {
            return Err(invalid(format!("bad idset range {part}")));
        }
        out.extend(a..=b);
    }
    Ok(out)
}

/// Decodes an RFC 29 hostlist (`node[0-3,7],login`), keeping order.
pub fn decode_hostlist(s: &str) -> Result<Vec<String>, ReaderError> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        // A term ends at the first comma outside brackets.
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                *c == ',' && depth == 0
            })
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let term = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        match term.split_once('[') {
            None => out.push(term.to_string()),
            Some((prefix, tail)) => {
                let (body, suffix) = tail
                    .split_once(']')
                    .ok_or_else(|| invalid(format!("bad hostlist {s}")))?;
                for range in body.split(',') {
                    let (a, b) = range.split_once('-').unwrap_or((range, range));
                    let width = a.len();
                    let (lo, hi): (i64, i64) = (
                        a.parse()
                            .map_err(|_| invalid(format!("bad hostlist {s}")))?,
                        b.parse()
                            .map_err(|_| invalid(format!("bad hostlist {s}")))?,
                    );
                    for n in lo..=hi {
                        out.push(format!("{prefix}{n:0width$}{suffix}"));
                    }
                }
            }
        }
    }
    Ok(out)
}

fn add(
    g: &mut ResourceGraph,
    ty: &str,
    name: String,
    id: i64,
    rank: i64,
    path: String,
) -> VertexId {
    add_containment_vertex(g, ty, ty, name, id, rank, 1, path)
}

/// Reads R (`{"version": 1, "execution": {...}}`) into `g`.
pub fn read_rv1exec(text: &str, g: &mut ResourceGraph) -> Result<(), ReaderError> {
    let doc: Value = serde_json::from_str(text)?;
    let exec = doc
        .get("execution")
        .ok_or_else(|| invalid("no execution key"))?;
    let r_lite = exec
        .get("R_lite")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no R_lite"))?;
    let mut hosts = Vec::new();
    for h in exec
        .get("nodelist")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        hosts.extend(decode_hostlist(
            h.as_str()
                .ok_or_else(|| invalid("nodelist entries are strings"))?,
        )?);
    }
    // rank -> property names
    let mut props: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    if let Some(Value::Object(p)) = exec.get("properties") {
        for (name, ranks) in p {
            for r in decode_idset(ranks.as_str().unwrap_or_default())? {
                props.entry(r).or_default().push(name.clone());
            }
        }
    }
    let c = g.names.intern_subsystem("containment");
    let root = add(g, "cluster", "cluster0".into(), 0, -1, "/cluster0".into());
    g.roots.insert(c, root);
    // Nodes in rank order; the nodelist is indexed by rank position.
    let mut entries: Vec<(i64, &serde_json::Map<String, Value>)> = Vec::new();
    for e in r_lite {
        let ranks = decode_idset(
            e.get("rank")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("R_lite without rank"))?,
        )?;
        let children = e
            .get("children")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("R_lite without children"))?;
        entries.extend(ranks.into_iter().map(|r| (r, children)));
    }
    entries.sort_by_key(|(r, _)| *r);
    for (i, (rank, children)) in entries.into_iter().enumerate() {
        let host = hosts
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("node{rank}"));
        let id = host
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or(rank);
        let path = format!("/cluster0/{host}");
        let node = add(g, "node", host, id, rank, path.clone());
        for p in props.get(&rank).into_iter().flatten() {
            g.vertices[node.idx()]
                .properties
                .insert(p.clone(), String::new());
        }
        g.add_edge(root, node, c);
        for (ty, ids) in children {
            for cid in decode_idset(ids.as_str().unwrap_or_default())? {
                let name = format!("{ty}{cid}");
                let v = add(g, ty, name.clone(), cid, rank, format!("{path}/{name}"));
                g.add_edge(node, v, c);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(decode_idset("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert!(decode_idset("3-1").is_err());
        assert_eq!(
            decode_hostlist("node[1-2,5],login").unwrap(),
            ["node1", "node2", "node5", "login"]
        );
        assert_eq!(decode_hostlist("n[08-10]").unwrap(), ["n08", "n09", "n10"]);
    }

    #[test]
    fn builds_nodes_from_r() {
        let r = r#"{"version": 1, "execution": {"R_lite": [{"rank": "0-1", "children": {"core": "0-3", "gpu": "0"}}],
                    "nodelist": ["fluke[7-8]"], "properties": {"debug": "1"}, "starttime": 0, "expiration": 0}}"#;
        let mut g = ResourceGraph::new();
        read_rv1exec(r, &mut g).unwrap();
        assert_eq!(g.vertex_count(), 1 + 2 * (1 + 4 + 1));
        let node = g.by_name["fluke8"][0];
        assert_eq!(g.vertex(node).rank, 1);
        assert_eq!(g.vertex(node).id, 8);
        assert!(g.vertex(node).properties.contains_key("debug"));
        assert!(g.by_path.contains_key("/cluster0/fluke7/gpu0"));
    }
}
