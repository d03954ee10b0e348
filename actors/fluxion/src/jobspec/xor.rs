//! Expansion of `xor_slot` alternatives into candidate jobspecs (flexible traverser).

use super::{Jobspec, Resource};

/// Type name of an exclusive-or slot alternative (flexible traverser).
pub const XOR_SLOT: &str = "xor_slot";

/// Most candidate jobspecs an xor expansion yields.
pub const MAX_XOR_EXPANSIONS: usize = 1000;

fn expand_list(list: &[Resource]) -> Vec<Vec<Resource>> {
    let xors: Vec<usize> = (0..list.len())
        .filter(|i| list[*i].ty == XOR_SLOT)
        .collect();
    let choices: Vec<Option<usize>> = if xors.is_empty() {
        vec![None]
    } else {
        xors.iter().map(|i| Some(*i)).collect()
    };
    let mut out = Vec::new();
    for choice in choices {
        // The chosen alternative becomes a plain slot; the other alternatives drop out.
        let base: Vec<Resource> = list
            .iter()
            .enumerate()
            .filter(|(i, r)| r.ty != XOR_SLOT || Some(*i) == choice)
            .map(|(_, r)| {
                let mut r = r.clone();
                if r.ty == XOR_SLOT {
                    r.ty = "slot".into();
                }
                r
            })
            .collect();
        let mut combos: Vec<Vec<Resource>> = vec![Vec::new()];
        for r in &base {
            let variants: Vec<Resource> = expand_list(&r.with)
                .into_iter()
                .map(|with| Resource { with, ..r.clone() })
                .collect();
            let mut next = Vec::new();
            for c in &combos {
                for v in &variants {
                    if next.len() >= MAX_XOR_EXPANSIONS {
                        break;
                    }
                    let mut c = c.clone();
                    c.push(v.clone());
                    next.push(c);
                }
            }
            combos = next;
        }
        out.extend(combos);
        if out.len() >= MAX_XOR_EXPANSIONS {
            out.truncate(MAX_XOR_EXPANSIONS);
            break;
        }
    }
    out
}

impl Jobspec {
    /// Whether any resource is an `xor_slot`.
    pub fn has_xor_slots(&self) -> bool {
        fn any(rs: &[Resource]) -> bool {
            rs.iter().any(|r| r.ty == XOR_SLOT || any(&r.with))
        }
        any(&self.resources)
    }

    /// The candidate jobspecs of an xor request: each picks one `xor_slot` alternative
    /// per sibling group (as a plain `slot`), in order, at most [`MAX_XOR_EXPANSIONS`].
    pub fn expand_xor(&self) -> Vec<Jobspec> {
        expand_list(&self.resources)
            .into_iter()
            .map(|resources| Jobspec {
                resources,
                ..self.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_slots_expand_in_order() {
        let js = Jobspec::parse(
            "version: 9999\nresources:\n  - type: xor_slot\n    count: 2\n    label: a\n    with:\n      - type: core\n        count: 1\n  - type: xor_slot\n    count: 3\n    label: a\n    with:\n      - type: gpu\n        count: 1\nattributes:\n  system:\n    duration: 1\ntasks:\n  - command: [app]\n    slot: t\n    count:\n      per_slot: 1\n",
        )
        .unwrap();
        assert!(js.has_xor_slots());
        let c = js.expand_xor();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].resources.len(), 1);
        assert_eq!(
            (c[0].resources[0].ty.as_str(), c[0].resources[0].count.min),
            ("slot", 2)
        );
        assert_eq!(c[1].resources[0].with[0].ty, "gpu");
    }
}
