//! `flux jobs -f/--filter` names -> job-list state and result masks.

use flux_proto::types::{JobResult, JobState, StateMask};

/// The state and result masks of a list of filter names (case-insensitive): states
/// (`depend` ... `inactive`, `pending`, `running`, `active`, and their abbreviations) and
/// results (`completed`, `failed`, `canceled`, `timeout`, `CD`, `F`, `CA`, `TO`).
pub fn masks<S: AsRef<str>>(names: &[S]) -> Result<(u32, u32), String> {
    let (mut states, mut results) = (0, 0);
    for name in names {
        let name = name.as_ref().trim();
        if name.is_empty() {
            continue;
        }
        if let Ok(r) = name.parse::<JobResult>() {
            results |= r.bits();
        } else if let Ok(m) = name.parse::<StateMask>() {
            states |= m.0;
        } else {
            return Err(format!(
                "invalid filter specified: {name} (valid: depend, priority, sched, run, \
                 cleanup, inactive, pending, running, active, completed, failed, canceled, \
                 timeout)"
            ));
        }
    }
    if results != 0 && states & JobState::Inactive.bits() != 0 && results != 0xf {
        // `inactive` asks for every result.
        results = 0xf;
    }
    Ok((states, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(masks(&["pending"]), Ok((14, 0)));
        assert_eq!(masks(&["running", "sched"]), Ok((56, 0)));
        assert_eq!(masks(&["failed"]), Ok((0, 2)));
        assert_eq!(masks(&["CD", "canceled"]), Ok((0, 5)));
        assert_eq!(masks(&["run", "timeout"]), Ok((16, 8)));
        assert_eq!(masks(&["inactive", "failed"]), Ok((64, 15)));
        assert_eq!(masks(&["Active"]), Ok((62, 0)));
        assert!(masks(&["bogus"]).unwrap_err().contains("bogus"));
    }
}
