//! GRUG reader: expands a GraphML generation recipe into a resource graph.
//!
//! Recipe nodes describe vertex kinds; recipe edges say how many children each parent
//! instance gets (`MULTIPLY`) and how they are numbered (`id_scope`, `id_start`,
//! `id_stride`). Generation walks the recipe depth-first and, on each recipe edge, creates
//! the children of **all** source instances before going deeper, which fixes `uniq_id`
//! and child order.

mod associate;

use std::collections::{BTreeMap, HashMap};

use crate::error::ReaderError;
use crate::graph::{ResourceGraph, Status, Vertex, VertexId};

#[derive(Debug, Clone)]
struct Recipe {
    root: bool,
    ty: String,
    basename: String,
    size: i64,
    unit: String,
    subsystem: String,
}

#[derive(Debug, Clone)]
struct RecipeEdge {
    source: usize,
    target: usize,
    subsystem: String,
    gen_method: String,
    multi_scale: i64,
    id_scope: i64,
    id_start: i64,
    id_stride: i64,
    as_tgt_subsystem: String,
    as_tgt_uplvl: i64,
    as_src_uplvl: i64,
}

/// Parses GraphML into recipe nodes and edges (edges in file order).
fn parse(text: &str) -> Result<(Vec<Recipe>, Vec<RecipeEdge>), ReaderError> {
    let doc = roxmltree::Document::parse(text)?;
    // key id -> (attr.name, default)
    let mut keys: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut defaults: HashMap<String, String> = HashMap::new();
    for k in doc.descendants().filter(|n| n.has_tag_name("key")) {
        let id = k.attribute("id").unwrap_or_default().to_string();
        let name = k.attribute("attr.name").unwrap_or(&id).to_string();
        let def = k
            .children()
            .find(|c| c.has_tag_name("default"))
            .and_then(|d| d.text())
            .map(|s| s.trim().to_string());
        if let Some(d) = &def {
            defaults.insert(name.clone(), d.clone());
        }
        keys.insert(id, (name, def));
    }
    let data_of = |n: roxmltree::Node| -> HashMap<String, String> {
        let mut m = HashMap::new();
        for d in n.children().filter(|c| c.has_tag_name("data")) {
            let key = d.attribute("key").unwrap_or_default();
            let name = keys
                .get(key)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| key.to_string());
            m.insert(name, d.text().unwrap_or_default().trim().to_string());
        }
        m
    };
    let get = |m: &HashMap<String, String>, k: &str| -> Option<String> {
        m.get(k).cloned().or_else(|| defaults.get(k).cloned())
    };
    let int = |m: &HashMap<String, String>, k: &str, d: i64| -> Result<i64, ReaderError> {
        match get(m, k) {
            None => Ok(d),
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| ReaderError::Invalid(format!("grug: bad integer for {k}: {s}"))),
        }
    };
    let graph = doc
        .descendants()
        .find(|n| n.has_tag_name("graph"))
        .ok_or_else(|| ReaderError::Invalid("grug: no <graph> element".into()))?;
    let mut recipes = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for n in graph.children().filter(|c| c.has_tag_name("node")) {
        let m = data_of(n);
        let ty = get(&m, "type")
            .ok_or_else(|| ReaderError::Invalid("grug: node without type".into()))?;
        index.insert(
            n.attribute("id").unwrap_or_default().to_string(),
            recipes.len(),
        );
        recipes.push(Recipe {
            root: int(&m, "root", 0)? == 1,
            basename: get(&m, "basename").unwrap_or_else(|| ty.clone()),
            ty,
            size: int(&m, "size", 1)?,
            unit: get(&m, "unit").unwrap_or_default(),
            subsystem: get(&m, "subsystem").unwrap_or_else(|| "containment".into()),
        });
    }
    let mut edges = Vec::new();
    for e in graph.children().filter(|c| c.has_tag_name("edge")) {
        let m = data_of(e);
        let end = |attr: &str| -> Result<usize, ReaderError> {
            let name = e.attribute(attr).unwrap_or_default();
            index.get(name).copied().ok_or_else(|| {
                ReaderError::Invalid(format!("grug: edge {attr} {name} is not a node"))
            })
        };
        edges.push(RecipeEdge {
            source: end("source")?,
            target: end("target")?,
            subsystem: get(&m, "e_subsystem").unwrap_or_else(|| "containment".into()),
            gen_method: get(&m, "gen_method").unwrap_or_else(|| "MULTIPLY".into()),
            multi_scale: int(&m, "multi_scale", 1)?,
            id_scope: int(&m, "id_scope", 0)?,
            id_start: int(&m, "id_start", 0)?,
            id_stride: int(&m, "id_stride", 1)?,
            as_tgt_subsystem: get(&m, "as_tgt_subsystem").unwrap_or_else(|| "containment".into()),
            as_tgt_uplvl: int(&m, "as_tgt_uplvl", 1)?,
            as_src_uplvl: int(&m, "as_src_uplvl", 1)?,
        });
    }
    Ok((recipes, edges))
}

struct Generator<'a> {
    g: &'a mut ResourceGraph,
    recipes: Vec<Recipe>,
    edges: Vec<RecipeEdge>,
    /// Generated instances of each recipe node, in creation order.
    instances: Vec<Vec<VertexId>>,
    next_rank: i64,
}

impl Generator<'_> {
    fn new_vertex(&mut self, r: usize, id: i64, parent_path: Option<&str>) -> VertexId {
        let rc = self.recipes[r].clone();
        let ty = self.g.names.intern_type(&rc.ty);
        let subsystem = self.g.names.intern_subsystem(&rc.subsystem);
        let name = if id == -1 {
            rc.basename.clone()
        } else {
            format!("{}{}", rc.basename, id)
        };
        let path = match parent_path {
            Some(p) => format!("{p}/{name}"),
            None => format!("/{name}"),
        };
        let rank = if rc.ty == "node" {
            self.next_rank += 1;
            self.next_rank - 1
        } else {
            -1
        };
        let v = Vertex {
            ty,
            basename: rc.basename,
            name,
            id,
            uniq_id: self.g.vertex_count() as i64,
            rank,
            size: rc.size,
            unit: rc.unit,
            properties: BTreeMap::new(),
            paths: [(subsystem, path)].into_iter().collect(),
            status: Status::Up,
        };
        self.g.add_vertex(v)
    }

    /// Product of the multi_scale values of the `scope` nearest enclosing MULTIPLY edges.
    fn wrap(&self, ancestors: &[usize], scope: i64) -> i64 {
        ancestors
            .iter()
            .rev()
            .filter(|e| self.edges[**e].gen_method == "MULTIPLY")
            .take(scope.max(0) as usize)
            .map(|e| self.edges[*e].multi_scale)
            .product::<i64>()
            .max(1)
    }

    fn walk(&mut self, r: usize, ancestors: &mut Vec<usize>) -> Result<(), ReaderError> {
        let out: Vec<usize> = (0..self.edges.len())
            .filter(|e| self.edges[*e].source == r)
            .collect();
        for ei in out {
            let e = self.edges[ei].clone();
            match e.gen_method.as_str() {
                "MULTIPLY" => {}
                "ASSOCIATE_IN" | "ASSOCIATE_BY_PATH_IN" => {
                    self.associate(r, &e);
                    ancestors.push(ei);
                    self.walk(e.target, ancestors)?;
                    ancestors.pop();
                    continue;
                }
                other => {
                    return Err(ReaderError::Invalid(format!(
                        "grug: unknown gen_method {other}"
                    )));
                }
            }
            let subsystem = self.g.names.intern_subsystem(&e.subsystem);
            let wrap = self.wrap(ancestors, e.id_scope);
            let sources = self.instances[r].clone();
            for (j, src) in sources.iter().enumerate() {
                let parent_path = self.g.vertex(*src).paths.get(&subsystem).cloned();
                for i in 0..e.multi_scale {
                    let id = if e.id_scope == 0 {
                        e.id_start + i * e.id_stride
                    } else {
                        e.id_start
                            + (j as i64 % wrap) * e.multi_scale * e.id_stride
                            + i * e.id_stride
                    };
                    let child = self.new_vertex(e.target, id, parent_path.as_deref());
                    self.g.add_edge(*src, child, subsystem);
                    self.instances[e.target].push(child);
                }
            }
            ancestors.push(ei);
            self.walk(e.target, ancestors)?;
            ancestors.pop();
        }
        Ok(())
    }
}

/// Reads a GRUG recipe (GraphML text) into `g`.
pub fn read_grug(text: &str, g: &mut ResourceGraph) -> Result<(), ReaderError> {
    let (recipes, edges) = parse(text)?;
    let n = recipes.len();
    let mut generator = Generator {
        g,
        recipes,
        edges,
        instances: vec![Vec::new(); n],
        next_rank: 0,
    };
    for r in 0..n {
        if !generator.recipes[r].root {
            continue;
        }
        let v = generator.new_vertex(r, 0, None);
        let subsystem = generator
            .g
            .names
            .intern_subsystem(&generator.recipes[r].subsystem.clone());
        generator.g.roots.insert(subsystem, v);
        generator.instances[r].push(v);
        generator.walk(r, &mut Vec::new())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"<?xml version="1.0"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="root" for="node" attr.name="root" attr.type="int"><default>0</default></key>
  <key id="type" for="node" attr.name="type" attr.type="string"/>
  <key id="basename" for="node" attr.name="basename" attr.type="string"/>
  <key id="size" for="node" attr.name="size" attr.type="long"><default>1</default></key>
  <key id="id_scope" for="edge" attr.name="id_scope" attr.type="int"><default>0</default></key>
  <key id="multi_scale" for="edge" attr.name="multi_scale" attr.type="int"><default>1</default></key>
  <graph id="t" edgedefault="directed">
    <node id="cluster"><data key="root">1</data><data key="type">cluster</data><data key="basename">tiny</data></node>
    <node id="node"><data key="type">node</data></node>
    <node id="socket"><data key="type">socket</data></node>
    <node id="core"><data key="type">core</data></node>
    <edge source="cluster" target="node"><data key="multi_scale">2</data></edge>
    <edge source="node" target="socket"><data key="multi_scale">2</data></edge>
    <edge source="socket" target="core"><data key="id_scope">1</data><data key="multi_scale">3</data></edge>
  </graph>
</graphml>"#;

    #[test]
    fn expands_breadth_wise_with_scoped_ids() {
        let mut g = ResourceGraph::new();
        read_grug(TINY, &mut g).unwrap();
        assert_eq!(g.vertex_count(), 1 + 2 + 4 + 12);
        let names: Vec<&str> = g.vertices.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            &names[..7],
            &[
                "tiny0", "node0", "node1", "socket0", "socket1", "socket0", "socket1"
            ]
        );
        // Cores are numbered per node: socket1 of node0 has core3..core5.
        assert_eq!(names[10], "core3");
        assert_eq!(names[13], "core0");
        let c = g.names.find_subsystem("containment").unwrap();
        assert_eq!(g.vertices[10].paths[&c], "/tiny0/node0/socket1/core3");
        assert_eq!(g.vertices[2].rank, 1);
        assert_eq!(g.vertices[3].rank, -1);
        assert_eq!(g.root(c), Some(VertexId(0)));
    }
}
