//! A black-box WebSocket client speaking NATS, for server-layer fixtures: blocking with
//! timeouts; frames written with `nats_ws::frame::Frame` and read with the assembler.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use nats_ws::codec::assembler::Assembler;
use nats_ws::frame::{Frame, OpCode};

use crate::peer::frames::{WireFrame, data_frame};
use crate::peer::http::{accepts_deflate, head_len, parse_response, read_head};
use crate::peer::transport::{ReadEnd, Stream, read_until, would_block};

/// A WebSocket client speaking NATS.
#[derive(Debug)]
pub struct WsClient {
    stream: Stream,
    assembler: Assembler,
    /// Frames received, in order.
    pub frames: Vec<WireFrame>,
    /// Data received (messages reassembled and inflated), as one byte stream.
    pub data: Vec<u8>,
    /// How much of `data` expectations have consumed.
    pub consumed: usize,
    /// permessage-deflate was negotiated.
    pub compression: bool,
    /// The raw HTTP response head.
    pub response: Vec<u8>,
    /// The first INFO line received after the upgrade.
    pub info: Vec<u8>,
    /// The close frame received (status and reason), if any.
    pub close: Option<(Option<u16>, Vec<u8>)>,
    /// How reading last ended, if it did.
    pub ended: Option<ReadEnd>,
    key: u32,
}

impl WsClient {
    /// Sends the upgrade request and reads the response head (and any bytes after it).
    pub fn upgrade(
        mut stream: Stream,
        request: &[u8],
        timeout: Duration,
    ) -> Result<WsClient, String> {
        let mut buf = Vec::new();
        let end = match stream.write_all(request).and_then(|()| stream.flush()) {
            Err(e) => Some(ReadEnd::Error(format!("write upgrade: {e}"))),
            Ok(()) => read_head(&mut stream, &mut buf, Instant::now() + timeout, usize::MAX),
        };
        let mut end = end;
        let is_101 = buf.starts_with(b"HTTP/1.1 101 ");
        if end.is_none() && !is_101 {
            // A refusal: the body follows; read it until the server closes (briefly).
            end = read_until(
                &mut stream,
                &mut buf,
                Instant::now() + Duration::from_millis(500),
                |_| false,
            );
        }
        let head_end = if is_101 {
            head_len(&buf)
        } else {
            Some(buf.len())
        };
        let (response, rest) = match head_end {
            Some(n) => (buf[..n].to_vec(), buf[n..].to_vec()),
            None => (buf, Vec::new()),
        };
        let compression = accepts_deflate(&response);
        let mut assembler = Assembler::new(crate::bytes::MAX_GENERATED);
        assembler.push(&rest);
        Ok(WsClient {
            stream,
            assembler,
            frames: Vec::new(),
            data: Vec::new(),
            consumed: 0,
            compression,
            response,
            info: Vec::new(),
            close: None,
            ended: end,
            key: 0x0102_0304,
        })
    }

    /// The HTTP status of the response, if one arrived.
    pub fn status(&self) -> Option<u16> {
        parse_response(&self.response).map(|(s, _, _)| s)
    }

    fn next_key(&mut self) -> [u8; 4] {
        // Deterministic but varying keys (xorshift); unpredictability is not needed in tests.
        self.key ^= self.key << 13;
        self.key ^= self.key >> 17;
        self.key ^= self.key << 5;
        self.key.to_be_bytes()
    }

    /// Sends `data` as one masked binary frame (deflated when `compress` and negotiated).
    pub fn send_data(&mut self, data: &[u8], compress: bool) -> Result<(), String> {
        let bytes = self.data_frame(data, compress)?;
        self.send_raw(&bytes)
    }

    /// The bytes of one masked binary frame carrying `data` (deflated when `compress`
    /// and negotiated).
    pub fn data_frame(&mut self, data: &[u8], compress: bool) -> Result<Vec<u8>, String> {
        let key = self.next_key();
        data_frame(data, compress && self.compression, key)
    }

    /// The bytes of one masked frame.
    pub fn frame(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
        let key = self.next_key();
        Frame::new(opcode, payload)
            .fin(fin)
            .rsv1(rsv1)
            .masked(Some(key))
            .to_vec()
    }

    /// Writes `bytes` in pieces of `chop` bytes, each flushed on its own.
    pub fn send_chopped(&mut self, bytes: &[u8], chop: usize) -> Result<(), String> {
        for piece in bytes.chunks(chop.max(1)) {
            self.send_raw(piece)?;
        }
        Ok(())
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| format!("write: {e}"))
    }

    /// Takes complete frames (and the data of complete messages) out of the assembler.
    fn parse_frames(&mut self) -> Result<(), String> {
        while let Some(a) = self
            .assembler
            .next_frame()
            .map_err(|e| format!("server sent an invalid frame: {e}"))?
        {
            let payload = &a.frame.payload;
            if a.frame.header.opcode == OpCode::Close {
                let code =
                    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                self.close = Some((code, payload.get(2..).unwrap_or_default().to_vec()));
            }
            if let Some(message) = a.message {
                let m = message.map_err(|e| format!("server message does not inflate: {e}"))?;
                self.data.extend_from_slice(&m.data);
            }
            self.frames.push(a.frame);
        }
        Ok(())
    }

    /// Reads until `pred(self)` holds or `timeout` passes.
    pub fn read_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&WsClient) -> bool,
    ) -> Result<bool, String> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            self.parse_frames()?;
            if pred(self) {
                return Ok(true);
            }
            if self.ended.is_some() || Instant::now() >= deadline {
                return Ok(false);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => self.ended = Some(ReadEnd::Eof),
                Ok(n) => self.assembler.push(&chunk[..n]),
                Err(e) if would_block(&e) => {}
                Err(e) => self.ended = Some(ReadEnd::Error(e.to_string())),
            }
        }
    }

    /// The data not yet consumed by expectations.
    pub fn unread(&self) -> &[u8] {
        &self.data[self.consumed..]
    }
}
