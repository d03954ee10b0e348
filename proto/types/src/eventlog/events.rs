//! Constructors for job events whose context has a fixed key order (job-states.md §3).

use super::Entry;

impl Entry {
    /// `submit`: `{userid, urgency, flags, version: 1}`.
    pub fn submit(timestamp: f64, userid: u32, urgency: u32, flags: u32) -> Entry {
        Entry::new(timestamp, "submit")
            .with("userid", userid)
            .with("urgency", urgency)
            .with("flags", flags)
            .with("version", 1)
    }

    /// `priority`: `{priority}`.
    pub fn priority(timestamp: f64, priority: u32) -> Entry {
        Entry::new(timestamp, "priority").with("priority", priority)
    }

    /// `urgency`: `{urgency, userid}` (userid of the requester).
    pub fn urgency(timestamp: f64, urgency: u32, userid: u32) -> Entry {
        Entry::new(timestamp, "urgency")
            .with("urgency", urgency)
            .with("userid", userid)
    }

    /// `dependency-add` or, if `add` is false, `dependency-remove`: `{description}`.
    pub fn dependency(timestamp: f64, add: bool, description: &str) -> Entry {
        let name = if add {
            "dependency-add"
        } else {
            "dependency-remove"
        };
        Entry::new(timestamp, name).with("description", description)
    }

    /// `exception`: `{type, severity, note}` (0 = fatal).
    pub fn exception(timestamp: f64, kind: &str, severity: u8, note: &str) -> Entry {
        Entry::new(timestamp, "exception")
            .with("type", kind)
            .with("severity", severity)
            .with("note", note)
    }

    /// `finish`: `{status}`, the largest shell wait status.
    pub fn finish(timestamp: f64, status: i32) -> Entry {
        Entry::new(timestamp, "finish").with("status", status)
    }

    /// `release`: `{ranks, final}`; `ranks` is an idset string or `all`.
    pub fn release(timestamp: f64, ranks: &str, is_final: bool) -> Entry {
        Entry::new(timestamp, "release")
            .with("ranks", ranks)
            .with("final", is_final)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobRecord, JobResult};

    #[test]
    fn constructors_write_flux_key_order() {
        assert_eq!(
            Entry::submit(1.5, 1001, 16, 0).to_line(),
            "{\"timestamp\":1.5,\"name\":\"submit\",\"context\":{\"userid\":1001,\"urgency\":16,\"flags\":0,\"version\":1}}\n"
        );
        assert_eq!(
            Entry::release(2.0, "all", true).to_line(),
            "{\"timestamp\":2.0,\"name\":\"release\",\"context\":{\"ranks\":\"all\",\"final\":true}}\n"
        );
        assert_eq!(
            Entry::exception(3.0, "cancel", 0, "").to_text(),
            "3.000000 exception type=\"cancel\" severity=0 note=\"\""
        );
        assert_eq!(Entry::dependency(1.0, false, "x").name, "dependency-remove");
        assert_eq!(Entry::urgency(1.0, 0, 5).context.get_i64("userid"), Some(5));
    }

    #[test]
    fn constructed_log_replays() {
        let log = [
            Entry::submit(1.0, 1, 16, 0),
            Entry::new(2.0, "validate"),
            Entry::dependency(2.5, true, "begin-time=3.000"),
            Entry::dependency(3.0, false, "begin-time=3.000"),
            Entry::new(3.0, "depend"),
            Entry::priority(4.0, 16),
            Entry::new(5.0, "alloc"),
            Entry::new(6.0, "start"),
            Entry::finish(7.0, 0),
            Entry::release(8.0, "all", true),
            Entry::new(9.0, "free"),
            Entry::new(10.0, "clean"),
        ];
        let job = JobRecord::replay(&log).unwrap();
        assert!(job.dependencies.is_empty());
        assert_eq!(job.result(), Some(JobResult::Completed));
    }
}
