//! Frame- and codec-layer steps: the nats-ws core driven in memory, no sockets.

use nats_ws::codec::{Collapsed, Outbound, ReadStatus, Reader, WriteMasking};
use nats_ws::frame::{
    ClosedState, FrameHeader, MaskCursor, OpCode, apply_mask, close_message, is_control,
};
use nats_ws::policy::{Compression, Framing, MaskPolicy};

use crate::bytes::ByteSpec;
use crate::fixture::{
    FrameExpect, FrameSpec, FramingSpec, MaskingSpec, MessageExpect, OpcodeName, ReadSpec,
    ReuseSpec, Setup, StateSpec, Step, WriteExpect,
};
use crate::peer::frames::{ServerOutput, WireFrame, WireMessage, spec_frame, split};
use crate::transcript::{Transcript, describe_frame, hex, hex_spaced, show};

/// One connection's core, its staged input and what reading produced.
struct Conn<'c> {
    setup: Setup,
    srv: super::server::SrvState<'c>,
    hs: super::handshake::HsState,
    opts: super::options::OptState,
    reader: Reader,
    out: Outbound,
    staged: Vec<u8>,
    pending: Vec<u8>,
    payloads: Vec<Vec<u8>>,
    error: Option<String>,
    status: Option<ReadStatus>,
    failures: Vec<String>,
    t: Transcript,
}

/// Runs the steps of any in-memory layer; returns the failures and the transcript.
pub(crate) fn run(
    setup: &Setup,
    steps: &[Step],
    ctx: &super::RunContext,
) -> (Vec<String>, Transcript, Option<u16>) {
    let mut c = Conn::new(setup, ctx);
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = c.step(step) {
            c.failures.push(format!("step {}: {e}", i + 1));
        }
    }
    if !c.staged.is_empty() {
        c.failures.push(format!(
            "{} staged bytes were never read (add an expectation)",
            c.staged.len()
        ));
    }
    let remote_close = c.srv.remote_close();
    (c.failures, c.t, remote_close)
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

fn opcode(name: OpcodeName) -> OpCode {
    name.opcode()
}

/// A closed state by its Go constant name, or a raw value (`Err(raw)` if it has no name).
pub(crate) fn state(spec: &StateSpec) -> Result<Result<ClosedState, u8>, String> {
    match spec {
        StateSpec::Raw(n) => Ok(ClosedState::from_u8(*n).map_err(|u| u.0)),
        StateSpec::Name(name) => ClosedState::ALL
            .iter()
            .find(|s| go_state_name(**s) == *name)
            .map(|s| Ok(*s))
            .ok_or_else(|| format!("unknown closed state {name:?}")),
    }
}

/// The Go constant name of a state (`TLSHandshakeError`, `DuplicateClientID`, ...).
fn go_state_name(s: ClosedState) -> String {
    match s {
        ClosedState::TlsHandshakeError => "TLSHandshakeError".to_owned(),
        ClosedState::DuplicateClientId => "DuplicateClientID".to_owned(),
        other => format!("{other:?}"),
    }
}

/// A fixture frame's bytes and its transcript line.
pub(crate) fn encode_frame(spec: &FrameSpec) -> Result<(Vec<u8>, String), String> {
    let f = spec_frame(spec)?;
    let h = f.header;
    let mut line = format!(
        "> {} {} rsv={}{}{}",
        f.raw_opcode
            .map_or_else(|| h.opcode.name().to_owned(), |r| format!("opcode{r}")),
        if h.fin { "fin" } else { "nofin" },
        u8::from(h.rsv1),
        u8::from(spec.rsv2),
        u8::from(spec.rsv3)
    );
    if let Some(k) = h.mask {
        line.push_str(&format!(" mask={}", hex(&k)));
    }
    line.push_str(&format!(
        " len={} hdr=[{}]",
        h.payload_len,
        hex_spaced(&f.raw_header)
    ));
    if spec.compress {
        line.push_str(&format!(" deflated {}", show(&f.clear)));
    } else if let Some(close) = &spec.close {
        line.push_str(&format!(
            " code={} reason={}",
            close.code,
            show(f.clear.get(2..).unwrap_or_default())
        ));
    } else if !f.clear.is_empty() {
        line.push_str(&format!(" {}", show(&f.clear)));
    }
    if let Some(cut) = spec.truncate {
        line.push_str(&format!(" (first {cut} bytes sent)"));
    }
    Ok((f.bytes, line))
}

impl<'c> Conn<'c> {
    fn new(setup: &Setup, ctx: &'c super::RunContext) -> Self {
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
        Conn {
            setup: setup.clone(),
            srv: super::server::SrvState::new(ctx),
            hs: super::handshake::HsState::new(),
            opts: super::options::OptState::new(),
            reader: Reader::new(mask, compression, max_payload),
            out: Outbound::new(framing, compression, writer_masking(setup)),
            staged: Vec::new(),
            pending: Vec::new(),
            payloads: Vec::new(),
            error: None,
            status: None,
            failures: Vec::new(),
            t: Transcript::default(),
        }
    }

    fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    fn check<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.fail(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        if let (Step::ExpectLog(_) | Step::ExpectNoLog(_), Some(_)) = (step, self.srv.logs()) {
            self.expect_server_log(step);
            return Ok(());
        }
        if self
            .srv
            .step(step, &self.setup, &mut self.t, &mut self.failures)?
        {
            return Ok(());
        }
        if self
            .hs
            .step(step, &self.setup, &mut self.t, &mut self.failures)?
        {
            return Ok(());
        }
        if self.opts.step(step, &mut self.t, &mut self.failures)? {
            return Ok(());
        }
        match step {
            Step::SendFrame(spec) => {
                let (bytes, line) = encode_frame(spec)?;
                self.t.line(line);
                self.staged.extend_from_slice(&bytes);
            }
            Step::SendRaw(spec) => {
                let bytes = spec.build().map_err(|e| e.to_string())?;
                self.t.line(format!("> raw {}", show(&bytes)));
                self.staged.extend_from_slice(&bytes);
            }
            Step::Read(spec) => self.read(spec),
            Step::ExpectPayloads(want) => {
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
                    self.fail(format!(
                        "payloads: got [{}], want [{}]",
                        fmt(&got),
                        fmt(&want)
                    ));
                }
            }
            Step::ExpectData(want) => {
                self.read_staged();
                let want = want.build().map_err(|e| e.to_string())?;
                let got: Vec<u8> = std::mem::take(&mut self.payloads).concat();
                if got != want {
                    self.fail(format!("data: got {}, want {}", show(&got), show(&want)));
                }
            }
            Step::ExpectError(want) => {
                self.read_staged();
                let got = self.error.clone();
                self.check("read error", got.as_deref(), Some(want.as_str()));
            }
            Step::ExpectOpen => {
                self.read_staged();
                let got = (self.error.clone(), self.status);
                self.check("read outcome", got, (None, Some(ReadStatus::Open)));
            }
            Step::ExpectPeerClosed => {
                self.read_staged();
                let got = (self.error.clone(), self.status);
                self.check("read outcome", got, (None, Some(ReadStatus::PeerClosed)));
            }
            Step::ExpectHeaderPending(n) => {
                self.read_staged();
                let got = self.reader.header_pending();
                self.t.line(format!("= {got} header bytes pending"));
                self.check("pending header bytes", got, *n);
            }
            Step::Queue(bufs) => {
                for b in bufs {
                    let bytes = b.build().map_err(|e| e.to_string())?;
                    self.pending.extend_from_slice(&bytes);
                }
                self.t.line(format!("queue {} bytes", self.pending.len()));
            }
            Step::EnqueueClose(spec) => {
                let payload = match state(spec)? {
                    Ok(s) => s.close_payload(),
                    Err(raw) => nats_ws::frame::UnknownClosedState(raw).close_payload(),
                };
                self.t
                    .line(format!("enqueue close for {}", state_label(spec)));
                self.out.queue_close(payload);
            }
            Step::CloseConnection(spec) => {
                let s = state(spec)?.map_err(|raw| format!("no closed state {raw}"))?;
                let queued = self.out.queue_close_for(s);
                self.t.line(format!(
                    "close connection: {} (close frame queued: {queued})",
                    s.as_str()
                ));
            }
            Step::ExpectFrames(want) => {
                let frames = self.collapse_output()?.frames;
                self.check("frame count", frames.len(), want.len());
                for (i, (f, w)) in frames.iter().zip(want).enumerate() {
                    self.check_frame(i, f, w)?;
                }
            }
            Step::ExpectMessages(want) => {
                let got = self
                    .collapse_output()?
                    .messages
                    .map_err(|e| e.to_string())?;
                self.check("message count", got.len(), want.len());
                for (i, (m, w)) in got.iter().zip(want).enumerate() {
                    self.check_message(i, m, w)?;
                }
            }
            Step::ExpectWrite(want) => self.expect_write(want)?,
            Step::ExpectBuffersReused(spec) => self.expect_reused(spec)?,
            Step::ExpectBuffersIndependent(data) => self.expect_independent(data)?,
            Step::IsControl { opcode, expect } => {
                let got = is_control(*opcode);
                self.t.line(format!("is_control({opcode}) = {got}"));
                self.check(&format!("is_control({opcode})"), got, *expect);
            }
            Step::EncodeHeader {
                opcode: name,
                compressed,
                len,
                expect_hex,
            } => {
                let h = FrameHeader {
                    fin: true,
                    rsv1: *compressed,
                    opcode: opcode(*name),
                    mask: None,
                    payload_len: *len,
                };
                let mut buf = [0u8; nats_ws::MAX_FRAME_HEADER_SIZE];
                let n = h.encode(&mut buf);
                let got = hex_spaced(&buf[..n]);
                self.t.line(format!(
                    "header({}, compressed={compressed}, len={len}) = [{got}]",
                    name_of(*name)
                ));
                let want = ByteSpec::Gen(crate::bytes::Gen::Hex(expect_hex.clone()))
                    .build()
                    .map_err(|e| e.to_string())?;
                self.check("header bytes", got, hex_spaced(&want));
            }
            Step::CloseMessage {
                code,
                reason,
                expect_len,
                expect_reason,
            } => {
                let reason = reason.build().map_err(|e| e.to_string())?;
                let text = String::from_utf8(reason.clone())
                    .map_err(|_| "close reason must be UTF-8".to_owned())?;
                let p = close_message(nats_ws::frame::CloseCode(*code), &text);
                self.t.line(format!(
                    "close_message({code}, {} bytes) = code={:?} len={} reason={}",
                    reason.len(),
                    p.code().map(|c| c.0),
                    p.as_bytes().len(),
                    show(p.reason())
                ));
                self.check("close status", p.code().map(|c| c.0), Some(*code));
                self.check("close payload length", p.as_bytes().len(), *expect_len);
                let want = match expect_reason {
                    Some(r) => r.build().map_err(|e| e.to_string())?,
                    None => reason,
                };
                self.check("close reason", show(p.reason()), show(&want));
            }
            Step::Unmask {
                key,
                payload,
                chunks,
            } => {
                let clear = payload.build().map_err(|e| e.to_string())?;
                let mut buf = clear.clone();
                apply_mask(&mut buf, *key, 0);
                let mut cursor = MaskCursor::new(*key);
                let mut rest = &mut buf[..];
                for &n in chunks {
                    let (a, b) = rest.split_at_mut(n.min(rest.len()));
                    cursor.apply(a);
                    rest = b;
                }
                cursor.apply(rest);
                self.t.line(format!(
                    "unmask key={} pieces={chunks:?}+rest -> {}",
                    hex(key),
                    show(&buf)
                ));
                self.check("unmasked", show(&buf), show(&clear));
            }
            // Handshake and configuration steps were dispatched above.
            other => return Err(format!("step not supported: {other:?}")),
        }
        Ok(())
    }

    /// Server logs arrive asynchronously: wait up to two seconds for an expected line.
    fn expect_server_log(&mut self, step: &Step) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        match step {
            Step::ExpectLog(text) => loop {
                let logs = self.srv.logs().unwrap_or_default();
                if let Some(l) = logs.iter().find(|l| l.contains(text.as_str())) {
                    self.t.line(format!("= log contains {text:?}"));
                    let _ = l;
                    break;
                }
                if std::time::Instant::now() >= deadline {
                    self.failures.push(format!(
                        "no server log line contains {text:?}; logged: {logs:?}"
                    ));
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            },
            Step::ExpectNoLog(text) => {
                if let Some(l) = self
                    .srv
                    .logs()
                    .unwrap_or_default()
                    .iter()
                    .find(|l| l.contains(text.as_str()))
                {
                    self.failures
                        .push(format!("unexpected server log line {l:?}"));
                }
            }
            _ => {}
        }
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
        self.t
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
                self.t.line(format!("= data {}", show(&p)));
                self.payloads.push(p);
            }
            match result {
                Ok(status) => self.status = Some(status),
                Err(e) => {
                    self.t.line(format!("= error {:?}", e.to_string()));
                    self.error = Some(e.to_string());
                }
            }
        }
        if self.status == Some(ReadStatus::PeerClosed) {
            self.t.line("= peer closed (end of input)");
        }
        if let Some(err) = &spec.then_error
            && self.error.is_none()
        {
            self.t.line(format!("= socket error {err:?}"));
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
        self.t.server_output(&bytes);
        split(&bytes).map_err(|e| e.to_string())
    }

    fn check_frame(&mut self, i: usize, f: &WireFrame, w: &FrameExpect) -> Result<(), String> {
        let h = f.header;
        let what = |field: &str| format!("frame {i} {field} ({})", describe_frame(f));
        if let Some(op) = w.opcode {
            self.check(&what("opcode"), h.opcode, opcode(op));
        }
        if let Some(fin) = w.fin {
            self.check(&what("fin"), h.fin, fin);
        }
        if let Some(rsv1) = w.rsv1 {
            self.check(&what("rsv1"), h.rsv1, rsv1);
        }
        if let Some(masked) = w.masked {
            self.check(&what("masked"), h.mask.is_some(), masked);
        }
        if let Some(p) = &w.payload {
            let want = p.build().map_err(|e| e.to_string())?;
            self.check(&what("payload"), show(&f.payload), show(&want));
        }
        if let Some(n) = w.payload_len {
            self.check(&what("payload length"), f.payload.len(), n);
        }
        if let Some(n) = w.header_len {
            self.check(&what("header length"), f.raw_header.len(), n);
        }
        if let Some(close) = &w.close {
            let reason = close.reason.build().map_err(|e| e.to_string())?;
            let mut want = close.code.to_be_bytes().to_vec();
            want.extend(reason);
            self.check(&what("close payload"), show(&f.payload), show(&want));
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
        self.check(&format!("message {i} data"), show(&m.data), show(&want));
        if let Some(c) = w.compressed {
            self.check(&format!("message {i} compressed"), m.compressed, c);
        }
        if let Some(max) = w.max_frame_payload
            && let Some(big) = m.frame_payloads.iter().find(|&&n| n > max)
        {
            self.fail(format!(
                "message {i}: a frame carries {big} bytes, more than {max}"
            ));
        }
        if let Some(min) = w.min_frames
            && m.frame_payloads.len() < min
        {
            self.fail(format!(
                "message {i}: {} frames, want at least {min}",
                m.frame_payloads.len()
            ));
        }
        if let Some(n) = w.frames {
            self.check(
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
        self.t.server_output(&bytes);
        self.t.line(format!(
            "write: {} buffers, {} bytes",
            collapsed.buffer_count(),
            collapsed.len()
        ));
        let frames = split(&bytes).map_err(|e| e.to_string())?.frames;
        if let Some(total) = want.total {
            self.check("write total", collapsed.len(), total);
        }
        if let Some(sizes) = &want.frame_payloads {
            let got: Vec<usize> = frames.iter().map(|f| f.payload.len()).collect();
            self.check("frame payload sizes", got, sizes.clone());
        }
        if let Some(data) = &want.data {
            let want = data.build().map_err(|e| e.to_string())?;
            let got: Vec<u8> = frames
                .iter()
                .flat_map(|f| f.payload.iter().copied())
                .collect();
            self.check("write data", show(&got), show(&want));
        }
        if let Some(n) = want.buffers {
            self.check("write buffers", collapsed.buffer_count(), n);
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
        self.t.line(format!(
            "{} flushes of {} bytes: buffers grew {grew} times",
            spec.runs,
            data.len()
        ));
        self.check("flushes that grew a buffer", grew, 0);
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
        self.t
            .line(format!("{} buffers; overwriting buffer 1", before.len()));
        if payload_parts.len() < 2 {
            self.fail(format!(
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
                self.fail(format!("buffer {i} changed when buffer 1 was overwritten"));
            }
        }
        Ok(())
    }
}

fn state_label(spec: &StateSpec) -> String {
    match spec {
        StateSpec::Name(n) => n.clone(),
        StateSpec::Raw(r) => format!("state {r}"),
    }
}

fn name_of(n: OpcodeName) -> &'static str {
    opcode(n).name()
}
