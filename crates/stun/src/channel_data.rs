//! ChannelData messages (RFC 8656 §12.4) and framing of STUN over streams (RFC 8656 §12.5).

use crate::error::DecodeError;
use crate::message::{HEADER_LEN, padded};

/// Lowest valid channel number.
pub const MIN_CHANNEL: u16 = 0x4000;
/// Highest valid channel number. RFC 8656 narrowed the range to 0x4FFF, but RFC 5766 clients
/// (coturn's among them) use up to 0x7FFF, so the server accepts the RFC 5766 range.
pub const MAX_CHANNEL: u16 = 0x7FFF;
/// Size of the ChannelData header.
pub const CHANNEL_HEADER_LEN: usize = 4;

/// Whether `n` is a channel number a client may bind.
pub fn is_valid_channel(n: u16) -> bool {
    (MIN_CHANNEL..=MAX_CHANNEL).contains(&n)
}

/// A ChannelData message borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// The channel number (0x4000-0x7FFF).
    pub channel: u16,
    /// The application data.
    pub payload: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Decodes a ChannelData message. Bytes after the announced length (padding) are ignored.
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < CHANNEL_HEADER_LEN {
            return Err(DecodeError::Truncated);
        }
        let channel = u16::from_be_bytes([buf[0], buf[1]]);
        if !is_valid_channel(channel) {
            return Err(DecodeError::InvalidChannel);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        let payload = buf.get(CHANNEL_HEADER_LEN..CHANNEL_HEADER_LEN + len).ok_or(DecodeError::Truncated)?;
        Ok(ChannelData { channel, payload })
    }
}

/// Writes the 4-byte ChannelData header for a payload of `len` bytes.
pub fn write_header(out: &mut [u8], channel: u16, len: usize) -> Result<(), crate::EncodeError> {
    let len = u16::try_from(len).map_err(|_| crate::EncodeError::TooLong)?;
    let h = out.get_mut(..CHANNEL_HEADER_LEN).ok_or(crate::EncodeError::BufferTooSmall)?;
    h[0..2].copy_from_slice(&channel.to_be_bytes());
    h[2..4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Writes a whole ChannelData message into `out`; with `pad`, zero-pads it to a multiple of
/// four bytes (required over TCP and TLS). Returns the number of bytes written.
pub fn encode(out: &mut [u8], channel: u16, payload: &[u8], pad: bool) -> Result<usize, crate::EncodeError> {
    let total = CHANNEL_HEADER_LEN + if pad { padded(payload.len()) } else { payload.len() };
    if out.len() < total {
        return Err(crate::EncodeError::BufferTooSmall);
    }
    write_header(out, channel, payload.len())?;
    out[CHANNEL_HEADER_LEN..CHANNEL_HEADER_LEN + payload.len()].copy_from_slice(payload);
    out[CHANNEL_HEADER_LEN + payload.len()..total].fill(0);
    Ok(total)
}

/// Length of the next frame at the start of a stream buffer: a STUN message or a padded
/// ChannelData message. `Ok(None)` means more bytes are needed to know.
pub fn stream_frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < CHANNEL_HEADER_LEN {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    match buf[0] >> 6 {
        0 if len % 4 == 0 => Ok(Some(HEADER_LEN + len)),
        0 => Err(DecodeError::UnalignedLength),
        1 => {
            if !is_valid_channel(u16::from_be_bytes([buf[0], buf[1]])) {
                return Err(DecodeError::InvalidChannel);
            }
            Ok(Some(CHANNEL_HEADER_LEN + padded(len)))
        }
        _ => Err(DecodeError::NotStun),
    }
}

/// Cuts a byte stream (TCP or TLS) into whole STUN and ChannelData frames, however the bytes
/// arrive: push what was read, then take frames until `Ok(None)`. A frame is at most
/// 65,552 bytes (the length fields are 16 bits), so the buffer stays bounded.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// Start of the bytes not yet returned as a frame.
    start: usize,
}

impl StreamFramer {
    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame; `Ok(None)` until more bytes arrive. After an error the stream
    /// cannot be framed any more: close it.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, DecodeError> {
        let rest = &self.buf[self.start..];
        let Some(len) = stream_frame_len(rest)? else { return Ok(None) };
        if rest.len() < len {
            return Ok(None);
        }
        let frame = self.start..self.start + len;
        self.start += len;
        Ok(Some(&self.buf[frame]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_and_without_padding() {
        let mut out = [0u8; 16];
        let n = encode(&mut out, 0x4001, b"hello", false).unwrap();
        assert_eq!(n, 9);
        let cd = ChannelData::decode(&out[..n]).unwrap();
        assert_eq!((cd.channel, cd.payload), (0x4001, &b"hello"[..]));
        let n = encode(&mut out, 0x4FFF, b"hello", true).unwrap();
        assert_eq!(n, 12);
        assert_eq!(ChannelData::decode(&out[..n]).unwrap().payload, b"hello");
        assert_eq!(stream_frame_len(&out[..n]).unwrap(), Some(12));
    }

    #[test]
    fn rejects_bad_channel_data() {
        assert_eq!(ChannelData::decode(&[0x40, 0]).unwrap_err(), DecodeError::Truncated);
        assert_eq!(ChannelData::decode(&[0x80, 0, 0, 0]).unwrap_err(), DecodeError::InvalidChannel);
        assert_eq!(ChannelData::decode(&[0x3F, 0xFF, 0, 0]).unwrap_err(), DecodeError::InvalidChannel);
        assert_eq!(ChannelData::decode(&[0x40, 0, 0, 9, 1]).unwrap_err(), DecodeError::Truncated);
        assert_eq!(stream_frame_len(&[0xC0, 0, 0, 0]).unwrap_err(), DecodeError::NotStun);
        assert_eq!(stream_frame_len(&[0, 1, 0, 3]).unwrap_err(), DecodeError::UnalignedLength);
        assert_eq!(stream_frame_len(&[0, 1]).unwrap(), None);
        assert_eq!(stream_frame_len(&[0, 1, 0, 8]).unwrap(), Some(28));
        assert!(encode(&mut [0u8; 5], 0x4000, b"hello", false).is_err());
    }

    #[test]
    fn a_stream_is_cut_into_frames_however_it_arrives() {
        let mut stream = vec![0u8; 12];
        encode(&mut stream, 0x4001, b"hello", true).unwrap();
        stream.extend_from_slice(&[0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42]);
        stream.extend_from_slice(&[7; 12]);
        let mut framer = StreamFramer::default();
        let mut frames = Vec::new();
        for byte in &stream {
            framer.push(std::slice::from_ref(byte));
            while let Some(frame) = framer.next_frame().unwrap() {
                frames.push(frame.len());
            }
        }
        assert_eq!(frames, [12, 20]);
        framer.push(&[0xC0, 0, 0, 0]);
        assert_eq!(framer.next_frame(), Err(DecodeError::NotStun));
    }
}
