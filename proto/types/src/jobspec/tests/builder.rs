//! Builder tests: the jobspec `flux submit` options produce.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

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
    // The typed walk answers as a lookup in the serialized attributes would.
    let whole = serde_json::to_value(&js.attributes).unwrap();
    for path in [
        "system",
        "system.duration",
        "system.environment",
        "system.environment.PATH",
        "system.cwd",
        "system.shell",
        "system.shell.options",
        "system.shell.options.rlimit.core",
        "system.shell.options.nope",
        "system.dependencies",
        "system.job.name",
        "system.queue",
        "system.bank",
        "system.project",
        "system.exec",
        "system.exec.test.run_duration",
        "system.constraints",
        "user",
        "user.note",
        "user.note.deeper",
        "nope",
        "system.cwd.x",
    ] {
        let expected = path
            .split('.')
            .try_fold(whole.clone(), |v, k| v.get(k).cloned());
        assert_eq!(js.get_attribute(path), expected, "{path}");
    }
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
fn builder_shell_flags() {
    let opts = |b: JobspecBuilder| serde_json::Value::Object(b.build().unwrap().shell_options());
    assert_eq!(
        opts(
            JobspecBuilder::new(["a"])
                .output("out.txt")
                .error("err.txt")
                .label_io(true)
                .input("in.txt")
        ),
        json!({"output": {"stdout": {"type": "file", "path": "out.txt", "label": true},
                          "stderr": {"type": "file", "path": "err.txt", "label": true}},
               "input": {"stdin": {"type": "file", "path": "in.txt"}}})
    );
    assert_eq!(
        opts(JobspecBuilder::new(["a"]).output("kvs").input("0-1")),
        json!({})
    );
    assert_eq!(opts(JobspecBuilder::new(["a"]).input("all")), json!({}));
    assert_eq!(
        opts(JobspecBuilder::new(["a"]).unbuffered(true)),
        json!({"output": {"stdout": {"buffer": {"type": "none"}}, "stderr": {"buffer": {"type": "none"}},
                          "batch-timeout": 0.05},
               "input": {"batch-timeout": 0.0}})
    );
    let rl = json!({"core": 0, "nofile": 1024})
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(
        opts(
            JobspecBuilder::new(["a"])
                .rlimits(rl)
                .taskmap("cyclic:2")
                .signal(10, 60.0)
        ),
        json!({"rlimit": {"core": 0, "nofile": 1024}, "taskmap": {"scheme": "cyclic", "value": "2"},
               "signal": {"signum": 10, "timeleft": 60.0}})
    );
    // -o given by the user overrides a flag.
    assert_eq!(
        opts(
            JobspecBuilder::new(["a"])
                .taskmap("block")
                .setopt("taskmap=\"x\"")
                .unwrap()
        ),
        json!({"taskmap": "x"})
    );
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
