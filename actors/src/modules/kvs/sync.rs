//! Group commit: responses that may only leave once everything written before them is on
//! disk. One flush at a time covers every response queued before it started; responses
//! queued meanwhile wait for the next one, so N concurrent commits cost about two flushes.

use flux_proto::{Envelope, errno};

/// Responses waiting for durability, and the batch whose flush is running.
#[derive(Default)]
pub struct GroupSync {
    waiting: Vec<Envelope>,
    in_flight: Option<Vec<Envelope>>,
    flushes: u64,
}

impl GroupSync {
    /// Queue a response to send after the next completed flush.
    pub fn push(&mut self, rsp: Envelope) {
        self.waiting.push(rsp);
    }

    /// Whether a flush should start now: none is running and responses wait (or `force`,
    /// for a checkpoint). If so, the waiting responses become the running batch and the
    /// caller must start the flush.
    pub fn begin(&mut self, force: bool) -> bool {
        if self.in_flight.is_some() || (self.waiting.is_empty() && !force) {
            return false;
        }
        self.in_flight = Some(std::mem::take(&mut self.waiting));
        true
    }

    /// The running flush ended: its responses to send, or errors if it failed.
    pub fn complete(&mut self, outcome: Result<(), String>) -> Vec<Envelope> {
        self.flushes += 1;
        let batch = self.in_flight.take().unwrap_or_default();
        settle(batch, &outcome)
    }

    /// At shutdown, after a final synchronous flush: every response still held.
    pub fn drain(&mut self, outcome: Result<(), String>) -> Vec<Envelope> {
        let mut batch = self.in_flight.take().unwrap_or_default();
        batch.append(&mut self.waiting);
        settle(batch, &outcome)
    }

    /// Whether a flush is running.
    #[cfg(test)]
    pub fn is_flushing(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Number of flushes completed (for stats).
    pub fn flushes(&self) -> u64 {
        self.flushes
    }
}

/// The responses of a flushed batch, or EIO errors in their place if the flush failed.
fn settle(batch: Vec<Envelope>, outcome: &Result<(), String>) -> Vec<Envelope> {
    match outcome {
        Ok(()) => batch,
        Err(why) => batch
            .iter()
            .map(|rsp| {
                let mut err = rsp.clone();
                err.payload = bytes::Bytes::new();
                err.errnum = errno::EIO;
                err.errstr = format!("flush failed: {why}");
                err
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn rsp(tag: u32) -> Envelope {
        let mut req = Envelope::request("kvs.commit", 0, Bytes::new());
        req.matchtag = tag;
        req.response(Bytes::from_static(b"{}"))
    }

    #[test]
    fn responses_wait_for_the_flush_that_covers_them() {
        let mut s = GroupSync::default();
        assert!(!s.begin(false), "nothing to flush");
        assert!(s.begin(true), "a checkpoint flushes anyway");
        assert!(s.complete(Ok(())).is_empty());
        s.push(rsp(1));
        s.push(rsp(2));
        assert!(s.begin(false));
        assert!(s.is_flushing());
        // Queued while the first flush runs: must wait for a second one.
        s.push(rsp(3));
        assert!(!s.begin(false));
        let done: Vec<u32> = s.complete(Ok(())).iter().map(|r| r.matchtag).collect();
        assert_eq!(done, [1, 2]);
        assert!(s.begin(false));
        let done: Vec<u32> = s.complete(Ok(())).iter().map(|r| r.matchtag).collect();
        assert_eq!(done, [3]);
        assert!(!s.begin(false));
        assert_eq!(s.flushes(), 3);
    }

    #[test]
    fn drain_returns_running_and_waiting() {
        let mut s = GroupSync::default();
        s.push(rsp(1));
        assert!(s.begin(false));
        s.push(rsp(2));
        let all: Vec<u32> = s.drain(Ok(())).iter().map(|r| r.matchtag).collect();
        assert_eq!(all, [1, 2]);
        assert!(!s.is_flushing());
        assert!(!s.begin(false));
    }

    #[test]
    fn failed_flush_fails_its_batch_with_eio() {
        let mut s = GroupSync::default();
        s.push(rsp(7));
        assert!(s.begin(false));
        let out = s.complete(Err("disk full".into()));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].errnum, errno::EIO);
        assert_eq!(out[0].matchtag, 7);
        assert!(out[0].errstr.contains("disk full"));
        assert!(out[0].payload.is_empty());
    }
}
