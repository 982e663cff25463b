//! Codec-layer steps: one connection's reader and outbound framer driven in memory.

use nats_ws::codec::{Collapsed, Outbound, ReadStatus, Reader, WriteMasking};
use nats_ws::frame::UnknownClosedState;
use nats_ws::policy::{Compression, Framing, MaskPolicy};

use crate::bytes::ByteSpec;
use crate::fixture::{
    CodecStep, FrameExpect, FramingSpec, MaskingSpec, MessageExpect, ReadSpec, ReuseSpec, Setup,
    WriteExpect,
};
use crate::peer::frames::{ServerOutput, WireFrame, WireMessage, split};
use crate::run::context::Record;
use crate::transcript::{describe_frame, sent_frame, show};

/// One connection's codec (reader and outbound framer), its staged input and what
/// reading produced.
struct CodecRunner {
    reader: Reader,
    out: Outbound,
    staged: Vec<u8>,
    pending: Vec<u8>,
    payloads: Vec<Vec<u8>>,
    error: Option<String>,
    status: Option<ReadStatus>,
    rec: Record,
}

/// Runs a codec-layer case.
pub(crate) fn run(setup: &Setup, steps: &[CodecStep]) -> Record {
    let mut c = CodecRunner::new(setup);
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = c.step(step) {
            c.rec.fail(format!("step {}: {e}", i + 1));
        }
    }
    if !c.staged.is_empty() {
        c.rec.fail(format!(
            "{} staged bytes were never read (add an expectation)",
            c.staged.len()
        ));
    }
    c.rec
}

fn writer_masking(setup: &Setup) -> WriteMasking {
    match &setup.write_mask_keys {
        None => WriteMasking::Unmasked,
        Some(keys) if keys.is_empty() => WriteMasking::Unmasked,
        Some(keys) => {
            let keys = keys.clone();
            let mut i = 0usize;
            WriteMasking::Masked(Box::new(move || {
                let k = keys[i % keys.len()];
                i += 1;
                k
            }))
        }
    }
}

impl CodecRunner {
    fn new(setup: &Setup) -> Self {
        let mask = match setup.masking {
            None | Some(MaskingSpec::Required) => MaskPolicy::Required,
            Some(MaskingSpec::Exempt) => MaskPolicy::Exempt,
        };
        let compression = if setup.compression == Some(true) {
            Compression::Negotiated
        } else {
            Compression::Off
        };
        let framing = match setup.framing {
            None | Some(FramingSpec::Whole) => Framing::Whole,
            Some(FramingSpec::Browser) => Framing::Browser,
            Some(FramingSpec::Safari) => Framing::Safari,
        };
        let max_payload = setup.max_payload.unwrap_or(nats_ws::DEFAULT_MAX_PAYLOAD);
        CodecRunner {
            reader: Reader::new(mask, compression, max_payload),
            out: Outbound::new(framing, compression, writer_masking(setup)),
            staged: Vec::new(),
            pending: Vec::new(),
            payloads: Vec::new(),
            error: None,
            status: None,
            rec: Record::default(),
        }
    }

    fn step(&mut self, step: &CodecStep) -> Result<(), String> {
        match step {
            CodecStep::SendFrame(spec) => {
                let (bytes, line) = sent_frame(spec)?;
                self.rec.t.line(line);
                self.staged.extend_from_slice(&bytes);
            }
            CodecStep::SendRaw(spec) => {
                let bytes = spec.build().map_err(|e| e.to_string())?;
                self.rec.t.line(format!("> raw {}", show(&bytes)));
                self.staged.extend_from_slice(&bytes);
            }
            CodecStep::Read(spec) => self.read(spec),
            CodecStep::ExpectPayloads(want) => {
                self.read_staged();
                let want = want
                    .iter()
                    .map(ByteSpec::build)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                let got = std::mem::take(&mut self.payloads);
                if got != want {
                    let fmt =
                        |v: &[Vec<u8>]| v.iter().map(|p| show(p)).collect::<Vec<_>>().join(", ");
                    self.rec.fail(format!(
                        "payloads: got [{}], want [{}]",
                        fmt(&got),
                        fmt(&want)
                    ));
                }
            }
            CodecStep::ExpectData(want) => {
                self.read_staged();
                let want = want.build().map_err(|e| e.to_string())?;
                let got: Vec<u8> = std::mem::take(&mut self.payloads).concat();
                if got != want {
                    self.rec
                        .fail(format!("data: got {}, want {}", show(&got), show(&want)));
                }
            }
            CodecStep::ExpectError(want) => {
                self.read_staged();
                let got = self.error.clone();
                self.rec
                    .check("read error", got.as_deref(), Some(want.as_str()));
            }
            CodecStep::ExpectOpen => {
                self.read_staged();
                let got = (self.error.clone(), self.status);
                self.rec
                    .check("read outcome", got, (None, Some(ReadStatus::Open)));
            }
            CodecStep::ExpectPeerClosed => {
                self.read_staged();
                let got = (self.error.clone(), self.status);
                self.rec
                    .check("read outcome", got, (None, Some(ReadStatus::PeerClosed)));
            }
            CodecStep::ExpectHeaderPending(n) => {
                self.read_staged();
                let got = self.reader.header_pending();
                self.rec.t.line(format!("= {got} header bytes pending"));
                self.rec.check("pending header bytes", got, *n);
            }
            CodecStep::Queue(bufs) => {
                for b in bufs {
                    let bytes = b.build().map_err(|e| e.to_string())?;
                    self.pending.extend_from_slice(&bytes);
                }
                self.rec
                    .t
                    .line(format!("queue {} bytes", self.pending.len()));
            }
            CodecStep::EnqueueClose(spec) => {
                let payload = match spec.resolve()? {
                    Ok(s) => s.close_payload(),
                    Err(raw) => UnknownClosedState(raw).close_payload(),
                };
                self.rec
                    .t
                    .line(format!("enqueue close for {}", spec.label()));
                self.out.queue_close(payload);
            }
            CodecStep::CloseConnection(spec) => {
                let s = spec
                    .resolve()?
                    .map_err(|raw| format!("no closed state {raw}"))?;
                let queued = self.out.queue_close_for(s);
                self.rec.t.line(format!(
                    "close connection: {} (close frame queued: {queued})",
                    s.as_str()
                ));
            }
            CodecStep::ExpectFrames(want) => {
                let frames = self.collapse_output()?.frames;
                self.rec.check("frame count", frames.len(), want.len());
                for (i, (f, w)) in frames.iter().zip(want).enumerate() {
                    self.check_frame(i, f, w)?;
                }
            }
            CodecStep::ExpectMessages(want) => {
                let got = self
                    .collapse_output()?
                    .messages
                    .map_err(|e| e.to_string())?;
                self.rec.check("message count", got.len(), want.len());
                for (i, (m, w)) in got.iter().zip(want).enumerate() {
                    self.check_message(i, m, w)?;
                }
            }
            CodecStep::ExpectWrite(want) => self.expect_write(want)?,
            CodecStep::ExpectBuffersReused(spec) => self.expect_reused(spec)?,
            CodecStep::ExpectBuffersIndependent(data) => self.expect_independent(data)?,
        }
        Ok(())
    }

    fn read_staged(&mut self) {
        if !self.staged.is_empty() {
            self.read(&ReadSpec::default());
        }
    }

    fn read(&mut self, spec: &ReadSpec) {
        let mut input = std::mem::take(&mut self.staged);
        let mut sizes: Vec<usize> = if spec.bytewise {
            vec![1; input.len()]
        } else {
            spec.chunks.clone()
        };
        let used: usize = sizes.iter().sum();
        if used < input.len() {
            sizes.push(input.len() - used);
        }
        let shown = if spec.bytewise {
            "bytewise".to_owned()
        } else {
            format!("{sizes:?}")
        };
        self.rec
            .t
            .line(format!("read {} bytes in {shown}", input.len()));
        let mut at = 0;
        for size in sizes {
            if self.error.is_some() || self.status == Some(ReadStatus::PeerClosed) {
                break;
            }
            let end = (at + size).min(input.len());
            let chunk = &mut input[at..end];
            at = end;
            let mut delivered = Vec::new();
            let mut sink = |b: &[u8]| -> Result<(), std::convert::Infallible> {
                delivered.push(b.to_vec());
                Ok(())
            };
            let result = self.reader.read(chunk, &mut self.out, &mut sink);
            for p in delivered {
                self.rec.t.line(format!("= data {}", show(&p)));
                self.payloads.push(p);
            }
            match result {
                Ok(status) => self.status = Some(status),
                Err(e) => {
                    self.rec.t.line(format!("= error {:?}", e.to_string()));
                    self.error = Some(e.to_string());
                }
            }
        }
        if self.status == Some(ReadStatus::PeerClosed) {
            self.rec.t.line("= peer closed (end of input)");
        }
        if let Some(err) = &spec.then_error
            && self.error.is_none()
        {
            self.rec.t.line(format!("= socket error {err:?}"));
            self.error = Some(err.clone());
        }
    }

    fn collapse(&mut self) -> Result<Collapsed, String> {
        self.read_staged();
        let mut collapsed = Collapsed::new();
        self.out
            .collapse(&mut self.pending, &mut collapsed)
            .map_err(|e| e.to_string())?;
        Ok(collapsed)
    }

    fn collapse_output(&mut self) -> Result<ServerOutput, String> {
        let collapsed = self.collapse()?;
        let bytes = collapsed.to_vec();
        self.rec.t.server_output(&bytes);
        split(&bytes).map_err(|e| e.to_string())
    }

    fn check_frame(&mut self, i: usize, f: &WireFrame, w: &FrameExpect) -> Result<(), String> {
        let h = f.header;
        let what = |field: &str| format!("frame {i} {field} ({})", describe_frame(f));
        if let Some(op) = w.opcode {
            self.rec.check(&what("opcode"), h.opcode, op.opcode());
        }
        if let Some(fin) = w.fin {
            self.rec.check(&what("fin"), h.fin, fin);
        }
        if let Some(rsv1) = w.rsv1 {
            self.rec.check(&what("rsv1"), h.rsv1, rsv1);
        }
        if let Some(masked) = w.masked {
            self.rec.check(&what("masked"), h.mask.is_some(), masked);
        }
        if let Some(p) = &w.payload {
            let want = p.build().map_err(|e| e.to_string())?;
            self.rec
                .check(&what("payload"), show(&f.payload), show(&want));
        }
        if let Some(n) = w.payload_len {
            self.rec.check(&what("payload length"), f.payload.len(), n);
        }
        if let Some(n) = w.header_len {
            self.rec
                .check(&what("header length"), f.raw_header.len(), n);
        }
        if let Some(close) = &w.close {
            let reason = close.reason.build().map_err(|e| e.to_string())?;
            let mut want = close.code.to_be_bytes().to_vec();
            want.extend(reason);
            self.rec
                .check(&what("close payload"), show(&f.payload), show(&want));
        }
        Ok(())
    }

    fn check_message(
        &mut self,
        i: usize,
        m: &WireMessage,
        w: &MessageExpect,
    ) -> Result<(), String> {
        let want = w.data.build().map_err(|e| e.to_string())?;
        self.rec
            .check(&format!("message {i} data"), show(&m.data), show(&want));
        if let Some(c) = w.compressed {
            self.rec
                .check(&format!("message {i} compressed"), m.compressed, c);
        }
        if let Some(max) = w.max_frame_payload
            && let Some(big) = m.frame_payloads.iter().find(|&&n| n > max)
        {
            self.rec.fail(format!(
                "message {i}: a frame carries {big} bytes, more than {max}"
            ));
        }
        if let Some(min) = w.min_frames
            && m.frame_payloads.len() < min
        {
            self.rec.fail(format!(
                "message {i}: {} frames, want at least {min}",
                m.frame_payloads.len()
            ));
        }
        if let Some(n) = w.frames {
            self.rec.check(
                &format!("message {i} frame count"),
                m.frame_payloads.len(),
                n,
            );
        }
        Ok(())
    }

    fn expect_write(&mut self, want: &WriteExpect) -> Result<(), String> {
        let collapsed = self.collapse()?;
        let bytes = collapsed.to_vec();
        self.rec.t.server_output(&bytes);
        self.rec.t.line(format!(
            "write: {} buffers, {} bytes",
            collapsed.buffer_count(),
            collapsed.len()
        ));
        let frames = split(&bytes).map_err(|e| e.to_string())?.frames;
        if let Some(total) = want.total {
            self.rec.check("write total", collapsed.len(), total);
        }
        if let Some(sizes) = &want.frame_payloads {
            let got: Vec<usize> = frames.iter().map(|f| f.payload.len()).collect();
            self.rec.check("frame payload sizes", got, sizes.clone());
        }
        if let Some(data) = &want.data {
            let want = data.build().map_err(|e| e.to_string())?;
            let got: Vec<u8> = frames
                .iter()
                .flat_map(|f| f.payload.iter().copied())
                .collect();
            self.rec.check("write data", show(&got), show(&want));
        }
        if let Some(n) = want.buffers {
            self.rec.check("write buffers", collapsed.buffer_count(), n);
        }
        Ok(())
    }

    fn expect_reused(&mut self, spec: &ReuseSpec) -> Result<(), String> {
        let data = spec.data.build().map_err(|e| e.to_string())?;
        let mut collapsed = Collapsed::new();
        let mut pending = Vec::new();
        let flush = |c: &mut Collapsed, pending: &mut Vec<u8>, out: &mut Outbound| {
            pending.extend_from_slice(&data);
            let r = out.collapse(pending, c);
            c.recycle_into(pending);
            r
        };
        // Warm up (Go: 10 collapses), then the buffers must not grow or move.
        for _ in 0..10 {
            flush(&mut collapsed, &mut pending, &mut self.out).map_err(|e| e.to_string())?;
        }
        let caps = (collapsed.capacities(), pending.capacity());
        let mut grew = 0;
        for _ in 0..spec.runs {
            flush(&mut collapsed, &mut pending, &mut self.out).map_err(|e| e.to_string())?;
            if (collapsed.capacities(), pending.capacity()) != caps {
                grew += 1;
            }
        }
        self.rec.t.line(format!(
            "{} flushes of {} bytes: buffers grew {grew} times",
            spec.runs,
            data.len()
        ));
        self.rec.check("flushes that grew a buffer", grew, 0);
        Ok(())
    }

    fn expect_independent(&mut self, data: &ByteSpec) -> Result<(), String> {
        let data = data.build().map_err(|e| e.to_string())?;
        self.pending.extend_from_slice(&data);
        let mut collapsed = self.collapse()?;
        let before: Vec<Vec<u8>> = collapsed.slices().map(<[u8]>::to_vec).collect();
        let payload_parts: Vec<usize> = (0..collapsed.buffer_count())
            .filter(|i| i % 2 == 1)
            .collect();
        self.rec
            .t
            .line(format!("{} buffers; overwriting buffer 1", before.len()));
        if payload_parts.len() < 2 {
            self.rec.fail(format!(
                "want more than one fragment, got {} buffers",
                before.len()
            ));
            return Ok(());
        }
        if let Some(first) = collapsed.slice_mut(1) {
            first.fill(0xaa);
        }
        let after: Vec<Vec<u8>> = collapsed.slices().map(<[u8]>::to_vec).collect();
        for (i, (a, b)) in before.iter().zip(&after).enumerate() {
            if i != 1 && a != b {
                self.rec
                    .fail(format!("buffer {i} changed when buffer 1 was overwritten"));
            }
        }
        Ok(())
    }
}
