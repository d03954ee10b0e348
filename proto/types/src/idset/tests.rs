use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn set(s: &str) -> IdSet {
    s.parse().unwrap()
}

#[test]
fn parse_and_format() {
    assert_eq!(set("").to_string(), "");
    assert_eq!(set("[]").to_string(), "");
    assert_eq!(set("1,2,3,5,6,42").to_string(), "1-3,5-6,42");
    assert_eq!(set("[1-3,5-6,42]").to_string(), "1-3,5-6,42");
    assert_eq!(set("2,3").to_string(), "2-3");
    assert_eq!(set("7").to_string(), "7");
    assert_eq!(set("5,1,3-4,2").to_string(), "1-5");
    assert_eq!(set("0-3,2-6").to_string(), "0-6");
    assert_eq!(set("0-4294967295").count(), 1 << 32);
    assert_eq!(set("0-3,7").to_bracketed(), "[0-3,7]");
    assert_eq!(set("7").to_bracketed(), "7");
    assert_eq!(set("").to_bracketed(), "");
}

#[test]
fn parse_errors() {
    use IdSetError::*;
    assert!(matches!(IdSet::parse("a"), Err(Character(_))));
    assert!(matches!(IdSet::parse("1 ,2"), Err(Character(_))));
    assert!(matches!(IdSet::parse("[1-2"), Err(Brackets(_))));
    assert!(matches!(IdSet::parse("1-2]"), Err(Brackets(_))));
    assert!(matches!(IdSet::parse("[1,[2]]"), Err(Brackets(_))));
    assert!(matches!(IdSet::parse("1,,2"), Err(EmptyElement(_))));
    assert!(matches!(IdSet::parse("1,"), Err(EmptyElement(_))));
    assert!(matches!(IdSet::parse("1-"), Err(Element { .. })));
    assert!(matches!(IdSet::parse("1-2-3"), Err(Element { .. })));
    assert!(matches!(IdSet::parse("-1"), Err(Element { .. })));
    assert!(matches!(
        IdSet::parse("3-1"),
        Err(Reversed { lo: 3, hi: 1, .. })
    ));
    assert!(matches!(IdSet::parse("4294967296"), Err(TooLarge { .. })));
}

#[test]
fn insert_remove_contains() {
    let mut s = IdSet::new();
    assert!(s.insert(5));
    assert!(!s.insert(5));
    assert!(s.insert(3));
    assert!(s.insert(4));
    assert_eq!(s.to_string(), "3-5");
    s.insert_range(10, 20);
    assert_eq!(s.to_string(), "3-5,10-20");
    assert!(s.remove(15));
    assert!(!s.remove(15));
    assert_eq!(s.to_string(), "3-5,10-14,16-20");
    s.remove_range(4, 11);
    assert_eq!(s.to_string(), "3,12-14,16-20");
    s.insert_range(6, 15);
    assert_eq!(s.to_string(), "3,6-20");
    assert!(s.contains(3) && s.contains(20) && !s.contains(4) && !s.contains(21));
    assert_eq!((s.first(), s.last(), s.count()), (Some(3), Some(20), 16));
    s.insert(u32::MAX);
    s.insert(u32::MAX - 1);
    assert_eq!(s.last(), Some(u32::MAX));
    assert_eq!(s.iter().last(), Some(u32::MAX));
    s.remove_range(0, u32::MAX);
    assert!(s.is_empty());
    assert_eq!((s.first(), s.last()), (None, None));
}

#[test]
fn nth_and_index_of() {
    let s = set("1-3,10,20-21");
    assert_eq!(s.nth(0), Some(1));
    assert_eq!(s.nth(3), Some(10));
    assert_eq!(s.nth(5), Some(21));
    assert_eq!(s.nth(6), None);
    assert_eq!(s.index_of(10), Some(3));
    assert_eq!(s.index_of(21), Some(5));
    assert_eq!(s.index_of(5), None);
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2, 3, 10, 20, 21]);
    assert_eq!(
        s.ranges().collect::<Vec<_>>(),
        vec![(1, 3), (10, 10), (20, 21)]
    );
}

#[test]
fn set_operations() {
    let a = set("0-9");
    let b = set("5-14,20");
    assert_eq!((&a | &b).to_string(), "0-14,20");
    assert_eq!((&a & &b).to_string(), "5-9");
    assert_eq!((&a - &b).to_string(), "0-4");
    assert_eq!((&b - &a).to_string(), "10-14,20");
    assert!(set("1-2").is_subset(&a));
    assert!(!b.is_subset(&a));
    assert!(set("10-12").is_disjoint(&a));
    assert_eq!(
        set("0-4294967295")
            .difference(&set("1-4294967294"))
            .to_string(),
        "0,4294967295"
    );
}

#[test]
fn serde_as_string() {
    let s = set("0-3,7");
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"0-3,7\"");
    assert_eq!(serde_json::from_str::<IdSet>("\"[0-3,7]\"").unwrap(), s);
    assert!(serde_json::from_str::<IdSet>("\"x\"").is_err());
    assert!(serde_json::from_str::<IdSet>("3").is_err());
}

fn model() -> impl Strategy<Value = BTreeSet<u32>> {
    prop::collection::btree_set(0u32..200, 0..60)
}

proptest! {
    #[test]
    fn format_parse_round_trip(ids in model()) {
        let s: IdSet = ids.iter().copied().collect();
        prop_assert_eq!(s.iter().collect::<BTreeSet<_>>(), ids.clone());
        prop_assert_eq!(s.count(), ids.len() as u64);
        prop_assert_eq!(IdSet::parse(&s.to_string()), Ok(s.clone()));
        prop_assert_eq!(IdSet::parse(&s.to_bracketed()), Ok(s.clone()));
        let plain = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        prop_assert_eq!(IdSet::parse(&plain), Ok(s.clone()));
    }

    #[test]
    fn ops_match_btreeset(a in model(), b in model()) {
        let (sa, sb): (IdSet, IdSet) = (a.iter().copied().collect(), b.iter().copied().collect());
        let u: BTreeSet<u32> = a.union(&b).copied().collect();
        let i: BTreeSet<u32> = a.intersection(&b).copied().collect();
        let d: BTreeSet<u32> = a.difference(&b).copied().collect();
        prop_assert_eq!(sa.union(&sb).iter().collect::<BTreeSet<_>>(), u);
        prop_assert_eq!(sa.intersection(&sb).iter().collect::<BTreeSet<_>>(), i);
        prop_assert_eq!(sa.difference(&sb).iter().collect::<BTreeSet<_>>(), d.clone());
        // Results are canonical: equal to the set rebuilt id by id.
        prop_assert_eq!(sa.difference(&sb), d.iter().copied().collect::<IdSet>());
        prop_assert_eq!(sa.is_subset(&sb), a.is_subset(&b));
    }

    #[test]
    fn insert_remove_match_btreeset(ops in prop::collection::vec((any::<bool>(), 0u32..100, 0u32..10), 0..50)) {
        let mut s = IdSet::new();
        let mut m = BTreeSet::new();
        for (add, lo, len) in ops {
            if add {
                s.insert_range(lo, lo + len);
                m.extend(lo..=lo + len);
            } else {
                s.remove_range(lo, lo + len);
                for id in lo..=lo + len { m.remove(&id); }
            }
            prop_assert_eq!(s.iter().collect::<BTreeSet<_>>(), m.clone());
            prop_assert_eq!(&s, &m.iter().copied().collect::<IdSet>());
        }
        for (n, id) in m.iter().enumerate() {
            prop_assert_eq!(s.nth(n as u64), Some(*id));
            prop_assert_eq!(s.index_of(*id), Some(n as u64));
        }
    }

    #[test]
    fn parse_never_panics(s in "[0-9,\\-\\[\\]]{0,20}") {
        let _ = IdSet::parse(&s);
    }
}
