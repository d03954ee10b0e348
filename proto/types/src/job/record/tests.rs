use super::*;
use crate::eventlog;

const COMPLETED: &str = r#"{"timestamp":1738774194.078433,"name":"submit","context":{"userid":1001,"urgency":16,"flags":0,"version":1}}
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

fn replay(text: &str) -> JobRecord {
    JobRecord::replay(&eventlog::parse(text).unwrap()).unwrap()
}

#[test]
fn replay_completed_job() {
    let job = replay(COMPLETED);
    assert_eq!(job.state, JobState::Inactive);
    assert_eq!(job.userid, Some(1001));
    assert_eq!(job.urgency, Some(16));
    assert_eq!(job.priority, Some(16));
    assert_eq!(job.t_submit, Some(1738774194.078433));
    assert_eq!(job.t_run, Some(1738774194.110116));
    assert!(job.started && job.freed);
    assert_eq!(job.result(), Some(JobResult::Completed));
    assert_eq!(job.exit_code(), Some(0));
    assert_eq!(job.status_abbrev(), "CD");
}

#[test]
fn replay_partial_log_resumes_state() {
    let lines: Vec<&str> = COMPLETED.lines().take(4).collect();
    let job = replay(&lines.join("\n"));
    assert_eq!(job.state, JobState::Sched);
    assert_eq!(job.result(), None);
    assert_eq!(job.status_abbrev(), "S");
    assert_eq!(job.exit_code(), None);
}

#[test]
fn canceled_while_pending() {
    let log = r#"{"timestamp":1,"name":"submit","context":{"userid":1,"urgency":16,"flags":0,"version":1}}
{"timestamp":2,"name":"validate"}
{"timestamp":3,"name":"dependency-add","context":{"description":"after-success=1234"}}
{"timestamp":4,"name":"exception","context":{"type":"cancel","severity":0,"note":"","userid":1}}
{"timestamp":5,"name":"clean"}
"#;
    let job = replay(log);
    assert_eq!(job.dependencies.len(), 1);
    assert_eq!(job.t_cleanup, Some(4.0));
    assert_eq!(job.result(), Some(JobResult::Canceled));
    assert_eq!(job.exit_code(), Some(1));
    assert_eq!(job.status_abbrev(), "CA");
}

#[test]
fn timeout_and_failures() {
    let base = r#"{"timestamp":1,"name":"submit","context":{"userid":1,"urgency":16,"flags":0,"version":1}}
{"timestamp":2,"name":"validate"}
{"timestamp":3,"name":"depend"}
{"timestamp":4,"name":"priority","context":{"priority":16}}
{"timestamp":5,"name":"alloc"}
{"timestamp":6,"name":"start"}
"#;
    let timeout = format!(
        "{base}{}\n{}\n{}\n",
        r#"{"timestamp":7,"name":"exception","context":{"type":"timeout","severity":0,"note":"resource allocation expired"}}"#,
        r#"{"timestamp":8,"name":"finish","context":{"status":14}}"#,
        r#"{"timestamp":9,"name":"clean"}"#
    );
    let job = replay(&timeout);
    assert_eq!(job.result(), Some(JobResult::Timeout));
    assert_eq!(job.exit_code(), Some(142));
    assert_eq!(job.fatal_exception.as_ref().unwrap().kind, "timeout");

    let failed = format!(
        "{base}{}\n{}\n",
        r#"{"timestamp":8,"name":"finish","context":{"status":256}}"#,
        r#"{"timestamp":9,"name":"clean"}"#
    );
    let job = replay(&failed);
    assert_eq!(job.result(), Some(JobResult::Failed));
    assert_eq!(job.exit_code(), Some(1));
    assert_eq!(job.status_abbrev(), "F");

    // A non-fatal exception does not change state or result.
    let nonfatal = format!(
        "{base}{}\n{}\n{}\n",
        r#"{"timestamp":7,"name":"exception","context":{"type":"node-failure","severity":2,"note":""}}"#,
        r#"{"timestamp":8,"name":"finish","context":{"status":0}}"#,
        r#"{"timestamp":9,"name":"clean"}"#
    );
    let job = replay(&nonfatal);
    assert_eq!(job.exception_count, 1);
    assert!(job.fatal_exception.is_none());
    assert_eq!(job.result(), Some(JobResult::Completed));

    // wait_status on the fatal exception overrides finish.status.
    let exec = format!(
        "{base}{}\n{}\n{}\n",
        r#"{"timestamp":7,"name":"exception","context":{"type":"exec","severity":0,"note":"","wait_status":9}}"#,
        r#"{"timestamp":8,"name":"finish","context":{"status":0}}"#,
        r#"{"timestamp":9,"name":"clean"}"#
    );
    let job = replay(&exec);
    assert_eq!(job.wait_status(), Some(9));
    assert_eq!(job.exit_code(), Some(137));
    assert_eq!(job.result(), Some(JobResult::Failed));
}

#[test]
fn replay_reports_bad_event_index() {
    let entries = [Entry::new(1.0, "submit"), Entry::new(2.0, "alloc")];
    let err = JobRecord::replay(&entries).unwrap_err();
    assert_eq!(err.0, 1);
    let mut job = JobRecord::new();
    job.apply(&entries[0]).unwrap();
    let before = job.clone();
    assert!(job.apply(&entries[1]).is_err());
    assert_eq!(job, before);
}

#[test]
fn urgency_reprioritizes() {
    let mut job = replay(&COMPLETED.lines().take(4).collect::<Vec<_>>().join("\n"));
    let e = Entry::new(10.0, "urgency")
        .with("urgency", 0)
        .with("userid", 1);
    assert_eq!(job.apply(&e), Ok(JobState::Priority));
    assert_eq!(job.urgency, Some(0));
    let e = Entry::new(11.0, "priority").with("priority", 0);
    assert_eq!(job.apply(&e), Ok(JobState::Sched));
    assert_eq!(job.priority, Some(0));
}
