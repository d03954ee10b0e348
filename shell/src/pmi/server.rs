//! The server side of simple PMI for one job: a key-value space filled by `put`, exchanged
//! at `barrier`, read by `get`. Plain state; the transport (socketpairs to each task, or to
//! each broker) is the caller's.

use std::collections::HashMap;

use super::wire::{KEYLEN_MAX, KVSNAME_MAX, Request, VALLEN_MAX, rc};

/// One job's PMI service.
#[derive(Debug)]
pub struct PmiServer {
    kvsname: String,
    size: u32,
    /// Committed keys (visible to `get`).
    kvs: HashMap<String, String>,
    /// Keys put since the last barrier, visible once all have entered it.
    pending: HashMap<String, String>,
    in_barrier: Vec<u32>,
    /// With the job spread over several servers: how many clients this one serves. The
    /// barrier then ends only once the caller has exchanged the puts with the others.
    local: Option<u32>,
}

/// What to send back: (client rank, response line). A barrier answers everyone at once.
pub type Replies = Vec<(u32, String)>;

/// What happened to a client, beyond the replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    Finalized,
    Aborted {
        code: i32,
        msg: String,
    },
    /// Every local client entered the barrier: exchange these puts with the other servers,
    /// then call [`PmiServer::barrier_complete`] with everyone's.
    Exchange(Vec<(String, String)>),
}

impl PmiServer {
    /// A job `kvsname` of `size` tasks, with keys readable before anyone puts them.
    pub fn new(
        kvsname: impl Into<String>,
        size: u32,
        preset: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        PmiServer {
            kvsname: kvsname.into(),
            size,
            kvs: preset.into_iter().collect(),
            pending: HashMap::new(),
            in_barrier: Vec::new(),
            local: None,
        }
    }

    /// Serve `n` of the job's clients here; barriers end through an exchange.
    pub fn with_local_clients(mut self, n: u32) -> Self {
        self.local = Some(n);
        self
    }

    /// End the barrier with the puts of every server: answers the waiting clients.
    pub fn barrier_complete(
        &mut self,
        puts: impl IntoIterator<Item = (String, String)>,
    ) -> Replies {
        self.kvs.extend(puts);
        self.pending.clear();
        std::mem::take(&mut self.in_barrier)
            .into_iter()
            .map(|r| (r, "cmd=barrier_out rc=0".to_string()))
            .collect()
    }

    /// Serve one request from client `rank`.
    pub fn handle(&mut self, rank: u32, req: Request) -> (Replies, Outcome) {
        let one = |line: String| vec![(rank, line)];
        let reply = match req {
            Request::Init {
                version,
                subversion,
            } => {
                let ok = version == 1 && subversion >= 1;
                let code = if ok { rc::SUCCESS } else { rc::FAIL };
                one(format!(
                    "cmd=response_to_init rc={code} pmi_version=1 pmi_subversion=1"
                ))
            }
            Request::GetMaxes => one(format!(
                "cmd=maxes rc=0 kvsname_max={KVSNAME_MAX} keylen_max={KEYLEN_MAX} vallen_max={VALLEN_MAX}"
            )),
            Request::GetUniverseSize => one(format!("cmd=universe_size rc=0 size={}", self.size)),
            Request::GetAppnum => one("cmd=appnum rc=0 appnum=0".into()),
            Request::GetMyKvsname => one(format!("cmd=my_kvsname rc=0 kvsname={}", self.kvsname)),
            Request::Put {
                kvsname,
                key,
                value,
            } => {
                let code = if kvsname != self.kvsname {
                    rc::INVALID_ARG
                } else if key.is_empty() || key.len() > KEYLEN_MAX {
                    rc::INVALID_KEY_LENGTH
                } else if value.len() > VALLEN_MAX {
                    rc::INVALID_VAL_LENGTH
                } else if self.kvs.contains_key(&key) || self.pending.contains_key(&key) {
                    rc::INVALID_KEY
                } else {
                    self.pending.insert(key, value);
                    rc::SUCCESS
                };
                one(format!("cmd=put_result rc={code}"))
            }
            Request::BarrierIn => {
                if !self.in_barrier.contains(&rank) {
                    self.in_barrier.push(rank);
                }
                if self.in_barrier.len() < self.local.unwrap_or(self.size) as usize {
                    Vec::new()
                } else if self.local.is_some() {
                    let puts = self.pending.drain().collect();
                    return (Vec::new(), Outcome::Exchange(puts));
                } else {
                    self.kvs.extend(self.pending.drain());
                    std::mem::take(&mut self.in_barrier)
                        .into_iter()
                        .map(|r| (r, "cmd=barrier_out rc=0".to_string()))
                        .collect()
                }
            }
            Request::Get { kvsname, key } => match (kvsname == self.kvsname, self.kvs.get(&key)) {
                (true, Some(value)) => one(format!("cmd=get_result rc=0 value={value}")),
                _ => one(format!("cmd=get_result rc={}", rc::INVALID_KEY)),
            },
            Request::Finalize => return (one("cmd=finalize_ack rc=0".into()), Outcome::Finalized),
            Request::Abort { code, msg } => return (Vec::new(), Outcome::Aborted { code, msg }),
            Request::Unsupported(cmd) => {
                let name = if cmd == "spawn" {
                    "spawn".to_string()
                } else {
                    cmd.replace("_name", "")
                };
                one(format!("cmd={name}_result rc={} msg=unsupported", rc::FAIL))
            }
        };
        (reply, Outcome::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pmi::wire::parse_request;

    fn ask(s: &mut PmiServer, rank: u32, line: &str) -> Replies {
        s.handle(rank, parse_request(line).unwrap()).0
    }

    #[test]
    fn a_two_rank_exchange() {
        let mut s = PmiServer::new(
            "fjob",
            2,
            [("flux.instance-level".to_string(), "1".to_string())],
        );
        assert_eq!(
            ask(&mut s, 0, "cmd=init pmi_version=1 pmi_subversion=1")[0].1,
            "cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1"
        );
        assert_eq!(
            ask(&mut s, 1, "cmd=get_my_kvsname")[0].1,
            "cmd=my_kvsname rc=0 kvsname=fjob"
        );
        assert_eq!(
            ask(&mut s, 0, "cmd=put kvsname=fjob key=0 value=card zero")[0].1,
            "cmd=put_result rc=0"
        );
        assert_eq!(
            ask(&mut s, 0, "cmd=put kvsname=fjob key=0 value=again")[0].1,
            "cmd=put_result rc=4"
        );
        assert_eq!(
            ask(&mut s, 1, "cmd=get kvsname=fjob key=0")[0].1,
            "cmd=get_result rc=4",
            "not before the barrier"
        );
        assert!(ask(&mut s, 0, "cmd=barrier_in").is_empty());
        let out = ask(&mut s, 1, "cmd=barrier_in");
        assert_eq!(out.len(), 2);
        assert_eq!(
            ask(&mut s, 1, "cmd=get kvsname=fjob key=0")[0].1,
            "cmd=get_result rc=0 value=card zero"
        );
        assert_eq!(
            ask(&mut s, 1, "cmd=get kvsname=fjob key=flux.instance-level")[0].1,
            "cmd=get_result rc=0 value=1"
        );
        let (out, outcome) = s.handle(0, parse_request("cmd=finalize").unwrap());
        assert_eq!(
            (out[0].1.as_str(), outcome),
            ("cmd=finalize_ack rc=0", Outcome::Finalized)
        );
        let (_, outcome) = s.handle(
            1,
            parse_request("cmd=abort exitcode=2 error_msg=oops").unwrap(),
        );
        assert_eq!(
            outcome,
            Outcome::Aborted {
                code: 2,
                msg: "oops".into()
            }
        );
    }

    #[test]
    fn barriers_across_servers_wait_for_the_exchange() {
        let mut s = PmiServer::new("j", 4, []).with_local_clients(2);
        ask(&mut s, 2, "cmd=put kvsname=j key=a value=1");
        assert!(ask(&mut s, 2, "cmd=barrier_in").is_empty());
        let (replies, outcome) = s.handle(3, parse_request("cmd=barrier_in").unwrap());
        assert!(replies.is_empty());
        assert_eq!(outcome, Outcome::Exchange(vec![("a".into(), "1".into())]));
        let out = s.barrier_complete([("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(out.len(), 2);
        assert_eq!(
            ask(&mut s, 3, "cmd=get kvsname=j key=b")[0].1,
            "cmd=get_result rc=0 value=2"
        );
    }

    #[test]
    fn bad_versions_and_unsupported_commands() {
        let mut s = PmiServer::new("j", 1, []);
        assert!(
            ask(&mut s, 0, "cmd=init pmi_version=2 pmi_subversion=0")[0]
                .1
                .contains("rc=-1")
        );
        assert!(
            ask(&mut s, 0, "cmd=lookup_name service=x")[0]
                .1
                .starts_with("cmd=lookup_result rc=-1")
        );
    }
}
