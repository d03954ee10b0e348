//! Property tests: built jobspecs always parse back.

use proptest::prelude::*;

use crate::jobspec::*;

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
