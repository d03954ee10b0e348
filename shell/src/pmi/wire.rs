//! The PMI-1 wire grammar: one line per message, space-separated `key=value` words; a
//! value may contain spaces up to the end of the line only for the last key (`value=`,
//! `error_msg=`).

use std::collections::HashMap;

/// PMI error codes (pmi.h).
pub mod rc {
    pub const SUCCESS: i32 = 0;
    pub const FAIL: i32 = -1;
    pub const INVALID_ARG: i32 = 3;
    pub const INVALID_KEY: i32 = 4;
    pub const INVALID_KEY_LENGTH: i32 = 5;
    pub const INVALID_VAL_LENGTH: i32 = 7;
}

/// The sizes a server announces (`cmd=maxes`).
pub const KVSNAME_MAX: usize = 64;
pub const KEYLEN_MAX: usize = 64;
pub const VALLEN_MAX: usize = 1024;

/// A client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Init {
        version: i32,
        subversion: i32,
    },
    GetMaxes,
    GetUniverseSize,
    GetAppnum,
    GetMyKvsname,
    Put {
        kvsname: String,
        key: String,
        value: String,
    },
    BarrierIn,
    Get {
        kvsname: String,
        key: String,
    },
    Finalize,
    Abort {
        code: i32,
        msg: String,
    },
    /// Name publishing, spawn: understood and refused.
    Unsupported(String),
}

/// Why a line is not a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("PMI: malformed line '{0}'")]
    Malformed(String),
    #[error("PMI: '{cmd}' lacks '{key}'")]
    Missing { cmd: String, key: String },
}

/// Split a line into its `key=value` words; `value=` and `error_msg=` take the rest.
pub fn fields(line: &str) -> Result<HashMap<String, String>, WireError> {
    let mut map = HashMap::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or_else(|| WireError::Malformed(line.to_string()))?;
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(WireError::Malformed(line.to_string()));
        }
        if matches!(key, "value" | "error_msg" | "msg") && !after.contains(" kvsname=") {
            map.insert(key.to_string(), after.to_string());
            break;
        }
        let (value, next) = match after.find(char::is_whitespace) {
            Some(end) => (&after[..end], after[end..].trim_start()),
            None => (after, ""),
        };
        map.insert(key.to_string(), value.to_string());
        rest = next;
    }
    Ok(map)
}

/// Parse one request line.
pub fn parse_request(line: &str) -> Result<Request, WireError> {
    let f = fields(line)?;
    let cmd = f
        .get("cmd")
        .or_else(|| f.get("mcmd"))
        .cloned()
        .ok_or_else(|| WireError::Malformed(line.to_string()))?;
    let need = |key: &str| {
        f.get(key).cloned().ok_or_else(|| WireError::Missing {
            cmd: cmd.clone(),
            key: key.to_string(),
        })
    };
    let int = |key: &str| f.get(key).and_then(|v| v.parse::<i32>().ok());
    Ok(match cmd.as_str() {
        "init" => Request::Init {
            version: int("pmi_version").unwrap_or(0),
            subversion: int("pmi_subversion").unwrap_or(0),
        },
        "get_maxes" => Request::GetMaxes,
        "get_universe_size" => Request::GetUniverseSize,
        "get_appnum" => Request::GetAppnum,
        "get_my_kvsname" => Request::GetMyKvsname,
        "put" => Request::Put {
            kvsname: need("kvsname")?,
            key: need("key")?,
            value: f.get("value").cloned().unwrap_or_default(),
        },
        "barrier_in" => Request::BarrierIn,
        "get" => Request::Get {
            kvsname: need("kvsname")?,
            key: need("key")?,
        },
        "finalize" => Request::Finalize,
        "abort" => Request::Abort {
            code: int("exitcode").or_else(|| int("exit_code")).unwrap_or(1),
            msg: f.get("error_msg").cloned().unwrap_or_default(),
        },
        other => Request::Unsupported(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_in_any_order_with_extra_space() {
        assert_eq!(
            parse_request("cmd=init pmi_version=1 pmi_subversion=1\n").unwrap(),
            Request::Init {
                version: 1,
                subversion: 1
            }
        );
        assert_eq!(
            parse_request("  key=k1   cmd=put kvsname=f1 value=a b c").unwrap(),
            Request::Put {
                kvsname: "f1".into(),
                key: "k1".into(),
                value: "a b c".into()
            }
        );
        assert_eq!(parse_request("cmd=barrier_in").unwrap(), Request::BarrierIn);
        assert_eq!(
            parse_request("cmd=abort exitcode=3 error_msg=bad thing").unwrap(),
            Request::Abort {
                code: 3,
                msg: "bad thing".into()
            }
        );
        assert_eq!(
            parse_request("cmd=publish_name service=x port=y").unwrap(),
            Request::Unsupported("publish_name".into())
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_request("hello world").is_err());
        assert!(parse_request("cmd=get kvsname=x").is_err());
        assert!(parse_request("=x").is_err());
        assert!(parse_request("").is_err());
    }
}
