//! Match output formats (`-F`): simple, pretty_simple, jgf, rlite, rv1, rv1_nosched.

mod encode;
mod jgf;
mod rv1;

pub use encode::{hostlist, idset};
pub use jgf::{jgf_object, jgf_shorthand_object};
pub use rv1::{r_lite, rv1};

use crate::graph::ResourceGraph;
use crate::traverser::Emitted;

/// Output format of a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchFormat {
    /// One line per vertex in post-order: `---…name[needs:x|s]`.
    Simple,
    /// The same, reversed, with `exclusive`/`shared` spelled out.
    PrettySimple,
    /// JSON Graph Format of the selected subgraph.
    Jgf,
    /// JGF without the subtrees below exclusive vertices.
    JgfShorthand,
    /// The R_lite array.
    Rlite,
    /// RFC 20 R with the JGF `scheduling` key.
    Rv1,
    /// RFC 20 R without `scheduling`.
    Rv1Nosched,
    /// RFC 20 R with the shorthand JGF as `scheduling`.
    Rv1Shorthand,
}

impl std::str::FromStr for MatchFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "simple" => Ok(Self::Simple),
            "pretty_simple" => Ok(Self::PrettySimple),
            "jgf" => Ok(Self::Jgf),
            "jgf_shorthand" => Ok(Self::JgfShorthand),
            "rv1_shorthand" => Ok(Self::Rv1Shorthand),
            "rlite" => Ok(Self::Rlite),
            "rv1" => Ok(Self::Rv1),
            "rv1_nosched" => Ok(Self::Rv1Nosched),
            other => Err(format!("unsupported match format: {other}")),
        }
    }
}

fn line(g: &ResourceGraph, level: u32, v: crate::graph::VertexId, needs: i64, x: &str) -> String {
    let mut s = String::from("      ");
    for _ in 0..level {
        s.push_str("---");
    }
    s.push_str(&g.vertex(v).name);
    s.push_str(&format!("[{needs}:{x}]\n"));
    s
}

/// Renders one match that holds its resources over `[start, end)`.
pub fn write_match(
    g: &ResourceGraph,
    emitted: &[Emitted],
    format: MatchFormat,
    start: i64,
    end: i64,
) -> String {
    let vertices = emitted.iter().filter_map(|e| match e {
        Emitted::Vertex {
            v,
            level,
            needs,
            exclusive,
        } => Some((*v, *level, *needs, *exclusive)),
        Emitted::Edge(_) => None,
    });
    match format {
        MatchFormat::Simple => vertices
            .map(|(v, l, n, x)| line(g, l, v, n, if x { "x" } else { "s" }))
            .collect(),
        MatchFormat::PrettySimple => {
            let lines: Vec<String> = vertices
                .map(|(v, l, n, x)| line(g, l, v, n, if x { "exclusive" } else { "shared" }))
                .collect();
            lines.into_iter().rev().collect()
        }
        MatchFormat::Jgf => format!("{}\n", jgf_object(g, emitted)),
        MatchFormat::Rlite => format!("{}\n", r_lite(g, emitted)),
        MatchFormat::Rv1 => format!(
            "{}\n",
            rv1(g, emitted, start, end, Some(&jgf_object(g, emitted)))
        ),
        MatchFormat::Rv1Nosched => format!("{}\n", rv1(g, emitted, start, end, None)),
        MatchFormat::JgfShorthand => format!("{}\n", jgf_shorthand_object(g, emitted)),
        MatchFormat::Rv1Shorthand => {
            let sched = jgf_shorthand_object(g, emitted);
            format!("{}\n", rv1(g, emitted, start, end, Some(&sched)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Status, Vertex, VertexId};

    #[test]
    fn simple_and_pretty() {
        let mut g = ResourceGraph::new();
        for (i, name) in ["tiny0", "core3"].iter().enumerate() {
            let ty = g.names.intern_type("t");
            g.add_vertex(Vertex {
                ty,
                basename: String::new(),
                name: name.to_string(),
                id: i as i64,
                uniq_id: i as i64,
                rank: -1,
                size: 1,
                unit: String::new(),
                properties: Default::default(),
                paths: Default::default(),
                status: Status::Up,
            });
        }
        let em = [
            Emitted::Vertex {
                v: VertexId(1),
                level: 2,
                needs: 1,
                exclusive: true,
            },
            Emitted::Vertex {
                v: VertexId(0),
                level: 1,
                needs: 1,
                exclusive: false,
            },
        ];
        assert_eq!(
            write_match(&g, &em, MatchFormat::Simple, 0, 1),
            "      ------core3[1:x]\n      ---tiny0[1:s]\n"
        );
        assert_eq!(
            write_match(&g, &em, MatchFormat::PrettySimple, 0, 1),
            "      ---tiny0[1:shared]\n      ------core3[1:exclusive]\n"
        );
    }
}
