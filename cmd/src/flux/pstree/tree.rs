//! The job tree as `flux pstree` draws it: plain data, no I/O.

/// One job (or a group of identical leaves) in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub label: String,
    /// The extended details printed before the tree part (`-x`, `-d`).
    pub details: Option<String>,
    pub children: Vec<Node>,
}

/// Tree connectors.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub branch: &'static str,
    pub last: &'static str,
    pub pipe: &'static str,
    pub blank: &'static str,
}

impl Style {
    pub const UNICODE: Style = Style {
        branch: "├── ",
        last: "└── ",
        pipe: "│   ",
        blank: "    ",
    };
    pub const COMPACT: Style = Style {
        branch: "├ ",
        last: "└ ",
        pipe: "│ ",
        blank: "  ",
    };
    pub const ASCII: Style = Style {
        branch: "|-- ",
        last: "`-- ",
        pipe: "|   ",
        blank: "    ",
    };
}

/// Combine identical leaves among siblings as `N*[label]`, at the place of the first one
/// (leaves with details are never combined: each line says something different).
pub fn combine(nodes: Vec<Node>) -> Vec<Node> {
    let mut out: Vec<(Node, usize)> = Vec::new();
    for mut node in nodes {
        node.children = combine(std::mem::take(&mut node.children));
        let same = |(n, _): &&mut (Node, usize)| {
            n.children.is_empty() && n.details.is_none() && n.label == node.label
        };
        if node.children.is_empty()
            && node.details.is_none()
            && let Some(entry) = out.iter_mut().find(|e| same(e))
        {
            entry.1 += 1;
            continue;
        }
        out.push((node, 1));
    }
    out.into_iter()
        .map(|(mut node, count)| {
            if count > 1 {
                node.label = format!("{count}*[{}]", node.label);
            }
            node
        })
        .collect()
}

/// The lines of `roots`: each root at the left margin, its descendants with connectors.
pub fn render(roots: &[Node], style: Style) -> Vec<String> {
    let mut lines = Vec::new();
    for root in roots {
        line(&mut lines, root, "", "");
        walk(&mut lines, &root.children, "", style);
    }
    lines
}

fn line(lines: &mut Vec<String>, node: &Node, prefix: &str, connector: &str) {
    let details = node.details.as_deref().map(|d| format!("{d} "));
    lines.push(format!(
        "{}{prefix}{connector}{}",
        details.unwrap_or_default(),
        node.label
    ));
}

fn walk(lines: &mut Vec<String>, nodes: &[Node], prefix: &str, style: Style) {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        line(
            lines,
            node,
            prefix,
            if last { style.last } else { style.branch },
        );
        let deeper = format!("{prefix}{}", if last { style.blank } else { style.pipe });
        walk(lines, &node.children, &deeper, style);
    }
}

/// Cut `line` to `width` characters.
pub fn truncate(line: &str, width: usize) -> String {
    line.chars().take(width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Node {
        fn leaf(label: &str) -> Node {
            parent(label, Vec::new())
        }
    }

    fn parent(label: &str, children: Vec<Node>) -> Node {
        Node {
            label: label.into(),
            details: None,
            children,
        }
    }

    #[test]
    fn draws_like_flux_core() {
        let root = parent(
            ".",
            combine(vec![parent(
                "flux",
                vec![
                    parent("flux", vec![Node::leaf("sleep"), Node::leaf("sleep")]),
                    parent("flux", vec![Node::leaf("sleep")]),
                ],
            )]),
        );
        let lines = render(&[root], Style::UNICODE);
        assert_eq!(
            lines,
            [
                ".",
                "└── flux",
                "    ├── flux",
                "    │   └── 2*[sleep]",
                "    └── flux",
                "        └── sleep",
            ]
        );
    }

    #[test]
    fn combines_identical_leaves_only() {
        let nodes = combine(vec![
            Node::leaf("sleep:PD"),
            Node::leaf("flux:CD"),
            Node::leaf("sleep:PD"),
            parent("flux", vec![Node::leaf("x")]),
            parent("flux", vec![Node::leaf("x")]),
        ]);
        let labels: Vec<_> = nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["2*[sleep:PD]", "flux:CD", "flux", "flux"]);
    }

    #[test]
    fn details_come_first() {
        let mut top = parent("flux", vec![Node::leaf("sleep")]);
        top.details = Some("A".into());
        top.children[0].details = Some("B".into());
        assert_eq!(render(&[top], Style::ASCII), ["A flux", "B `-- sleep"]);
        assert_eq!(truncate("abcdef", 3), "abc");
    }
}
