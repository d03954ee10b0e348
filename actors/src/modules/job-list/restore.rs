//! Joining the jobs read from the KVS at start with the journal events that arrived while
//! they were read.
//!
//! The journal is subscribed to before the KVS is read, so an event can be in both: a job's
//! journal events are always a suffix of its eventlog, and the eventlog read from the KVS is
//! a prefix of it. Where the two overlap, the overlap is applied once.

use std::collections::HashMap;

use flux_proto::types::JobId;
use flux_proto::types::eventlog::Entry;

/// The events to apply, in order: each restored job's eventlog, then the held journal
/// events that the eventlog did not already hold.
pub fn merge(restored: Vec<(JobId, Vec<Entry>)>, held: Vec<(JobId, Entry)>) -> Vec<(JobId, Entry)> {
    let mut held_by_job: HashMap<JobId, Vec<&Entry>> = HashMap::new();
    for (id, entry) in &held {
        held_by_job.entry(*id).or_default().push(entry);
    }
    let mut skip: HashMap<JobId, usize> = HashMap::new();
    let mut out =
        Vec::with_capacity(restored.iter().map(|(_, e)| e.len()).sum::<usize>() + held.len());
    for (id, log) in restored {
        if let Some(journal) = held_by_job.get(&id) {
            skip.insert(id, overlap(&log, journal));
        }
        out.extend(log.into_iter().map(|e| (id, e)));
    }
    for (id, entry) in held {
        match skip.get_mut(&id) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push((id, entry)),
        }
    }
    out
}

/// The length of the longest end of `log` that `journal` starts with.
fn overlap(log: &[Entry], journal: &[&Entry]) -> usize {
    (0..=log.len().min(journal.len()))
        .rev()
        .find(|&m| {
            log[log.len() - m..]
                .iter()
                .zip(journal)
                .all(|(a, b)| a == *b)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(t: f64, name: &str) -> Entry {
        Entry::new(t, name)
    }

    fn names(events: &[(JobId, Entry)]) -> Vec<(u64, String)> {
        events
            .iter()
            .map(|(id, e)| (id.0, e.name.clone()))
            .collect()
    }

    #[test]
    fn overlapping_events_are_applied_once() {
        let a = JobId(1);
        let restored = vec![(a, vec![e(1.0, "submit"), e(1.0, "depend"), e(2.0, "alloc")])];
        let held = vec![(a, e(2.0, "alloc")), (a, e(3.0, "start"))];
        let out = merge(restored, held);
        assert_eq!(
            names(&out),
            [
                (1, "submit".into()),
                (1, "depend".into()),
                (1, "alloc".into()),
                (1, "start".into())
            ]
        );
    }

    #[test]
    fn events_after_the_read_and_new_jobs_are_kept() {
        let (a, b) = (JobId(1), JobId(2));
        let restored = vec![(a, vec![e(1.0, "submit")])];
        let held = vec![
            (b, e(5.0, "submit")),
            (a, e(6.0, "exception")),
            (b, e(6.0, "depend")),
        ];
        let out = merge(restored, held);
        assert_eq!(
            names(&out),
            [
                (1, "submit".into()),
                (2, "submit".into()),
                (1, "exception".into()),
                (2, "depend".into())
            ]
        );
    }

    #[test]
    fn equal_names_at_other_times_are_not_taken_for_the_overlap() {
        let a = JobId(1);
        let restored = vec![(a, vec![e(1.0, "submit"), e(2.0, "priority")])];
        let held = vec![(a, e(3.0, "priority"))];
        assert_eq!(merge(restored, held).len(), 3);
    }
}
