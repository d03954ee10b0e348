use serde_json::json;

use super::*;

mod builder;
mod props;

/// jobspec.md §6 without environment and rlimit.
pub(super) const DRY_RUN_N2_N4_C2: &str = r#"{"resources": [{"type": "node", "count": 2, "with": [{"type": "slot", "count": 2, "with": [{"type": "core", "count": 2}], "label": "task"}]}], "tasks": [{"command": ["hostname"], "slot": "task", "count": {"per_slot": 1}}], "attributes": {"system": {"duration": 0, "cwd": "/home/alice"}}, "version": 1}"#;

pub(super) fn minimal() -> serde_json::Value {
    json!({
        "version": 1,
        "resources": [{"type": "slot", "count": 1, "label": "task",
                       "with": [{"type": "core", "count": 1}]}],
        "tasks": [{"command": ["true"], "slot": "task", "count": {"per_slot": 1}}],
        "attributes": {"system": {"duration": 0}}
    })
}

fn parse_err(v: serde_json::Value) -> JobspecError {
    Jobspec::from_value(v).unwrap_err()
}

#[test]
fn dependency_uri() {
    let d = Dependency::parse_uri("afterany:123?a=1&b=x&a=2.5").unwrap();
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({"scheme": "afterany", "value": "123", "a": [1, 2.5], "b": "x"})
    );
    assert_eq!(
        Dependency::parse_uri("singleton:").unwrap(),
        Dependency::new("singleton", "")
    );
    assert!(Dependency::parse_uri("nocolon").is_err());
    assert!(Dependency::parse_uri(":x").is_err());
}

#[test]
fn validated_jobspecs_decode_as_parse_does() {
    for text in [DRY_RUN_N2_N4_C2.to_string(), minimal().to_string()] {
        let full = Jobspec::parse(&text).unwrap();
        assert_eq!(Jobspec::parse_validated(&text).unwrap(), full);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(Jobspec::from_validated_value(value).unwrap(), full);
    }
    assert!(Jobspec::parse_validated("{\"version\": 1}").is_err());
}

#[test]
fn parse_valid_variants() {
    Jobspec::from_value(minimal()).unwrap();
    let mut v = minimal();
    v["resources"] = json!([{"type": "node", "count": 1, "exclusive": true, "with": [
        {"type": "slot", "count": 2, "label": "x", "exclusive": true,
         "with": [{"type": "gpu", "count": 1}, {"type": "core", "count": 4}]}]}]);
    v["tasks"][0]["slot"] = json!("x");
    v["tasks"][0]["count"] = json!({"total": 3});
    v["attributes"]["system"]["duration"] = json!(3600.5);
    v["attributes"]["system"]["environment"] = json!({"A": "b"});
    v["attributes"]["system"]["preemptible-after"] = json!(10);
    v["attributes"]["user"] = json!({"anything": [1, 2]});
    let js = Jobspec::from_value(v).unwrap();
    assert_eq!(js.duration(), 3600.5);
    assert_eq!(js.ntasks(), 3);
    assert_eq!(js.attributes.system.other["preemptible-after"], json!(10));
    assert!(js.exclusive());
}

#[test]
fn parse_errors_are_typed() {
    use JobspecError::*;
    assert!(matches!(Jobspec::parse("{"), Err(Json(_))));
    assert!(matches!(Jobspec::parse("[]"), Err(Type { .. })));
    let mut v = minimal();
    v.as_object_mut().unwrap().remove("tasks");
    assert_eq!(parse_err(v), MissingKey("tasks".into()));
    let mut v = minimal();
    v["extra"] = json!(1);
    assert_eq!(parse_err(v), UnknownKey("extra".into()));
    let mut v = minimal();
    v["version"] = json!(2);
    assert_eq!(parse_err(v), UnsupportedVersion("2".into()));
    let mut v = minimal();
    v["resources"] = json!([]);
    assert!(matches!(parse_err(v), Type { .. }));
    let mut v = minimal();
    v["attributes"] = json!({});
    assert_eq!(parse_err(v), MissingKey("attributes.system".into()));
    let mut v = minimal();
    v["attributes"] = json!({"system": {}});
    assert_eq!(
        parse_err(v),
        MissingKey("attributes.system.duration".into())
    );
    let mut v = minimal();
    v["attributes"]["system"]["duration"] = json!("1h");
    assert!(matches!(parse_err(v), Type { .. }));
    let mut v = minimal();
    v["attributes"]["system"]["duration"] = json!(-1);
    assert!(matches!(parse_err(v), Duration(_)));
    let mut v = minimal();
    v["attributes"]["other"] = json!({});
    assert_eq!(parse_err(v), UnknownKey("attributes.other".into()));
    let mut v = minimal();
    v["attributes"]["system"]["environment"] = json!([]);
    assert!(matches!(parse_err(v), Type { .. }));
    let mut v = minimal();
    v["attributes"]["system"]["dependencies"] = json!([{"scheme": "afterok"}]);
    assert_eq!(
        parse_err(v),
        MissingKey("attributes.system.dependencies[0].value".into())
    );
    let mut v = minimal();
    v["resources"][0]["count"] = json!(0);
    assert!(matches!(parse_err(v), Count { .. }));
    let mut v = minimal();
    v["resources"][0]["with"][0]["count"] = json!(1.5);
    assert!(matches!(parse_err(v), Count { .. }));
    let mut v = minimal();
    v["resources"][0]["count"] = json!({"min": 1});
    assert!(matches!(parse_err(v), Count { .. }));
    let mut v = minimal();
    v["resources"][0]["with"][0]["type"] = json!("socket");
    assert_eq!(parse_err(v), ResourceType("socket".into()));
    let mut v = minimal();
    v["resources"][0]["with"] = json!([{"type": "gpu", "count": 1}]);
    assert!(matches!(parse_err(v), Shape(_)));
    let mut v = minimal();
    v["resources"][0]["type"] = json!("core");
    assert!(matches!(parse_err(v), Shape(_)));
    let mut v = minimal();
    v["resources"][0].as_object_mut().unwrap().remove("label");
    assert_eq!(parse_err(v), MissingLabel);
    let mut v = minimal();
    v["resources"] = json!([v["resources"][0].clone(), v["resources"][0].clone()]);
    assert_eq!(
        parse_err(v),
        Cardinality {
            what: "resources",
            count: 2
        }
    );
    let mut v = minimal();
    v["tasks"][0]["slot"] = json!("nope");
    assert_eq!(parse_err(v), UnknownSlot("nope".into()));
    let mut v = minimal();
    v["tasks"][0]["command"] = json!([]);
    assert_eq!(parse_err(v), EmptyCommand);
    let mut v = minimal();
    v["tasks"][0]["count"] = json!({"per_slot": 1, "total": 2});
    assert!(matches!(parse_err(v), Type { .. }));
    let mut v = minimal();
    v["tasks"][0]["count"] = json!({"total": 0});
    assert!(matches!(parse_err(v), Count { .. }));
    let mut v = minimal();
    v["tasks"][0]["count"] = json!({"per_resource": {"type": "node", "count": 1}});
    assert!(matches!(parse_err(v), Count { .. }));
    let mut v = minimal();
    v["resources"][0]["bogus"] = json!(1);
    assert!(matches!(parse_err(v), Schema(_)));
}

#[test]
fn set_attribute_on_parsed() {
    let mut js = Jobspec::from_value(minimal()).unwrap();
    js.set_attribute("system.duration", json!(60)).unwrap();
    assert_eq!(js.duration(), 60.0);
    js.set_shell_option("cpu-affinity", json!("off")).unwrap();
    assert_eq!(js.shell_options()["cpu-affinity"], json!("off"));
    assert!(js.set_attribute("system.duration.x", json!(1)).is_err());
    // Failed update leaves the jobspec unchanged.
    assert_eq!(js.duration(), 60.0);
}
