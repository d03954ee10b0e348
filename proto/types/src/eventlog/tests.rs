use serde_json::json;

use super::*;

const LOG: &str = r#"{"timestamp":1738774194.078433,"name":"submit","context":{"userid":1001,"urgency":16,"flags":0,"version":1}}
{"timestamp":1738774194.0947378,"name":"validate"}
{"timestamp":1738774194.1073177,"name":"depend"}
{"timestamp":1738774194.107436,"name":"priority","context":{"priority":16}}
{"timestamp":1738774194.110116,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank[0-3]/core[0-7]"}}}}
{"timestamp":1738774194.1177957,"name":"start"}
{"timestamp":1738774194.1820674,"name":"finish","context":{"status":0}}
{"timestamp":1738774194.1853716,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1738774194.1854134,"name":"free"}
{"timestamp":1738774194.1854289,"name":"clean"}
"#;

#[test]
fn round_trips_flux_eventlog_byte_for_byte() {
    let entries = parse(LOG).unwrap();
    assert_eq!(entries.len(), 10);
    assert_eq!(entries[0].name, "submit");
    assert_eq!(entries[0].context.get_i64("userid"), Some(1001));
    assert_eq!(entries[7].context.get_str("ranks"), Some("all"));
    assert_eq!(format(&entries), LOG);
    // Without the final newline too.
    assert_eq!(parse(LOG.trim_end()).unwrap(), entries);
}

#[test]
fn text_form() {
    let entries = parse(LOG).unwrap();
    assert_eq!(
        entries[0].to_text(),
        "1738774194.078433 submit userid=1001 urgency=16 flags=0 version=1"
    );
    assert_eq!(
        entries[7].to_text(),
        "1738774194.185372 release ranks=\"all\" final=true"
    );
    assert_eq!(entries[1].to_text(), "1738774194.094738 validate");
}

#[test]
fn build_entries() {
    let e = Entry::new(1.5, "exception")
        .with("type", "cancel")
        .with("severity", 0)
        .with("note", "");
    assert_eq!(
        e.to_line(),
        "{\"timestamp\":1.5,\"name\":\"exception\",\"context\":{\"type\":\"cancel\",\"severity\":0,\"note\":\"\"}}\n"
    );
    let mut c = Context::new().with("b", 1).with("a", 2);
    c.insert("b", 3);
    assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"b":3,"a":2}"#);
    assert_eq!(c.remove("b"), Some(json!(3)));
    assert_eq!(c.len(), 1);
    let from_map: Context = json!({"x": 1}).as_object().unwrap().clone().into();
    assert_eq!(from_map.to_map(), *json!({"x": 1}).as_object().unwrap());
    assert_eq!(
        Entry::new(2.0, "start").to_line(),
        "{\"timestamp\":2.0,\"name\":\"start\"}\n"
    );
}

#[test]
fn errors_have_line_numbers() {
    assert_eq!(parse("").unwrap(), vec![]);
    assert_eq!(parse("\n").unwrap(), vec![]);
    let bad = "{\"timestamp\":1,\"name\":\"a\"}\nnot json\n";
    assert!(matches!(
        parse(bad),
        Err(EventlogError::Line { line: 2, .. })
    ));
    let empty_line = "{\"timestamp\":1,\"name\":\"a\"}\n\n{\"timestamp\":2,\"name\":\"b\"}\n";
    assert!(matches!(
        parse(empty_line),
        Err(EventlogError::Line { line: 2, .. })
    ));
    for bad in [
        r#"{"name":"a"}"#,
        r#"{"timestamp":1}"#,
        r#"{"timestamp":"1","name":"a"}"#,
        r#"{"timestamp":-1,"name":"a"}"#,
        r#"{"timestamp":1,"name":""}"#,
        r#"{"timestamp":1,"name":"a","context":[]}"#,
        r#"{"timestamp":1,"name":"a","context":1}"#,
        "[]",
    ] {
        assert!(Entry::parse(bad).is_err(), "{bad}");
        assert!(
            matches!(parse(bad), Err(EventlogError::Line { line: 1, .. })),
            "{bad}"
        );
    }
    assert!(Entry::parse("{\"timestamp\":1,\n\"name\":\"a\"}").is_err());
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn entry() -> impl Strategy<Value = Entry> {
        (
            0.0f64..2e9,
            "[a-z][a-z.-]{0,12}",
            prop::collection::vec(("[a-z_]{1,6}", any::<i64>()), 0..4),
        )
            .prop_map(|(t, name, ctx)| {
                let mut e = Entry::new(t, name);
                for (k, v) in ctx {
                    e.context.insert(k, v);
                }
                e
            })
    }

    proptest! {
        #[test]
        fn eventlog_round_trip(entries in prop::collection::vec(entry(), 0..10)) {
            let text = format(&entries);
            prop_assert_eq!(parse(&text).unwrap(), entries.clone());
            prop_assert_eq!(text.lines().count(), entries.len());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,64}") {
            let _ = parse(&s);
        }
    }
}
