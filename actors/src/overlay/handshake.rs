//! Admission to the overlay: a peer must prove it holds the instance key before anything
//! else is accepted. The parent sends a fresh nonce; the child answers with its rank and a
//! keyed hash of nonce and rank; the parent answers one byte, 0 or an errno.

use std::io;
use std::path::Path;
use std::time::Duration;

use flux_proto::errno;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAGIC: &[u8; 4] = b"FLX1";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a peer was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("overlay handshake: {0}")]
    Io(#[from] io::Error),
    #[error("overlay handshake timed out")]
    Timeout,
    #[error("peer does not speak this overlay protocol")]
    Protocol,
    #[error("peer claiming rank {0} did not prove the instance key")]
    BadProof(u32),
    #[error("refused by parent: {}", errno::strerror(*.0))]
    Refused(i32),
}

/// The secret shared by the brokers of one instance (`flux keygen` writes one).
#[derive(Clone)]
pub struct InstanceKey([u8; 32]);

impl std::fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceKey(..)")
    }
}

impl InstanceKey {
    /// A fresh random key.
    pub fn generate() -> io::Result<Self> {
        Ok(InstanceKey(random_bytes()?))
    }

    /// The key as hex (how it travels through PMI and sits in key files).
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// A key from its hex form.
    pub fn from_hex(text: &str) -> io::Result<Self> {
        let bytes = decode_hex(text.trim())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an instance key"))?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(InstanceKey(key))
    }

    /// Read a key written by [`InstanceKey::save`].
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let bytes = decode_hex(text.trim())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not an instance key", path.display()),
                )
            })?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(InstanceKey(key))
    }

    /// Write the key as hex, readable by its owner only.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        io::Write::write_all(&mut file, format!("{}\n", self.to_hex()).as_bytes())
    }

    fn proof(&self, nonce: &[u8; 32], rank: u32) -> [u8; 32] {
        let mut data = [0u8; 36];
        data[..32].copy_from_slice(nonce);
        data[32..].copy_from_slice(&rank.to_be_bytes());
        *blake3::keyed_hash(&self.0, &data).as_bytes()
    }
}

/// Parent side: challenge the peer; return its rank once it proved the key.
pub async fn admit(stream: &mut TcpStream, key: &InstanceKey) -> Result<u32, HandshakeError> {
    tokio::time::timeout(TIMEOUT, async {
        let nonce = random_bytes()?;
        let mut hello = [0u8; 36];
        hello[..4].copy_from_slice(MAGIC);
        hello[4..].copy_from_slice(&nonce);
        stream.write_all(&hello).await?;
        let mut answer = [0u8; 40];
        stream.read_exact(&mut answer).await?;
        if &answer[..4] != MAGIC {
            return Err(HandshakeError::Protocol);
        }
        let rank = u32::from_be_bytes([answer[4], answer[5], answer[6], answer[7]]);
        if answer[8..] != key.proof(&nonce, rank) {
            let _ = stream.write_u8(errno::EPERM as u8).await;
            return Err(HandshakeError::BadProof(rank));
        }
        stream.write_u8(0).await?;
        Ok(rank)
    })
    .await
    .map_err(|_| HandshakeError::Timeout)?
}

/// Child side: answer the parent's challenge as `rank`.
pub async fn join(
    stream: &mut TcpStream,
    key: &InstanceKey,
    rank: u32,
) -> Result<(), HandshakeError> {
    tokio::time::timeout(TIMEOUT, async {
        let mut hello = [0u8; 36];
        stream.read_exact(&mut hello).await?;
        if &hello[..4] != MAGIC {
            return Err(HandshakeError::Protocol);
        }
        let mut nonce = [0u8; 32];
        nonce.copy_from_slice(&hello[4..]);
        let mut answer = [0u8; 40];
        answer[..4].copy_from_slice(MAGIC);
        answer[4..8].copy_from_slice(&rank.to_be_bytes());
        answer[8..].copy_from_slice(&key.proof(&nonce, rank));
        stream.write_all(&answer).await?;
        match stream.read_u8().await? {
            0 => Ok(()),
            e => Err(HandshakeError::Refused(i32::from(e))),
        }
    })
    .await
    .map_err(|_| HandshakeError::Timeout)?
}

fn random_bytes() -> io::Result<[u8; 32]> {
    let mut buf = [0u8; 32];
    io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut buf)?;
    Ok(buf)
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, server) = tokio::join!(client, listener.accept());
        (server.unwrap().0, client.unwrap())
    }

    #[tokio::test]
    async fn the_right_key_gets_in() {
        let key = InstanceKey::generate().unwrap();
        let (mut parent, mut child) = pair().await;
        let (admitted, joined) = tokio::join!(admit(&mut parent, &key), join(&mut child, &key, 7));
        assert_eq!(admitted.unwrap(), 7);
        joined.unwrap();
    }

    #[tokio::test]
    async fn a_wrong_key_is_refused() {
        let key = InstanceKey::generate().unwrap();
        let other = InstanceKey::generate().unwrap();
        let (mut parent, mut child) = pair().await;
        let (admitted, joined) =
            tokio::join!(admit(&mut parent, &key), join(&mut child, &other, 1));
        assert!(matches!(admitted, Err(HandshakeError::BadProof(1))));
        assert!(matches!(joined, Err(HandshakeError::Refused(e)) if e == errno::EPERM));
    }

    #[test]
    fn keys_round_trip_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let key = InstanceKey::generate().unwrap();
        key.save(&path).unwrap();
        assert_eq!(InstanceKey::load(&path).unwrap().0, key.0);
        assert!(key.save(&path).is_err(), "never overwrite a key");
        std::fs::write(dir.path().join("bad"), "xyz").unwrap();
        assert!(InstanceKey::load(&dir.path().join("bad")).is_err());
    }
}
