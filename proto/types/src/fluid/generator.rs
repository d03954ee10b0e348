//! FLUID generator: monotonic ids from a generator id and a caller-supplied clock.

use super::{FluidError, JobId, MAX_GENERATOR, MAX_SEQUENCE, MAX_TIMESTAMP};

/// Produces monotonically increasing [`JobId`]s, like flux-core's `fluid_generate`.
///
/// The caller passes the elapsed time (a monotonic clock, in ms since the generator was
/// created) to each [`next`](Self::next) call, so the generator holds no clock and tests
/// can drive time by hand. The id timestamp is `start_timestamp + elapsed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluidGenerator {
    generator: u32,
    start: u64,
    last_ts: u64,
    seq: u32,
    /// False until the first id: the first id of `last_ts` has sequence 0.
    started: bool,
}

impl FluidGenerator {
    /// A generator for `generator_id` (flux uses the rank, 0-16383) whose clock starts at
    /// `start_timestamp` ms past the instance epoch (0 for a fresh instance).
    pub fn new(generator_id: u32, start_timestamp: u64) -> Result<Self, FluidError> {
        if generator_id > MAX_GENERATOR {
            return Err(FluidError::GeneratorId(generator_id));
        }
        if start_timestamp > MAX_TIMESTAMP {
            return Err(FluidError::Timestamp(start_timestamp));
        }
        Ok(FluidGenerator {
            generator: generator_id,
            start: start_timestamp,
            last_ts: start_timestamp,
            seq: 0,
            started: false,
        })
    }

    /// A generator that resumes after a restart: its clock starts one ms past the
    /// timestamp of the largest existing id, so new ids sort after all old ones.
    pub fn resume_after(generator_id: u32, max_existing: JobId) -> Result<Self, FluidError> {
        Self::new(generator_id, max_existing.timestamp() + 1)
    }

    /// The generator id.
    pub fn generator_id(&self) -> u32 {
        self.generator
    }

    /// The timestamp (ms past the instance epoch) at `elapsed_ms`; what rank 0 answers
    /// to `job-ingest.getinfo`.
    pub fn timestamp_at(&self, elapsed_ms: u64) -> u64 {
        self.start.saturating_add(elapsed_ms)
    }

    /// The next id, `elapsed_ms` being milliseconds since the generator was created.
    ///
    /// Ids are strictly increasing even if the clock goes backwards (the last timestamp
    /// is kept). After 1024 ids in one millisecond this returns
    /// [`FluidError::SequenceExhausted`]: retry once the clock has advanced.
    pub fn next(&mut self, elapsed_ms: u64) -> Result<JobId, FluidError> {
        let ts = self.timestamp_at(elapsed_ms);
        if ts > MAX_TIMESTAMP {
            return Err(FluidError::Timestamp(ts));
        }
        if !self.started || ts > self.last_ts {
            self.last_ts = ts.max(self.last_ts);
            self.seq = 0;
            self.started = true;
        } else if self.seq >= MAX_SEQUENCE {
            return Err(FluidError::SequenceExhausted(self.last_ts));
        } else {
            self.seq += 1;
        }
        JobId::from_parts(self.last_ts, self.generator, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_within_one_ms_then_resets() {
        let mut g = FluidGenerator::new(3, 0).unwrap();
        let a = g.next(5).unwrap();
        let b = g.next(5).unwrap();
        assert_eq!((a.timestamp(), a.generator(), a.sequence()), (5, 3, 0));
        assert_eq!((b.timestamp(), b.generator(), b.sequence()), (5, 3, 1));
        let c = g.next(6).unwrap();
        assert_eq!((c.timestamp(), c.sequence()), (6, 0));
        assert!(a < b && b < c);
    }

    #[test]
    fn first_id_of_fresh_instance_at_one_second() {
        let mut g = FluidGenerator::new(0, 0).unwrap();
        let id = g.next(1000).unwrap();
        assert_eq!(id.0, 16777216000);
        assert_eq!(id.to_f58(), "ƒSZYcoq");
    }

    #[test]
    fn exhaustion_and_backwards_clock() {
        let mut g = FluidGenerator::new(0, 10).unwrap();
        let mut last = g.next(0).unwrap();
        for _ in 0..MAX_SEQUENCE {
            let id = g.next(0).unwrap();
            assert!(id > last);
            last = id;
        }
        assert_eq!(g.next(0), Err(FluidError::SequenceExhausted(10)));
        let id = g.next(1).unwrap();
        assert!(id > last);
        // Clock went backwards: stays on the last timestamp and keeps increasing.
        let back = g.next(0).unwrap();
        assert!(back > id);
        assert_eq!(back.timestamp(), 11);
    }

    #[test]
    fn resume_after_sorts_after_old_ids() {
        let old = JobId::from_parts(1234, 0, 1023).unwrap();
        let mut g = FluidGenerator::resume_after(0, old).unwrap();
        assert_eq!(g.timestamp_at(0), 1235);
        assert!(g.next(0).unwrap() > old);
    }

    #[test]
    fn range_checks() {
        assert_eq!(
            FluidGenerator::new(16384, 0),
            Err(FluidError::GeneratorId(16384))
        );
        assert!(FluidGenerator::new(16383, MAX_TIMESTAMP).is_ok());
        assert!(FluidGenerator::new(0, MAX_TIMESTAMP + 1).is_err());
        let mut g = FluidGenerator::new(0, MAX_TIMESTAMP).unwrap();
        assert!(g.next(0).is_ok());
        assert_eq!(g.next(1), Err(FluidError::Timestamp(MAX_TIMESTAMP + 1)));
    }
}
