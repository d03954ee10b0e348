//! The `content.*` service (RFC 10): raw blobs by binary digest, over the same store as
//! the KVS (sled cannot open one database twice, so one module serves both).

use bytes::Bytes;
use flux_proto::Envelope;
use flux_store::{Blobref, Kvs};

use super::core::Reply;
use super::error::{KvsError, KvsResult};

/// Answer one `content.*` request.
pub fn handle(kvs: &Kvs, msg: &Envelope) -> KvsResult<Reply> {
    if !msg.is_owner() {
        // RFC 10: the content store is not accessible to guests.
        return Err(KvsError::Perm("content: owner only".into()));
    }
    let content = kvs.content();
    match msg.topic.as_str() {
        // content.store: raw blob in, raw binary digest out, once on disk.
        "content.store" => {
            let r = content.store(&msg.payload)?;
            Ok(Reply::Durable(
                msg.response(Bytes::copy_from_slice(r.digest())),
            ))
        }
        // content.load: raw binary digest in, raw blob out; unknown: ENOENT.
        "content.load" => {
            let r = Blobref::from_digest(content.config().hash, &msg.payload)?;
            let blob = content.load(&r)?;
            Ok(Reply::Now(msg.response(Bytes::copy_from_slice(&blob))))
        }
        // Everything acknowledged is already durable; answer after one more flush.
        "content.flush" => Ok(Reply::Durable(msg.response(Bytes::new()))),
        "content.dropcache" => {
            kvs.tree().drop_cache();
            Ok(Reply::Now(msg.response(Bytes::new())))
        }
        _ => Err(KvsError::NoMethod(msg.topic.clone())),
    }
}
