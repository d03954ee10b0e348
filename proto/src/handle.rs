//! The client handle: one connection to a broker's local connector, shared by any number of
//! concurrent rpcs, streams and event subscriptions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::{Envelope, EnvelopeCodec, Error, LocalUri, MsgType, Result, errno, flags, nodeid};

type Responses = mpsc::UnboundedSender<Envelope>;

/// State shared between the handle and its reader task.
#[derive(Default)]
struct Dispatch {
    pending: HashMap<u32, Responses>,
    next_tag: u32,
    closed: bool,
}

impl Dispatch {
    /// A matchtag not in use; 0 means "none" on the wire and is never handed out.
    fn alloc_tag(&mut self) -> u32 {
        loop {
            self.next_tag = self.next_tag.wrapping_add(1);
            if self.next_tag != 0 && !self.pending.contains_key(&self.next_tag) {
                return self.next_tag;
            }
        }
    }
}

struct Inner {
    uri: LocalUri,
    writer: tokio::sync::Mutex<FramedWrite<OwnedWriteHalf, EnvelopeCodec>>,
    dispatch: Arc<Mutex<Dispatch>>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Envelope>>,
}

/// A connection to a broker. Cheap to clone; all clones share the connection.
/// Must be used inside a tokio runtime (its reader runs as a spawned task).
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

impl Handle {
    /// Connect to the instance named by `FLUX_URI`.
    pub async fn connect_env() -> Result<Handle> {
        match std::env::var("FLUX_URI") {
            Ok(uri) if !uri.is_empty() => Handle::connect(&uri).await,
            _ => Err(Error::NoInstance),
        }
    }

    /// Connect to a `local://` URI and pass the broker's credential check.
    pub async fn connect(uri: &str) -> Result<Handle> {
        let uri = LocalUri::parse(uri)?;
        let connect_err = |source| Error::Connect {
            uri: uri.to_string(),
            source,
        };
        let mut stream = UnixStream::connect(uri.path()).await.map_err(connect_err)?;
        // The connector answers one byte: 0 when we are let in, else an errno.
        let verdict = stream.read_u8().await.map_err(connect_err)?;
        if verdict != 0 {
            return Err(Error::Refused(i32::from(verdict)));
        }
        let (read, write) = stream.into_split();
        let dispatch = Arc::new(Mutex::new(Dispatch::default()));
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        tokio::spawn(read_loop(read, Arc::clone(&dispatch), events_tx));
        Ok(Handle {
            inner: Arc::new(Inner {
                uri,
                writer: tokio::sync::Mutex::new(FramedWrite::new(write, EnvelopeCodec::default())),
                dispatch,
                events: tokio::sync::Mutex::new(events_rx),
            }),
        })
    }

    /// The URI this handle is connected to.
    pub fn uri(&self) -> &LocalUri {
        &self.inner.uri
    }

    /// Send a message as is (a request with NORESPONSE, or anything the caller framed).
    pub async fn send(&self, msg: &Envelope) -> Result<()> {
        let mut writer = self.inner.writer.lock().await;
        writer.send(msg).await.map_err(Error::from)
    }

    /// Send a request and return the channel its responses arrive on.
    async fn start(&self, mut req: Envelope) -> Result<mpsc::UnboundedReceiver<Envelope>> {
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut dispatch = lock(&self.inner.dispatch);
            if dispatch.closed {
                return Err(Error::Disconnected);
            }
            req.matchtag = dispatch.alloc_tag();
            dispatch.pending.insert(req.matchtag, tx);
        }
        if req.nodeid == nodeid::UPSTREAM {
            // Clients sit on their broker's rank; the broker fills in the rank.
            req.flags |= flags::UPSTREAM;
        }
        if let Err(e) = self.send(&req).await {
            lock(&self.inner.dispatch).pending.remove(&req.matchtag);
            return Err(e);
        }
        Ok(rx)
    }

    /// A request/response rpc with a raw payload; a failed response becomes [`Error::Rpc`].
    pub async fn rpc(
        &self,
        topic: &str,
        nodeid: u32,
        payload: impl Into<Bytes>,
    ) -> Result<Envelope> {
        let mut rx = self
            .start(Envelope::request(topic, nodeid, payload.into()))
            .await?;
        let rsp = rx.recv().await.ok_or(Error::Disconnected)?;
        check(rsp)
    }

    /// A request/response rpc with JSON in and out, to the nearest broker with the service.
    pub async fn rpc_json<Q, R>(&self, topic: &str, body: &Q) -> Result<R>
    where
        Q: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.rpc_json_to(topic, nodeid::ANY, body).await
    }

    /// A request/response rpc with JSON in and out, to a given rank.
    pub async fn rpc_json_to<Q, R>(&self, topic: &str, nodeid: u32, body: &Q) -> Result<R>
    where
        Q: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let rsp = self.rpc(topic, nodeid, serde_json::to_vec(body)?).await?;
        Ok(rsp.json()?)
    }

    /// Start a streaming rpc: responses until the service ends the stream.
    pub async fn rpc_stream(
        &self,
        topic: &str,
        nodeid: u32,
        payload: impl Into<Bytes>,
    ) -> Result<RpcStream> {
        let mut req = Envelope::request(topic, nodeid, payload.into());
        req.flags |= flags::STREAMING;
        let rx = self.start(req).await?;
        Ok(RpcStream { rx, done: false })
    }

    /// Subscribe this connection to events whose topic starts with `prefix`.
    pub async fn subscribe(&self, prefix: &str) -> Result<()> {
        let _: serde_json::Value = self
            .rpc_json("event.subscribe", &serde_json::json!({ "topic": prefix }))
            .await?;
        Ok(())
    }

    /// Drop a subscription made with [`Handle::subscribe`].
    pub async fn unsubscribe(&self, prefix: &str) -> Result<()> {
        let _: serde_json::Value = self
            .rpc_json("event.unsubscribe", &serde_json::json!({ "topic": prefix }))
            .await?;
        Ok(())
    }

    /// The next event delivered to this connection.
    pub async fn next_event(&self) -> Result<Envelope> {
        self.inner
            .events
            .lock()
            .await
            .recv()
            .await
            .ok_or(Error::Disconnected)
    }

    /// Publish an event through rank 0 and return its sequence number.
    pub async fn publish(&self, topic: &str, payload: Option<&str>, private: bool) -> Result<u32> {
        let body = serde_json::json!({
            "topic": topic,
            "flags": if private { flags::PRIVATE } else { 0 },
            "payload": payload,
        });
        let rsp: serde_json::Value = self.rpc_json_to("event.publish", 0, &body).await?;
        let seq = rsp.get("seq").and_then(|s| s.as_u64()).unwrap_or(0);
        Ok(seq as u32)
    }

    /// The value of a broker attribute.
    pub async fn attr_get(&self, name: &str) -> Result<String> {
        let rsp: serde_json::Value = self
            .rpc_json("attr.get", &serde_json::json!({ "name": name }))
            .await?;
        match rsp.get("value") {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            _ => Err(Error::rpc(errno::EPROTO, "attr.get: malformed response")),
        }
    }
}

/// The responses of a streaming rpc.
pub struct RpcStream {
    rx: mpsc::UnboundedReceiver<Envelope>,
    done: bool,
}

impl RpcStream {
    /// The next response; `None` once the service ends the stream with ENODATA.
    pub async fn next(&mut self) -> Option<Result<Envelope>> {
        if self.done {
            return None;
        }
        let Some(rsp) = self.rx.recv().await else {
            self.done = true;
            return Some(Err(Error::Disconnected));
        };
        if rsp.errnum == errno::ENODATA {
            self.done = true;
            return None;
        }
        if rsp.errnum != 0 {
            self.done = true;
        }
        Some(check(rsp))
    }
}

fn check(rsp: Envelope) -> Result<Envelope> {
    if rsp.errnum != 0 {
        Err(Error::rpc(rsp.errnum, rsp.errstr))
    } else {
        Ok(rsp)
    }
}

fn lock(dispatch: &Mutex<Dispatch>) -> MutexGuard<'_, Dispatch> {
    // The lock is never held across an await or a panic point, so poisoning cannot happen;
    // recover the guard rather than propagate a panic if it somehow does.
    dispatch.lock().unwrap_or_else(|p| p.into_inner())
}

/// Deliver incoming frames: responses by matchtag, events to the event queue.
async fn read_loop(
    read: OwnedReadHalf,
    dispatch: Arc<Mutex<Dispatch>>,
    events: mpsc::UnboundedSender<Envelope>,
) {
    let mut frames = FramedRead::new(read, EnvelopeCodec::default());
    while let Some(Ok(msg)) = frames.next().await {
        match msg.kind() {
            MsgType::Response => {
                let mut dispatch = lock(&dispatch);
                let last = msg.errnum != 0 || !msg.is_streaming();
                let tag = msg.matchtag;
                let delivered = dispatch.pending.get(&tag).map(|tx| tx.send(msg).is_ok());
                if last || delivered == Some(false) {
                    dispatch.pending.remove(&tag);
                }
            }
            MsgType::Event => {
                let _ = events.send(msg);
            }
            _ => {}
        }
    }
    // Dropping the senders wakes every waiter with "disconnected".
    let mut dispatch = lock(&dispatch);
    dispatch.closed = true;
    dispatch.pending.clear();
}
