use bytes::Bytes;

use super::*;

fn alloc_msg(id: u64) -> Envelope {
    let mut msg = Envelope::request("sched.alloc", 0, Bytes::new());
    msg.matchtag = id as u32;
    msg
}

fn waiters(ids: &[i64]) -> Waiters {
    let mut w = Waiters::default();
    for &id in ids {
        w.jobs.insert(
            id,
            Waiting {
                msg: alloc_msg(id as u64),
                jobspec: json!({}),
                priority: 16,
                reason: None,
                t_estimate: None,
                announced: None,
            },
        );
    }
    w
}

#[test]
fn match_answers_are_classified() {
    let ok = json!({"jobid": 1, "status": "RESERVED", "at": 99, "R": {"version": 1}});
    match match_reply(Ok(serde_json::from_value(ok).unwrap())) {
        MatchReply::Matched { outcome, r } => {
            assert!(outcome.reserved);
            assert_eq!(outcome.at, 99);
            assert_eq!(r, json!({"version": 1}));
        }
        other => panic!("{other:?}"),
    }
    let err = |n, s: &str| match_reply(Err(Error::rpc(n, s)));
    assert!(matches!(
        err(errno::EBUSY, ""),
        MatchReply::Failed(MatchError::Busy)
    ));
    assert!(matches!(
        err(ENODEV, ""),
        MatchReply::Failed(MatchError::Unsatisfiable)
    ));
    match err(errno::EINVAL, "invalid jobspec: missing version") {
        MatchReply::Failed(MatchError::Invalid(text)) => {
            assert_eq!(text, "invalid jobspec: missing version")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        err(errno::ENOSYS, "no service"),
        MatchReply::Lost(_)
    ));
    assert!(matches!(
        err(errno::EAGAIN, "not loaded"),
        MatchReply::Lost(_)
    ));
}

#[test]
fn decisions_answer_or_annotate_the_alloc_requests() {
    let mut w = waiters(&[1, 2, 3, 4]);
    let reserved = w.on_decision(Decision::Reserved { id: 2, at: 500 }, Value::Null, None);
    assert!(reserved.is_none());
    w.on_busy(3);
    let status = serde_json::to_value(w.status()).unwrap();
    assert_eq!(
        status,
        json!([
            {"id": 1, "priority": 16, "reason_pending": "waiting for a scheduling loop"},
            {"id": 2, "priority": 16, "reason_pending": "insufficient resources", "t_estimate": 500},
            {"id": 3, "priority": 16, "reason_pending": "insufficient resources"},
            {"id": 4, "priority": 16, "reason_pending": "waiting for a scheduling loop"},
        ])
    );
    let outcome = MatchOutcome {
        at: 0,
        end: 0,
        reserved: false,
        emitted: Vec::new(),
    };
    let started = Decision::Started {
        id: 2,
        outcome,
        backfilled: false,
    };
    let rsp = w.on_decision(started, json!({"version": 1}), None).unwrap();
    let body: Value = rsp.json().unwrap();
    assert_eq!(body["R"], json!({"version": 1}));
    assert_eq!(
        body["annotations"]["sched"]["selection_type"],
        json!("reserved")
    );
    let reject = Decision::Rejected {
        id: 3,
        reason: "unsatisfiable request".into(),
    };
    let rsp = w
        .on_decision(reject, Value::Null, Some(&MatchError::Unsatisfiable))
        .unwrap();
    assert_eq!(
        (rsp.errnum, rsp.errstr.as_str()),
        (errno::ENOSPC, "unsatisfiable request")
    );
    let invalid = Decision::Rejected {
        id: 4,
        reason: "bad".into(),
    };
    let rsp = w
        .on_decision(
            invalid,
            Value::Null,
            Some(&MatchError::Invalid("bad".into())),
        )
        .unwrap();
    assert_eq!(rsp.errnum, errno::EINVAL);
    assert_eq!(w.jobs.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert!(
        w.on_decision(Decision::Blocked { id: 9 }, Value::Null, None)
            .is_none(),
        "unknown jobs are ignored"
    );
}

#[test]
fn ops_have_their_flux_sched_names() {
    for op in [
        MatchOp::Allocate,
        MatchOp::AllocateWithSatisfiability,
        MatchOp::AllocateOrElseReserve,
        MatchOp::Satisfiability,
    ] {
        assert_eq!(op_name(op).parse::<MatchOp>().unwrap(), op);
    }
}

#[test]
fn changed_reasons_are_announced_once() {
    let mut w = waiters(&[1, 2]);
    assert!(w.unannounced().is_empty(), "no loop has looked at them yet");
    w.on_decision(Decision::Reserved { id: 2, at: 500 }, Value::Null, None);
    w.on_busy(1);
    assert_eq!(
        w.unannounced(),
        [
            json!({"id": 1, "annotations": {"sched": {"reason_pending": "insufficient resources"}}}),
            json!({"id": 2, "annotations": {"sched": {"reason_pending": "insufficient resources", "t_estimate": 500.0}}}),
        ]
    );
    w.on_busy(1);
    assert!(w.unannounced().is_empty(), "nothing changed");
    w.on_decision(Decision::Reserved { id: 1, at: 700 }, Value::Null, None);
    assert_eq!(w.unannounced().len(), 1);
}
