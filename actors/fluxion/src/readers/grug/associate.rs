//! GRUG association generators: link recipe instances to vertices that already exist
//! (e.g. a power subsystem over containment's pdus and nodes) instead of creating new ones.

use super::{Generator, RecipeEdge};
use crate::graph::VertexId;

/// `path` without its last `levels` components.
fn up(path: &str, levels: i64) -> &str {
    let mut p = path;
    for _ in 0..levels.max(0) {
        p = p.rfind('/').map(|i| &p[..i]).unwrap_or("");
    }
    p
}

impl Generator<'_> {
    /// ASSOCIATE_IN links every source instance to every existing vertex of the target's
    /// type; ASSOCIATE_BY_PATH_IN only where the `as_tgt_subsystem` paths agree after
    /// going up `as_tgt_uplvl` / `as_src_uplvl` levels. The linked vertices become the
    /// target recipe's instances and get a path in the edge's subsystem.
    pub(super) fn associate(&mut self, r: usize, e: &RecipeEdge) {
        let subsystem = self.g.names.intern_subsystem(&e.subsystem);
        let by_path = e.gen_method == "ASSOCIATE_BY_PATH_IN";
        let cmp = self.g.names.intern_subsystem(&e.as_tgt_subsystem);
        let ty = self.g.names.intern_type(&self.recipes[e.target].ty);
        let candidates: Vec<VertexId> = self.g.by_type.get(&ty).cloned().unwrap_or_default();
        let sources = self.instances[r].clone();
        for src in sources {
            let src_key = self
                .g
                .vertex(src)
                .paths
                .get(&cmp)
                .map(|p| up(p, e.as_src_uplvl).to_string());
            let src_path = self
                .g
                .vertex(src)
                .paths
                .get(&subsystem)
                .cloned()
                .unwrap_or_default();
            for &tgt in &candidates {
                if tgt == src {
                    continue;
                }
                if by_path {
                    let tgt_key = self
                        .g
                        .vertex(tgt)
                        .paths
                        .get(&cmp)
                        .map(|p| up(p, e.as_tgt_uplvl));
                    if src_key.is_none() || tgt_key != src_key.as_deref() {
                        continue;
                    }
                }
                self.g.add_edge(src, tgt, subsystem);
                if self.g.vertex(tgt).paths.get(&subsystem).is_none() {
                    let path = format!("{src_path}/{}", self.g.vertex(tgt).name);
                    self.g.set_path(tgt, subsystem, path);
                }
                if !self.instances[e.target].contains(&tgt) {
                    self.instances[e.target].push(tgt);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::up;

    #[test]
    fn path_levels() {
        assert_eq!(up("/c0/rack1/node3", 1), "/c0/rack1");
        assert_eq!(up("/c0/rack1/node3", 2), "/c0");
        assert_eq!(up("/c0", 3), "");
    }
}
