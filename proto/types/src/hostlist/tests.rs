use proptest::prelude::*;

use super::*;

fn hl(s: &str) -> Hostlist {
    s.parse().unwrap()
}

fn expand(s: &str) -> Vec<String> {
    hl(s).iter().collect()
}

#[test]
fn rfc29_vectors() {
    assert!(expand("").is_empty());
    assert_eq!(expand("foox,fooy,fooz"), ["foox", "fooy", "fooz"]);
    assert_eq!(expand("[1-3,5-6]"), ["1", "2", "3", "5", "6"]);
    assert_eq!(expand("foo[1-5]"), ["foo1", "foo2", "foo3", "foo4", "foo5"]);
    assert_eq!(
        expand("foo[0-4]-eth2"),
        [
            "foo0-eth2",
            "foo1-eth2",
            "foo2-eth2",
            "foo3-eth2",
            "foo4-eth2"
        ]
    );
    assert_eq!(expand("foo1,foo1,foo1"), ["foo1", "foo1", "foo1"]);
    assert_eq!(expand("[00-02]"), ["00", "01", "02"]);
    assert_eq!(expand("[00-2]"), ["00", "01", "02"]);
    assert_eq!(expand("foo[1,1,2,1]"), ["foo1", "foo1", "foo2", "foo1"]);
    assert_eq!(
        expand("foo[005,4,11-13]"),
        ["foo005", "foo004", "foo011", "foo012", "foo013"]
    );
}

#[test]
fn compressed_format() {
    let f = |s: &str| hl(s).to_string();
    assert_eq!(f("node186,node187,node188,node189"), "node[186-189]");
    assert_eq!(f("fluke66"), "fluke66");
    assert_eq!(f("pi,pi"), "pi,pi");
    assert_eq!(f("test1,test128"), "test[1,128]");
    assert_eq!(f("fluke[6-16,19-23],fluke25"), "fluke[6-16,19-23,25]");
    assert_eq!(f("foo[1,1,2,1]"), "foo[1,1-2,1]");
    assert_eq!(f("foo[00-02]"), "foo[00-02]");
    assert_eq!(f("foo[8-11]"), "foo[8-11]");
    assert_eq!(f("foo09,foo10"), "foo[09-10]");
    assert_eq!(f("foo1,foo01"), "foo1,foo01");
    assert_eq!(f("foo01,foo1"), "foo01,foo1");
    assert_eq!(f("a1,b2,a3"), "a1,b2,a3");
    assert_eq!(f("node[1-4,7],login0"), "node[1-4,7],login0");
    assert_eq!(f("[1-3,5-6]"), "[1-3,5-6]");
    assert_eq!(f("foo,foo1"), "foo,foo1");
    assert_eq!(f("foo[3,2,1]"), "foo[3,2,1]");
    assert_eq!(
        f("foo[0-4]-eth2"),
        "foo0-eth2,foo1-eth2,foo2-eth2,foo3-eth2,foo4-eth2"
    );
    assert_eq!(f("n99999999999999999999999"), "n99999999999999999999999");
}

#[test]
fn parse_errors() {
    use HostlistError::*;
    assert!(matches!(Hostlist::parse("foo[1-2"), Err(Brackets(_))));
    assert!(matches!(Hostlist::parse("foo]"), Err(Brackets(_))));
    assert!(matches!(Hostlist::parse("foo[[1]]"), Err(Brackets(_))));
    assert!(matches!(Hostlist::parse("a[1]b[2]"), Err(Brackets(_))));
    assert!(matches!(Hostlist::parse("foo[]"), Err(EmptyElement(_))));
    assert!(matches!(Hostlist::parse("a,,b"), Err(EmptyElement(_))));
    assert!(matches!(Hostlist::parse("a,"), Err(EmptyElement(_))));
    assert!(matches!(Hostlist::parse("foo[1,]"), Err(Range { .. })));
    assert!(matches!(Hostlist::parse("foo[a]"), Err(Range { .. })));
    assert!(matches!(Hostlist::parse("foo[1-2-3]"), Err(Range { .. })));
    assert!(matches!(Hostlist::parse("foo[3-1]"), Err(Reversed { .. })));
    assert!(matches!(Hostlist::parse("foo bar"), Err(Character(_))));
    assert!(matches!(Hostlist::parse("héllo"), Err(Character(_))));
    assert!(matches!(
        Hostlist::parse("a[0-99999999]b"),
        Err(TooLarge(_))
    ));
}

#[test]
fn nth_index_len() {
    let h = hl("node[1-4,7],login0,node[01-02]");
    assert_eq!(h.len(), 8);
    assert_eq!(h.nth(0).as_deref(), Some("node1"));
    assert_eq!(h.nth(4).as_deref(), Some("node7"));
    assert_eq!(h.nth(5).as_deref(), Some("login0"));
    assert_eq!(h.nth(7).as_deref(), Some("node02"));
    assert_eq!(h.nth(8), None);
    assert_eq!(h.index_of("node7"), Some(4));
    assert_eq!(h.index_of("login0"), Some(5));
    assert_eq!(h.index_of("node01"), Some(6));
    assert_eq!(h.index_of("node5"), None);
    assert_eq!(h.index_of("login"), None);
    assert!(h.contains("node3"));
    let big = hl("n[0-999999]");
    assert_eq!(big.len(), 1_000_000);
    assert_eq!(big.nth(999_999).as_deref(), Some("n999999"));
    assert_eq!(big.index_of("n500000"), Some(500_000));
}

#[test]
fn push_append_sort() {
    let mut h = Hostlist::new();
    assert!(h.is_empty());
    h.push("n3");
    h.push("n4");
    h.extend(["n1", "n2", "n2"]);
    assert_eq!(h.to_string(), "n[3-4,1-2,2]");
    let mut other = hl("n5");
    other.append(&h);
    assert_eq!(other.to_string(), "n[5,3-4,1-2,2]");
    other.sort();
    assert_eq!(other.to_string(), "n[1-2,2-5]");
    other.sort_unique();
    assert_eq!(other.to_string(), "n[1-5]");
    let mut mixed = hl("b,a10,a9,a");
    mixed.sort();
    assert_eq!(mixed.to_string(), "a,a[9-10],b");
}

#[test]
fn set_operations() {
    let a = hl("n[1-5],login1");
    let b = hl("n[4-8]");
    assert_eq!(a.intersection(&b).to_string(), "n[4-5]");
    assert_eq!(a.difference(&b).to_string(), "n[1-3],login1");
    assert_eq!(a.union(&b).to_string(), "login1,n[1-8]");
}

#[test]
fn serde_as_string() {
    let h = hl("node[186-189]");
    assert_eq!(serde_json::to_string(&h).unwrap(), "\"node[186-189]\"");
    assert_eq!(
        serde_json::from_str::<Hostlist>("\"node186,node[187-189]\"").unwrap(),
        h
    );
    assert!(serde_json::from_str::<Hostlist>("\"a[\"").is_err());
}

fn hostname() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-c]{1,2}", 0u64..30).prop_map(|(p, n)| format!("{p}{n}")),
        ("[a-c]{1,2}", 0u64..30).prop_map(|(p, n)| format!("{p}{n:03}")),
        "[a-c]{1,3}",
        (0u64..12).prop_map(|n| n.to_string()),
        ("[a-c]{1,2}", 0u64..5, 0u64..3).prop_map(|(p, n, m)| format!("{p}{n}-eth{m}")),
        ("[a-c]{1,2}-", 0u64..15).prop_map(|(p, n)| format!("{p}{n:02}")),
    ]
}

proptest! {
    #[test]
    fn format_parse_round_trip(hosts in prop::collection::vec(hostname(), 0..30)) {
        let h: Hostlist = hosts.iter().collect();
        prop_assert_eq!(h.iter().collect::<Vec<_>>(), hosts.clone());
        prop_assert_eq!(h.len(), hosts.len());
        let text = h.to_string();
        let back = Hostlist::parse(&text).unwrap();
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), hosts.clone(), "{}", text);
        prop_assert_eq!(&back, &h);
        for (i, name) in hosts.iter().enumerate() {
            prop_assert_eq!(h.nth(i), Some(name.clone()));
            let first = hosts.iter().position(|x| x == name);
            prop_assert_eq!(h.index_of(name), first);
        }
        let plain = hosts.join(",");
        prop_assert_eq!(Hostlist::parse(&plain).map(|p| p.to_string()), Ok(text));
    }

    #[test]
    fn parse_never_panics(s in "[a-c0-9,\\-\\[\\]]{0,20}") {
        let _ = Hostlist::parse(&s);
    }
}
