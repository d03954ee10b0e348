//! Who may use the local connector: the instance owner only (single-user instance).

use flux_proto::errno;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

/// The connector's decision about a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Refuse with this errno (sent as the handshake byte).
    Refuse(i32),
}

/// Decide on a peer from its uid (`None`: the kernel did not tell us).
pub fn authorize(peer_uid: Option<u32>, owner: u32) -> Verdict {
    match peer_uid {
        Some(uid) if uid == owner => Verdict::Accept,
        _ => Verdict::Refuse(errno::EPERM),
    }
}

/// Tell a refused peer why, then hang up.
pub async fn refuse(mut stream: UnixStream, errnum: i32) {
    let _ = stream
        .write_u8(u8::try_from(errnum).unwrap_or(u8::MAX))
        .await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_gets_in() {
        assert_eq!(authorize(Some(1000), 1000), Verdict::Accept);
        assert_eq!(authorize(Some(0), 1000), Verdict::Refuse(errno::EPERM));
        assert_eq!(authorize(None, 1000), Verdict::Refuse(errno::EPERM));
    }
}
