//! The job manager's core driven directly, effects checked.

use std::sync::Arc;

use flux_proto::types::jobspec::JobspecBuilder;
use flux_proto::types::{JobId, JobState, Jobspec};

use super::core::*;
use super::deps::DepKind;

const USER: u32 = 1000;

fn spec() -> Arc<Jobspec> {
    Arc::new(JobspecBuilder::new(["true"]).build().unwrap())
}

fn submit(jm: &mut JobManager, n: u64, urgency: u32, deps: Vec<DepKind>) -> (JobId, Vec<Effect>) {
    let id = JobId(n << 24);
    let mut out = Vec::new();
    let new = NewJob {
        id,
        userid: USER,
        urgency,
        flags: FLAG_WAITABLE,
        t_submit: 1.0,
        jobspec: spec(),
    };
    jm.submit(new, deps, 1.0, &mut out);
    (id, out)
}

fn events(out: &[Effect]) -> Vec<String> {
    out.iter()
        .filter_map(|e| match e {
            Effect::Event(_, entry) => Some(entry.name.clone()),
            _ => None,
        })
        .collect()
}

/// Submit, allocate, start, finish with `status`, release.
fn run_to_end(jm: &mut JobManager, id: JobId, status: i32) -> Vec<Effect> {
    let mut out = Vec::new();
    jm.on_alloc(id, 2.0, &mut out);
    jm.on_start(id, 2.0, &mut out);
    jm.on_finish(id, status, 3.0, &mut out);
    jm.on_release(id, 3.0, &mut out);
    out
}

#[test]
fn a_job_goes_from_submit_to_inactive() {
    let mut jm = JobManager::default();
    let (id, out) = submit(&mut jm, 1, URGENCY_DEFAULT, vec![]);
    assert_eq!(events(&out), ["submit", "validate", "depend", "priority"]);
    assert_eq!(out.last(), Some(&Effect::Alloc { id, priority: 16 }));
    assert_eq!(jm.job(id).unwrap().state(), JobState::Sched);
    assert_eq!(jm.active_count(), 1);

    let out = run_to_end(&mut jm, id, 0);
    assert_eq!(
        events(&out),
        ["alloc", "start", "finish", "release", "free", "clean"]
    );
    assert!(out.contains(&Effect::Start(id)) && out.contains(&Effect::Free(id)));
    assert_eq!(out.last(), Some(&Effect::Inactive(id)));
    assert_eq!(jm.job(id).unwrap().state(), JobState::Inactive);
    assert_eq!(jm.active_count(), 0);
    assert_eq!(jm.claim_wait(id, USER), Ok(Some((true, String::new()))));
    assert!(jm.claim_wait(id, USER).is_err(), "a job is waited for once");
}

#[test]
fn held_jobs_are_not_scheduled_until_released() {
    let mut jm = JobManager::default();
    let (id, out) = submit(&mut jm, 1, URGENCY_HOLD, vec![]);
    assert!(!out.iter().any(|e| matches!(e, Effect::Alloc { .. })));
    let mut out = Vec::new();
    assert_eq!(jm.set_urgency(id, 20, USER, true, 2.0, &mut out), Ok(0));
    assert_eq!(events(&out), ["urgency", "priority"]);
    assert_eq!(out.last(), Some(&Effect::Alloc { id, priority: 20 }));
    let mut out = Vec::new();
    assert_eq!(
        jm.set_urgency(id, 31, 7, false, 2.0, &mut out),
        Err(JobError::NotOwner)
    );
    assert_eq!(
        jm.set_urgency(id, 20, USER, false, 2.0, &mut out),
        Err(JobError::BadUrgency)
    );
    assert_eq!(jm.set_urgency(id, 31, USER, true, 2.0, &mut out), Ok(20));
    assert_eq!(
        out.last(),
        Some(&Effect::Alloc {
            id,
            priority: u32::MAX
        })
    );
    jm.set_urgency(id, 0, USER, true, 2.0, &mut out).unwrap();
    assert_eq!(out.last(), Some(&Effect::CancelAlloc(id)));
}

#[test]
fn cancel_while_pending_or_running() {
    let mut jm = JobManager::default();
    let (pending, _) = submit(&mut jm, 1, URGENCY_DEFAULT, vec![]);
    let mut out = Vec::new();
    assert_eq!(
        jm.raise(pending, "cancel", 0, "", Some(99), 2.0, &mut out),
        Err(JobError::NotOwner)
    );
    jm.raise(pending, "cancel", 0, "", Some(USER), 2.0, &mut out)
        .unwrap();
    assert_eq!(events(&out), ["exception", "clean"]);
    assert!(out.contains(&Effect::CancelAlloc(pending)));
    assert_eq!(
        jm.raise(pending, "cancel", 0, "", None, 2.0, &mut out),
        Err(JobError::Inactive)
    );

    let (running, _) = submit(&mut jm, 2, URGENCY_DEFAULT, vec![]);
    let mut out = Vec::new();
    jm.on_alloc(running, 2.0, &mut out);
    jm.on_start(running, 2.0, &mut out);
    let mut out = Vec::new();
    jm.raise(running, "cancel", 0, "", None, 3.0, &mut out)
        .unwrap();
    assert_eq!(events(&out), ["exception"]);
    assert!(out.contains(&Effect::Kill {
        id: running,
        signum: libc::SIGTERM
    }));
    assert_eq!(jm.job(running).unwrap().state(), JobState::Cleanup);
    let mut out = Vec::new();
    jm.on_finish(running, 15, 4.0, &mut out);
    jm.on_release(running, 4.0, &mut out);
    assert_eq!(events(&out), ["finish", "release", "free", "clean"]);
    assert_eq!(
        jm.claim_wait(running, USER).unwrap().map(|(ok, _)| ok),
        Some(false)
    );
}

#[test]
fn an_alloc_arriving_after_cancel_is_freed() {
    let mut jm = JobManager::default();
    let (id, _) = submit(&mut jm, 1, URGENCY_DEFAULT, vec![]);
    let mut out = Vec::new();
    jm.raise(id, "cancel", 0, "", None, 2.0, &mut out).unwrap();
    let mut out = Vec::new();
    jm.on_alloc(id, 2.0, &mut out);
    assert_eq!(out, [Effect::Free(id)]);
}

#[test]
fn dependencies_release_or_fail_dependents() {
    let mut jm = JobManager::default();
    let (first, _) = submit(&mut jm, 1, URGENCY_DEFAULT, vec![]);
    let (ok, out) = submit(
        &mut jm,
        2,
        URGENCY_DEFAULT,
        vec![DepKind::AfterSuccess(first)],
    );
    assert_eq!(events(&out), ["submit", "validate", "dependency-add"]);
    let (notok, _) = submit(
        &mut jm,
        3,
        URGENCY_DEFAULT,
        vec![DepKind::AfterFailure(first)],
    );
    let (any, _) = submit(
        &mut jm,
        4,
        URGENCY_DEFAULT,
        vec![DepKind::AfterFinish(first)],
    );
    let (started, _) = submit(
        &mut jm,
        5,
        URGENCY_DEFAULT,
        vec![DepKind::AfterStart(first)],
    );
    for id in [ok, notok, any, started] {
        assert_eq!(jm.job(id).unwrap().state(), JobState::Depend);
    }
    let out = run_to_end(&mut jm, first, 0);
    assert!(out.contains(&Effect::Alloc {
        id: started,
        priority: 16
    }));
    for id in [ok, any, started] {
        assert_eq!(jm.job(id).unwrap().state(), JobState::Sched, "{id:?}");
    }
    let state = jm.job(notok).unwrap();
    assert_eq!(state.state(), JobState::Inactive);
    assert_eq!(
        state.record.fatal_exception.as_ref().unwrap().kind,
        "dependency"
    );

    // A dependency on a job that already finished is settled at submit.
    let (late, out) = submit(
        &mut jm,
        6,
        URGENCY_DEFAULT,
        vec![DepKind::AfterFinish(first)],
    );
    assert_eq!(
        events(&out),
        [
            "submit",
            "validate",
            "dependency-add",
            "dependency-remove",
            "depend",
            "priority"
        ]
    );
    assert_eq!(jm.job(late).unwrap().state(), JobState::Sched);
}

#[test]
fn begin_time_waits_for_its_timer() {
    let mut jm = JobManager::default();
    let (id, out) = submit(&mut jm, 1, URGENCY_DEFAULT, vec![DepKind::BeginTime(50.0)]);
    assert!(out.contains(&Effect::Timer { id, at: 50.0 }));
    let mut out = Vec::new();
    jm.on_timer(id, 10.0, &mut out);
    assert!(out.is_empty(), "too early");
    jm.on_timer(id, 50.0, &mut out);
    assert_eq!(events(&out), ["dependency-remove", "depend", "priority"]);
}

#[test]
fn alloc_denied_fails_the_job() {
    let mut jm = JobManager::default();
    let (id, _) = submit(&mut jm, 1, URGENCY_DEFAULT, vec![]);
    let mut out = Vec::new();
    jm.on_alloc_denied(id, "unsatisfiable request", 2.0, &mut out);
    assert_eq!(events(&out), ["exception", "clean"]);
    assert_eq!(jm.select(Some(USER), |s| s.is_active()), []);
    assert_eq!(jm.select(None, |s| s == JobState::Inactive), [id]);
}

#[test]
fn restored_jobs_resume_or_end() {
    use flux_proto::types::JobRecord;
    // A first life: one job finished, one pending, one running.
    let mut old = JobManager::default();
    let (done, _) = submit(&mut old, 1, URGENCY_DEFAULT, vec![]);
    run_to_end(&mut old, done, 0);
    let (pending, _) = submit(&mut old, 2, URGENCY_DEFAULT, vec![]);
    let (running, _) = submit(&mut old, 3, URGENCY_DEFAULT, vec![]);
    let mut out = Vec::new();
    old.on_alloc(running, 2.0, &mut out);
    let record = |id| old.job(id).unwrap().record.clone();

    let mut jm = JobManager::default();
    let mut out = Vec::new();
    for id in [done, pending, running] {
        let new = NewJob {
            id,
            userid: USER,
            urgency: URGENCY_DEFAULT,
            flags: 0,
            t_submit: 1.0,
            jobspec: spec(),
        };
        jm.restore(new, record(id), 5.0, &mut out);
    }
    assert_eq!(jm.job(done).unwrap().state(), JobState::Inactive);
    assert!(out.contains(&Effect::Alloc {
        id: pending,
        priority: 16
    }));
    let ended = jm.job(running).unwrap();
    assert_eq!(ended.state(), JobState::Inactive);
    assert!(
        ended
            .record
            .fatal_exception
            .as_ref()
            .unwrap()
            .note
            .contains("restarted")
    );
    assert_eq!(jm.active_count(), 1);
    assert_eq!(jm.max_id(), Some(running));
    let _ = JobRecord::new();
}
