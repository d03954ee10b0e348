use std::collections::BTreeMap;

use serde_json::json;

use super::*;

/// jobspec.md §6 without environment and rlimit.
const DRY_RUN_N2_N4_C2: &str = r#"{"resources": [{"type": "node", "count": 2, "with": [{"type": "slot", "count": 2, "with": [{"type": "core", "count": 2}], "label": "task"}]}], "tasks": [{"command": ["hostname"], "slot": "task", "count": {"per_slot": 1}}], "attributes": {"system": {"duration": 0, "cwd": "/home/alice"}}, "version": 1}"#;

fn minimal() -> serde_json::Value {
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
fn builder_matches_dry_run() {
    let js = JobspecBuilder::new(["hostname"])
        .nodes(2)
        .ntasks(4)
        .cores_per_task(2)
        .cwd("/home/alice")
        .build()
        .unwrap();
    assert_eq!(js.to_dry_run_json(), DRY_RUN_N2_N4_C2);
    assert_eq!(Jobspec::parse(DRY_RUN_N2_N4_C2).unwrap(), js);
    assert_eq!((js.nnodes(), js.nslots(), js.ntasks()), (Some(2), 4, 4));
    assert_eq!((js.cores_per_slot(), js.gpus_per_slot()), (2, 0));
    assert_eq!(js.job_name().as_deref(), Some("hostname"));
}

#[test]
fn builder_shapes() {
    let js = JobspecBuilder::new(["a"])
        .ntasks(5)
        .nodes(2)
        .build()
        .unwrap();
    assert_eq!(js.slot().unwrap().fixed_count(), Some(3));
    assert_eq!(js.tasks[0].count, TaskCount::Total(5));
    assert_eq!(js.ntasks(), 5);

    let js = JobspecBuilder::new(["a"]).build().unwrap();
    assert_eq!(
        js.to_json(),
        r#"{"resources":[{"type":"slot","count":1,"with":[{"type":"core","count":1}],"label":"task"}],"tasks":[{"command":["a"],"slot":"task","count":{"per_slot":1}}],"attributes":{"system":{"duration":0}},"version":1}"#
    );

    let js = JobspecBuilder::new(["a"])
        .ntasks(3)
        .gpus_per_task(1)
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&js.resources).unwrap(),
        json!([{"type": "slot", "count": 3, "label": "task",
                "with": [{"type": "core", "count": 1}, {"type": "gpu", "count": 1}]}])
    );
    assert_eq!(js.gpus_per_slot(), 1);

    // -N alone: ntasks = N, exclusive node.
    let js = JobspecBuilder::new(["a"]).nodes(3).build().unwrap();
    assert!(js.exclusive());
    assert_eq!(js.ntasks(), 3);
    assert!(
        js.to_json()
            .contains(r#"{"type":"node","count":3,"exclusive":true,"with""#)
    );

    let js = JobspecBuilder::new(["a"])
        .nodes(1)
        .ntasks(2)
        .exclusive(true)
        .build()
        .unwrap();
    assert!(js.exclusive());
}

#[test]
fn builder_errors() {
    assert_eq!(
        JobspecBuilder::new(["a"]).nodes(3).ntasks(2).build(),
        Err(JobspecError::NodesExceedTasks {
            nodes: 3,
            ntasks: 2
        })
    );
    assert_eq!(
        JobspecBuilder::new(["a"]).exclusive(true).build(),
        Err(JobspecError::ExclusiveWithoutNodes)
    );
    assert_eq!(
        JobspecBuilder::new(Vec::<String>::new()).build(),
        Err(JobspecError::EmptyCommand)
    );
    assert!(matches!(
        JobspecBuilder::new(["a"]).ntasks(0).build(),
        Err(JobspecError::Count { .. })
    ));
    assert!(matches!(
        JobspecBuilder::new(["a"]).time_limit("xyz"),
        Err(JobspecError::Fsd(_))
    ));
    assert!(matches!(
        JobspecBuilder::new(["a"]).duration(f64::INFINITY).build(),
        Err(JobspecError::Duration(_))
    ));
    assert!(matches!(
        JobspecBuilder::new(["a"])
            .setattr(".bogus=1")
            .unwrap()
            .build(),
        Err(JobspecError::Schema(_))
    ));
    assert!(matches!(
        JobspecBuilder::new(["a"])
            .setattr("duration=\"x\"")
            .unwrap()
            .build(),
        Err(JobspecError::Schema(_))
    ));
}

#[test]
fn builder_attributes() {
    let env = BTreeMap::from([("PATH".to_string(), "/bin".to_string())]);
    let js = JobspecBuilder::new(["sleep", "1"])
        .time_limit("10")
        .unwrap()
        .environment(env)
        .cwd("/tmp")
        .job_name("foo")
        .queue("batch")
        .bank("b1")
        .dependency_uri("afterok:ƒ2oLkTLb")
        .unwrap()
        .setopt("rlimit.core=0")
        .unwrap()
        .setopt("verbose")
        .unwrap()
        .setattr("exec.test.run_duration=1s")
        .unwrap()
        .setattr("user.note=hello")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(js.duration(), 600.0);
    assert_eq!(js.job_name().as_deref(), Some("foo"));
    assert_eq!(js.queue(), Some("batch"));
    assert_eq!(js.cwd(), Some("/tmp"));
    assert_eq!(
        js.shell_options(),
        json!({"rlimit": {"core": 0}, "verbose": 1})
            .as_object()
            .unwrap()
            .clone()
    );
    assert_eq!(
        js.get_attribute("system.exec.test.run_duration"),
        Some(json!("1s"))
    );
    assert_eq!(js.get_attribute("user.note"), Some(json!("hello")));
    let text = js.to_dry_run_json();
    assert!(
        text.contains(r#""attributes": {"system": {"duration": 600.0, "environment": {"PATH": "/bin"}, "cwd": "/tmp", "shell": {"options": {"rlimit": {"core": 0}, "verbose": 1}}, "dependencies": [{"scheme": "afterok", "value": "ƒ2oLkTLb"}], "job": {"name": "foo"}, "queue": "batch", "bank": "b1", "exec": {"test": {"run_duration": "1s"}}}, "user": {"note": "hello"}}"#),
        "{text}"
    );
    assert_eq!(Jobspec::parse(&text).unwrap(), js);
    assert_eq!(Jobspec::parse(&js.to_json()).unwrap(), js);
}

#[test]
fn builder_per_resource_mode() {
    let res = |b: JobspecBuilder| serde_json::to_value(&b.build().unwrap().resources).unwrap();
    assert_eq!(
        res(JobspecBuilder::new(["a"]).cores(8)),
        json!([{"type": "slot", "count": 8, "label": "task", "with": [{"type": "core", "count": 1}]}])
    );
    assert_eq!(
        res(JobspecBuilder::new(["a"]).cores(8).nodes(2)),
        json!([{"type": "node", "count": 2, "with": [
            {"type": "slot", "count": 1, "label": "task", "with": [{"type": "core", "count": 4}]}]}])
    );
    let js = JobspecBuilder::new(["a"])
        .nodes(2)
        .tasks_per_node(3)
        .gpus_per_node(1)
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&js.resources).unwrap(),
        json!([{"type": "node", "count": 2, "exclusive": true, "with": [
            {"type": "slot", "count": 1, "label": "task",
             "with": [{"type": "core", "count": 1}, {"type": "gpu", "count": 1}]}]}])
    );
    assert_eq!(
        js.shell_options()["per-resource"],
        json!({"type": "node", "count": 3})
    );
    let js = JobspecBuilder::new(["a"])
        .cores(4)
        .tasks_per_core(2)
        .build()
        .unwrap();
    assert_eq!(
        js.shell_options()["per-resource"],
        json!({"type": "core", "count": 2})
    );

    let err = |b: JobspecBuilder| b.build().unwrap_err();
    assert!(matches!(
        err(JobspecBuilder::new(["a"]).cores(4).ntasks(2)),
        JobspecError::Option(_)
    ));
    assert!(matches!(
        err(JobspecBuilder::new(["a"]).tasks_per_node(1)),
        JobspecError::Option(_)
    ));
    assert!(matches!(
        err(JobspecBuilder::new(["a"])
            .nodes(1)
            .tasks_per_node(1)
            .tasks_per_core(1)),
        JobspecError::Option(_)
    ));
    assert!(matches!(
        err(JobspecBuilder::new(["a"]).cores(4).gpus_per_node(1)),
        JobspecError::Option(_)
    ));
    assert!(matches!(
        err(JobspecBuilder::new(["a"]).cores(3).nodes(2)),
        JobspecError::Option(_)
    ));
    assert!(matches!(
        err(JobspecBuilder::new(["a"]).cores(1).nodes(2)),
        JobspecError::Option(_)
    ));
    assert_eq!(
        err(JobspecBuilder::new(["a"]).cores(2).exclusive(true)),
        JobspecError::ExclusiveWithoutNodes
    );
    assert!(matches!(
        err(JobspecBuilder::new(["a"]).cores(0)),
        JobspecError::Count { .. }
    ));
}

#[test]
fn builder_requires() {
    let js = JobspecBuilder::new(["a"])
        .requires("host:n[1-2]")
        .requires("big")
        .build()
        .unwrap();
    assert_eq!(
        js.attributes.system.constraints,
        Some(json!({"and": [{"hostlist": ["n[1-2]"]}, {"properties": ["big"]}]}))
    );
    assert!(matches!(
        JobspecBuilder::new(["a"]).requires("(x").build(),
        Err(JobspecError::Constraint(_))
    ));
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

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn builder_output_parses_back(
            ntasks in 1u64..64,
            cores in 1u64..8,
            gpus in 0u64..3,
            nodes in proptest::option::of(1u64..8),
            limit in proptest::option::of(0u32..10_000),
            name in proptest::option::of("[a-z]{1,8}"),
        ) {
            let mut b = JobspecBuilder::new(["cmd", "arg"]).ntasks(ntasks).cores_per_task(cores).gpus_per_task(gpus);
            if let Some(n) = nodes {
                b = b.nodes(n);
            }
            if let Some(l) = limit {
                b = b.duration(f64::from(l));
            }
            if let Some(n) = &name {
                b = b.job_name(n);
            }
            match b.build() {
                Ok(js) => {
                    prop_assert!(nodes.is_none_or(|n| n <= ntasks));
                    prop_assert_eq!(js.ntasks(), ntasks);
                    prop_assert_eq!(js.cores_per_slot(), cores);
                    prop_assert_eq!(js.gpus_per_slot(), gpus);
                    prop_assert_eq!(js.nnodes(), nodes);
                    prop_assert!(js.nslots() >= ntasks);
                    prop_assert_eq!(Jobspec::parse(&js.to_json()).unwrap(), js.clone());
                    prop_assert_eq!(Jobspec::parse(&js.to_dry_run_json()).unwrap(), js);
                }
                Err(e) => {
                    let nodes = nodes.unwrap_or(0);
                    prop_assert_eq!(e, JobspecError::NodesExceedTasks { nodes, ntasks });
                }
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,64}") {
            let _ = Jobspec::parse(&s);
        }
    }
}
