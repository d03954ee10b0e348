//! Length-prefixed protobuf frames: a 4-byte big-endian length, then one [`Envelope`].

use bytes::{BufMut, BytesMut};
use prost::Message;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use crate::Envelope;

/// The largest frame accepted by default (64 MiB): large enough for job output and KVS
/// blobs, small enough that a rogue client cannot make us allocate without bound.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Frames [`Envelope`]s on a byte stream. An oversized or undecodable frame is an error,
/// which ends that connection (and only that connection).
#[derive(Debug, Clone)]
pub struct EnvelopeCodec {
    frames: LengthDelimitedCodec,
}

impl EnvelopeCodec {
    /// A codec refusing frames over `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        let frames = LengthDelimitedCodec::builder()
            .length_field_length(4)
            .max_frame_length(max_frame)
            .new_codec();
        EnvelopeCodec { frames }
    }
}

impl Default for EnvelopeCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl Decoder for EnvelopeCodec {
    type Item = Envelope;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Envelope>, Self::Error> {
        match self.frames.decode(src)? {
            Some(frame) => Envelope::decode(frame.freeze())
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            None => Ok(None),
        }
    }
}

impl Encoder<Envelope> for EnvelopeCodec {
    type Error = std::io::Error;

    fn encode(&mut self, msg: Envelope, dst: &mut BytesMut) -> Result<(), Self::Error> {
        self.encode(&msg, dst)
    }
}

impl Encoder<&Envelope> for EnvelopeCodec {
    type Error = std::io::Error;

    fn encode(&mut self, msg: &Envelope, dst: &mut BytesMut) -> Result<(), Self::Error> {
        // Encode in place: length prefix, then the message, with no intermediate buffer.
        let len = msg.encoded_len();
        if len > self.frames.max_frame_length() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("message of {len} bytes exceeds the frame limit"),
            ));
        }
        dst.reserve(4 + len);
        dst.put_u32(len as u32);
        msg.encode(dst)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{flags, nodeid};
    use bytes::Bytes;

    fn sample() -> Envelope {
        let mut msg = Envelope::request("kvs.get", nodeid::ANY, Bytes::from_static(b"{\"k\":1}"));
        msg.matchtag = 42;
        msg.flags = flags::STREAMING;
        msg.route = vec!["abc".into()];
        msg
    }

    #[test]
    fn round_trips_several_frames_split_anywhere() {
        let mut codec = EnvelopeCodec::default();
        let mut wire = BytesMut::new();
        codec.encode(sample(), &mut wire).unwrap();
        codec.encode(sample(), &mut wire).unwrap();
        let bytes = wire.freeze();
        for cut in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..cut]);
            let mut out = Vec::new();
            while let Some(m) = codec.decode(&mut buf).unwrap() {
                out.push(m);
            }
            buf.extend_from_slice(&bytes[cut..]);
            while let Some(m) = codec.decode(&mut buf).unwrap() {
                out.push(m);
            }
            assert_eq!(out, vec![sample(), sample()], "cut at {cut}");
        }
    }

    #[test]
    fn oversized_frame_is_an_error() {
        let mut codec = EnvelopeCodec::new(16);
        let mut buf = BytesMut::new();
        buf.put_u32(1 << 20);
        buf.put_slice(&[0u8; 32]);
        assert!(codec.decode(&mut buf).is_err());
        assert!(codec.encode(sample(), &mut BytesMut::new()).is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        let mut codec = EnvelopeCodec::default();
        let mut buf = BytesMut::new();
        buf.put_u32(4);
        buf.put_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(codec.decode(&mut buf).is_err());
    }
}
