//! JSON form of states and results: the integer bit value, as Flux RPCs carry them
//! (`"state": 8`); decoding also accepts the names.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{JobResult, JobState};

impl Serialize for JobState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.bits())
    }
}

impl Serialize for JobResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.bits())
    }
}

/// Visitor accepting a bit value or a name.
struct BitsOrName<T>(fn(u32) -> Option<T>, fn(&str) -> Option<T>, &'static str);

impl<T> Visitor<'_> for BitsOrName<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a job {} (integer or name)", self.2)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        u32::try_from(v)
            .ok()
            .and_then(self.0)
            .ok_or_else(|| E::custom(format!("invalid job {} {v}", self.2)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        u64::try_from(v)
            .map_err(|_| E::custom(format!("invalid job {} {v}", self.2)))
            .and_then(|v| self.visit_u64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.1)(v).ok_or_else(|| E::custom(format!("invalid job {} '{v}'", self.2)))
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BitsOrName(JobState::from_bits, |s| s.parse().ok(), "state"))
    }
}

impl<'de> Deserialize<'de> for JobResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let from_bits = |b| JobResult::ALL.into_iter().find(|r| r.bits() == b);
        d.deserialize_any(BitsOrName(from_bits, |s| s.parse().ok(), "result"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_results_as_json() {
        assert_eq!(serde_json::to_string(&JobState::Sched).unwrap(), "8");
        assert_eq!(
            serde_json::from_str::<JobState>("8").unwrap(),
            JobState::Sched
        );
        assert_eq!(
            serde_json::from_str::<JobState>("\"run\"").unwrap(),
            JobState::Run
        );
        assert!(serde_json::from_str::<JobState>("3").is_err());
        assert!(serde_json::from_str::<JobState>("-1").is_err());
        assert!(serde_json::from_str::<JobState>("\"x\"").is_err());
        assert_eq!(serde_json::to_string(&JobResult::Timeout).unwrap(), "8");
        assert_eq!(
            serde_json::from_str::<JobResult>("4").unwrap(),
            JobResult::Canceled
        );
        assert_eq!(
            serde_json::from_str::<JobResult>("\"CD\"").unwrap(),
            JobResult::Completed
        );
        assert!(serde_json::from_str::<JobResult>("3").is_err());
    }
}
