//! JGF (JSON Graph Format) reader, as Fluxion writes and reads it.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::error::ReaderError;
use crate::graph::{ResourceGraph, Status, Vertex, VertexId};

fn invalid(msg: impl Into<String>) -> ReaderError {
    ReaderError::Invalid(format!("jgf: {}", msg.into()))
}

fn int_field(meta: &Value, key: &str) -> Result<Option<i64>, ReaderError> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(format!("{key} must be an integer"))),
    }
}

fn str_field(meta: &Value, key: &str) -> Result<Option<String>, ReaderError> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{key} must be a string"))),
    }
}

/// Trailing integer of a name (`node17` -> 17).
fn trailing_int(name: &str) -> Option<i64> {
    super::split_trailing_digits(name).1?.parse().ok()
}

fn read_vertex(g: &mut ResourceGraph, node: &Value) -> Result<(String, Vertex), ReaderError> {
    let key = match node.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(invalid("node without id")),
    };
    let meta = node
        .get("metadata")
        .ok_or_else(|| invalid("node without metadata"))?;
    let ty_name = str_field(meta, "type")?.ok_or_else(|| invalid("metadata without type"))?;
    let ty = g.names.intern_type(&ty_name);
    let basename = str_field(meta, "basename")?.unwrap_or_else(|| ty_name.clone());
    let uniq_id = match int_field(meta, "uniq_id")? {
        Some(u) => u,
        None => key
            .parse()
            .map_err(|_| invalid(format!("no uniq_id and id {key} is not an integer")))?,
    };
    let name_field = str_field(meta, "name")?;
    let id = match int_field(meta, "id")? {
        Some(i) => i,
        None if ty_name == "node" => name_field
            .as_deref()
            .and_then(trailing_int)
            .unwrap_or(uniq_id),
        None => uniq_id,
    };
    let name = name_field.unwrap_or_else(|| format!("{basename}{id}"));
    let mut properties = BTreeMap::new();
    if let Some(Value::Object(props)) = meta.get("properties") {
        for (k, v) in props {
            properties.insert(
                k.clone(),
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            );
        }
    }
    let mut paths = crate::graph::Paths::default();
    match meta.get("paths") {
        Some(Value::Object(ps)) => {
            for (s, p) in ps {
                let sid = g.names.intern_subsystem(s);
                let p = p
                    .as_str()
                    .ok_or_else(|| invalid("paths values must be strings"))?;
                paths.insert(sid, p.to_string());
            }
        }
        _ => return Err(invalid("metadata without paths")),
    }
    let status = match int_field(meta, "status")? {
        Some(1) => Status::Down,
        _ => Status::Up,
    };
    let v = Vertex {
        ty,
        basename,
        name,
        id,
        uniq_id,
        rank: int_field(meta, "rank")?.unwrap_or(-1),
        size: int_field(meta, "size")?.unwrap_or(1),
        unit: str_field(meta, "unit")?.unwrap_or_default(),
        properties,
        paths,
        status,
    };
    Ok((key, v))
}

/// Reads a JGF document (`{"graph": {...}}`, or R with a `scheduling` key) into `g`.
pub fn read_jgf(text: &str, g: &mut ResourceGraph) -> Result<(), ReaderError> {
    let doc: Value = serde_json::from_str(text)?;
    let graph = doc
        .get("graph")
        .or_else(|| doc.get("scheduling").and_then(|s| s.get("graph")))
        .ok_or_else(|| invalid("no graph key"))?;
    let nodes = graph
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no nodes array"))?;
    let mut by_key: HashMap<String, VertexId> = HashMap::new();
    for node in nodes {
        let (key, v) = read_vertex(g, node)?;
        let roots: Vec<_> = v
            .paths
            .iter()
            .filter(|(_, p)| p.matches('/').count() == 1)
            .map(|(s, _)| *s)
            .collect();
        let id = g.add_vertex(v);
        for s in roots {
            g.roots.insert(s, id);
        }
        by_key.insert(key, id);
    }
    let containment = g.names.intern_subsystem("containment");
    let empty = Vec::new();
    let edges = graph
        .get("edges")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for e in edges {
        let end = |k: &str| -> Result<VertexId, ReaderError> {
            let key = match e.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(invalid(format!("edge without {k}"))),
            };
            by_key
                .get(&key)
                .copied()
                .ok_or_else(|| invalid(format!("edge {k} {key} is not a node")))
        };
        let (src, tgt) = (end("source")?, end("target")?);
        let subsystem = match e
            .get("metadata")
            .and_then(|m| m.get("subsystem"))
            .and_then(Value::as_str)
        {
            Some(s) => g.names.intern_subsystem(s),
            None => containment,
        };
        // Old files carry reverse `in` edges as well; the tree only needs forward ones.
        let name = e.get("metadata").and_then(|m| m.get("name"));
        let is_reverse = name
            .and_then(|n| n.as_object())
            .is_some_and(|o| o.values().any(|v| v.as_str() == Some("in")));
        if is_reverse {
            continue;
        }
        g.add_edge(src, tgt, subsystem);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_jgf() {
        let text = r#"{"graph": {"nodes": [
            {"id": "0", "metadata": {"type": "cluster", "paths": {"containment": "/cluster0"}}},
            {"id": "1", "metadata": {"type": "node", "name": "node7", "rank": 0, "paths": {"containment": "/cluster0/node7"}}},
            {"id": "2", "metadata": {"type": "memory", "size": 4, "unit": "GB", "id": 0, "paths": {"containment": "/cluster0/node7/memory0"}}}
          ], "edges": [{"source": "0", "target": "1"}, {"source": "1", "target": "2", "metadata": {"subsystem": "containment"}}]}}"#;
        let mut g = ResourceGraph::new();
        read_jgf(text, &mut g).unwrap();
        assert_eq!(g.vertex_count(), 3);
        assert_eq!(g.vertices[1].id, 7);
        assert_eq!(g.vertices[1].rank, 0);
        assert_eq!(g.vertices[2].size, 4);
        assert_eq!(g.vertices[0].name, "cluster0");
        let c = g.names.find_subsystem("containment").unwrap();
        assert_eq!(g.root(c), Some(VertexId(0)));
        assert_eq!(g.out_edges(VertexId(1)).len(), 1);
    }

    #[test]
    fn missing_type_is_an_error() {
        let mut g = ResourceGraph::new();
        let r = read_jgf(
            r#"{"graph": {"nodes": [{"id": "0", "metadata": {"paths": {}}}]}}"#,
            &mut g,
        );
        assert!(r.is_err());
    }
}
