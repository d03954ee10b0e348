//! Flux's message model (spec/messages.md) on top of the generated [`Envelope`].

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errno;
pub use crate::pb::{Envelope, MsgType};

/// Message flags (the bits of Flux's proto header that matter to routing and rpc).
pub mod flags {
    /// Request: the server must not respond.
    pub const NORESPONSE: u32 = 0x04;
    /// Request: nodeid is the sender's rank; route to the same service one level up.
    pub const UPSTREAM: u32 = 0x10;
    /// Event: deliver only to the instance owner and the sender.
    pub const PRIVATE: u32 = 0x20;
    /// Request/response belong to a streaming rpc.
    pub const STREAMING: u32 = 0x40;
}

/// Special request nodeids.
pub mod nodeid {
    /// Deliver to the nearest broker that has the service.
    pub const ANY: u32 = 0xFFFF_FFFF;
    /// API-only: converted to the sender's rank plus [`super::flags::UPSTREAM`].
    pub const UPSTREAM: u32 = 0xFFFF_FFFE;
}

/// Role bits of a credential (RFC 12).
pub mod role {
    pub const NONE: u32 = 0;
    pub const OWNER: u32 = 1;
    pub const USER: u32 = 2;
    pub const LOCAL: u32 = 4;
    pub const ADMIN: u32 = 8;
}

/// The userid of a message whose sender is not yet known.
pub const USERID_UNKNOWN: u32 = 0xFFFF_FFFF;

impl Envelope {
    /// A request for `topic` to `nodeid` with a raw payload.
    pub fn request(topic: impl Into<String>, nodeid: u32, payload: Bytes) -> Self {
        Envelope {
            msg_type: MsgType::Request as i32,
            topic: topic.into(),
            nodeid,
            userid: USERID_UNKNOWN,
            payload,
            ..Default::default()
        }
    }

    /// A request whose payload is `body` as JSON.
    pub fn request_json<T: Serialize + ?Sized>(
        topic: impl Into<String>,
        nodeid: u32,
        body: &T,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self::request(
            topic,
            nodeid,
            Bytes::from(serde_json::to_vec(body)?),
        ))
    }

    /// The successful response to this request, carrying `payload`.
    pub fn response(&self, payload: Bytes) -> Self {
        Envelope {
            msg_type: MsgType::Response as i32,
            topic: self.topic.clone(),
            matchtag: self.matchtag,
            // NORESPONSE travels along so that routing drops what nobody waits for.
            flags: self.flags & (flags::STREAMING | flags::NORESPONSE),
            route: self.route.clone(),
            payload,
            ..Default::default()
        }
    }

    /// The successful response to this request, carrying `body` as JSON.
    pub fn response_json<T: Serialize + ?Sized>(&self, body: &T) -> Self {
        // Serializing our own response types cannot fail (no maps with non-string keys).
        let payload = serde_json::to_vec(body).unwrap_or_default();
        self.response(Bytes::from(payload))
    }

    /// The error response to this request; an empty `errstr` means the errno's description.
    pub fn error_response(&self, errnum: i32, errstr: impl Into<String>) -> Self {
        let mut rsp = self.response(Bytes::new());
        rsp.errnum = errnum;
        rsp.errstr = errstr.into();
        rsp
    }

    /// An event with a sequence number.
    pub fn event(topic: impl Into<String>, seq: u32, payload: Bytes) -> Self {
        Envelope {
            msg_type: MsgType::Event as i32,
            topic: topic.into(),
            seq,
            payload,
            ..Default::default()
        }
    }

    /// The message type, `Unspecified` for values we do not know.
    pub fn kind(&self) -> MsgType {
        MsgType::try_from(self.msg_type).unwrap_or(MsgType::Unspecified)
    }

    /// The service part of the topic: everything before the first `.`.
    pub fn service(&self) -> &str {
        self.topic.split('.').next().unwrap_or("")
    }

    /// Whether this message belongs to a streaming rpc.
    pub fn is_streaming(&self) -> bool {
        self.flags & flags::STREAMING != 0
    }

    /// Whether the sender expects no response.
    pub fn is_noresponse(&self) -> bool {
        self.flags & flags::NORESPONSE != 0
    }

    /// Whether the sender holds the instance owner role.
    pub fn is_owner(&self) -> bool {
        self.rolemask & role::OWNER != 0
    }

    /// The payload decoded as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        // An empty payload reads as an empty object, so handlers may take optional fields.
        if self.payload.is_empty() {
            serde_json::from_slice(b"{}")
        } else {
            serde_json::from_slice(&self.payload)
        }
    }

    /// The error text of a failed response: `errstr`, or the errno's description.
    pub fn error_text(&self) -> String {
        if self.errstr.is_empty() {
            errno::strerror(self.errnum)
        } else {
            self.errstr.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_copies_what_routing_needs() {
        let mut req = Envelope::request("kvs.lookup", nodeid::ANY, Bytes::from_static(b"{}"));
        req.matchtag = 7;
        req.flags = flags::STREAMING | flags::NORESPONSE;
        req.route = vec!["client".into(), "0".into()];
        let rsp = req.error_response(errno::ENOENT, "");
        assert_eq!(rsp.kind(), MsgType::Response);
        assert_eq!(rsp.topic, "kvs.lookup");
        assert_eq!(rsp.matchtag, 7);
        assert_eq!(rsp.route, req.route);
        assert_eq!(rsp.flags, flags::STREAMING | flags::NORESPONSE);
        assert!(
            rsp.is_noresponse(),
            "routing drops answers to NORESPONSE requests"
        );
        assert_eq!(rsp.error_text(), "No such file or directory");
    }

    #[test]
    fn service_is_the_topic_prefix() {
        let req = Envelope::request("job-manager.submit", 0, Bytes::new());
        assert_eq!(req.service(), "job-manager");
        let req = Envelope::request("ping", 0, Bytes::new());
        assert_eq!(req.service(), "ping");
    }

    #[test]
    fn empty_payload_reads_as_empty_object() {
        #[derive(serde::Deserialize)]
        struct Opt {
            name: Option<String>,
        }
        let req = Envelope::request("x.y", 0, Bytes::new());
        assert!(req.json::<Opt>().unwrap().name.is_none());
    }
}
