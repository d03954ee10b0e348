//! What a submission must be to be accepted: a valid V1 jobspec, a sane urgency, known
//! flags. Pure functions, unit-tested.

use flux_proto::types::Jobspec;
use flux_proto::{Envelope, errno, role};
use serde::Deserialize;
use serde_json::Value;

use super::policy::Policy;

/// Submit flags (flux_job_submit(3)).
pub const FLAG_DEBUG: u32 = 2;
pub const FLAG_WAITABLE: u32 = 4;
pub const FLAG_NOVALIDATE: u32 = 8;

/// A submission that passed validation.
#[derive(Debug, Clone)]
pub struct Submission {
    pub userid: u32,
    pub urgency: u32,
    pub flags: u32,
    pub t_submit: f64,
    /// The jobspec as stored (compact JSON).
    pub jobspec_json: String,
    pub jobspec: Jobspec,
}

#[derive(Deserialize)]
struct Request {
    /// The jobspec as a JSON object...
    jobspec: Option<Value>,
    /// ...or as Flux's J: the jobspec as a string (unsigned, or wrapped by `flux job submit`).
    #[serde(rename = "J")]
    j: Option<String>,
    #[serde(default)]
    flags: u32,
    #[serde(default = "default_urgency")]
    urgency: u32,
}

fn default_urgency() -> u32 {
    16
}

/// Check a `job-ingest.submit` request; errors carry an errno and a message for the user.
/// The jobspec is given its queue's defaults and constraints (see [`Policy::apply`]).
pub fn validate(req: &Envelope, policy: &Policy) -> Result<Submission, (i32, String)> {
    let body: Request = req
        .json()
        .map_err(|e| (errno::EPROTO, format!("malformed request: {e}")))?;
    let value = match (body.jobspec, body.j) {
        (Some(v), _) => v,
        (None, Some(j)) => serde_json::from_str(&j)
            .map_err(|e| (errno::EINVAL, format!("jobspec is not JSON: {e}")))?,
        (None, None) => return Err((errno::EPROTO, "request has no jobspec".into())),
    };
    let mut jobspec = Jobspec::from_value(value).map_err(|e| (errno::EINVAL, e.to_string()))?;
    policy
        .apply(&mut jobspec)
        .map_err(|text| (errno::EINVAL, text))?;
    let owner = req.rolemask & role::OWNER != 0;
    if body.urgency > 31 || (!owner && body.urgency > 16) {
        let max = if owner { 31 } else { 16 };
        return Err((
            errno::EINVAL,
            format!("urgency must be in the range 0-{max}"),
        ));
    }
    let known = FLAG_DEBUG | FLAG_WAITABLE | FLAG_NOVALIDATE;
    if body.flags & !known != 0 {
        return Err((
            errno::EINVAL,
            format!("unknown submit flags 0x{:x}", body.flags & !known),
        ));
    }
    if body.flags & FLAG_WAITABLE != 0 && !owner {
        return Err((
            errno::EPERM,
            "only the instance owner may submit waitable jobs".into(),
        ));
    }
    Ok(Submission {
        userid: req.userid,
        urgency: body.urgency,
        flags: body.flags,
        t_submit: now(),
        jobspec_json: jobspec.to_json(),
        jobspec,
    })
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use flux_proto::types::jobspec::JobspecBuilder;
    use serde_json::json;

    fn req(body: Value, rolemask: u32) -> Envelope {
        let mut msg = Envelope::request("job-ingest.submit", 0, Bytes::from(body.to_string()));
        msg.userid = 1000;
        msg.rolemask = rolemask;
        msg
    }

    fn jobspec() -> Value {
        JobspecBuilder::new(["hostname"])
            .ntasks(2)
            .build()
            .unwrap()
            .to_value()
    }

    #[test]
    fn accepts_jobspec_objects_and_strings() {
        let sub = validate(
            &req(json!({ "jobspec": jobspec() }), role::USER),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!((sub.userid, sub.urgency, sub.flags), (1000, 16, 0));
        assert_eq!(sub.jobspec.ntasks(), 2);
        let j = jobspec().to_string();
        let sub = validate(
            &req(json!({ "J": j, "urgency": 31, "flags": 4 }), role::OWNER),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!((sub.urgency, sub.flags), (31, 4));
    }

    #[test]
    fn refuses_bad_submissions_with_reasons() {
        let err = |body: Value, role| validate(&req(body, role), &Policy::default()).unwrap_err();
        assert_eq!(err(json!({}), role::OWNER).0, errno::EPROTO);
        let (e, text) = err(json!({ "jobspec": { "version": 9 } }), role::OWNER);
        assert_eq!(e, errno::EINVAL);
        assert!(!text.is_empty());
        assert!(
            err(json!({ "jobspec": jobspec(), "urgency": 20 }), role::USER)
                .1
                .contains("0-16")
        );
        assert!(
            err(json!({ "jobspec": jobspec(), "urgency": 32 }), role::OWNER)
                .1
                .contains("0-31")
        );
        assert!(
            err(json!({ "jobspec": jobspec(), "flags": 64 }), role::OWNER)
                .1
                .contains("unknown submit flags")
        );
        assert_eq!(
            err(json!({ "jobspec": jobspec(), "flags": 4 }), role::USER).0,
            errno::EPERM
        );
        assert_eq!(
            err(json!({ "J": "not json" }), role::OWNER).0,
            errno::EINVAL
        );
    }
}
