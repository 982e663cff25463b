//! Server-layer steps on WebSocket connections: connect and upgrade, send, expect.

use std::time::Duration;

use nats_ws::frame::OpCode;

use crate::fixture::{
    CloseExpect, ContextTakeover, CountExpect, FragmentedSend, FramesExpect, InfoExpect,
    PongExpect, RefusedExpect, RoundTrips, Setup, StreamExpect, WsConnectSpec, WsHttpExpect,
    WsSendSpec,
};
use crate::peer::http::{build_request, connect_request, parse_response};
use crate::peer::{TlsClient, WsClient, connect};
use crate::run::server::stream::{expect_stream, find, line_end};
use crate::run::server::{DEFAULT_WAIT, ServerRunner, wait};
use crate::transcript::{Transcript, sent_frame, show};

impl ServerRunner<'_> {
    /// Expects data on a WebSocket connection's data stream.
    pub(super) fn ws_expect(
        &mut self,
        spec: &StreamExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let name = spec.conn.clone();
        let c = self.ws(&name)?;
        let r = {
            let cell = std::cell::RefCell::new(&mut *c);
            expect_stream(
                spec,
                |timeout, pred| cell.borrow_mut().read_until(timeout, |c| pred(c.unread())),
                || {
                    let c = cell.borrow();
                    (c.unread().to_vec(), c.ended.clone())
                },
            )
        };
        let consumed = r.as_ref().map_or(0, |(n, _)| *n);
        self.ws(&name)?.consumed += consumed;
        // The data first, then any close frame read with it: whether a close frame came
        // in the same read as the data or a later one is timing, not behaviour.
        match r {
            Ok((_, line)) => t.line(format!("{name} = {line}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        self.show_frames(&name, t);
        Ok(())
    }

    /// Waits for a pong with the given payload.
    pub(super) fn ws_expect_pong(
        &mut self,
        spec: &PongExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let want = spec.payload.build().map_err(|e| e.to_string())?;
        let c = self.ws(&spec.conn)?;
        let is_it = |c: &WsClient| {
            c.frames
                .iter()
                .any(|f| f.header.opcode == OpCode::Pong && f.payload == want)
        };
        if c.read_until(wait(spec.within_ms), is_it)? {
            t.line(format!("{} < pong {}", spec.conn, show(&want)));
        } else {
            failures.push(format!(
                "{}: no pong with payload {}",
                spec.conn,
                show(&want)
            ));
        }
        self.show_frames(&spec.conn, t);
        Ok(())
    }

    /// Counts the frames with opcode `op` received so far, after waiting.
    pub(super) fn ws_expect_count(
        &mut self,
        spec: &CountExpect,
        op: OpCode,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let ms = spec.within_ms.unwrap_or(300);
        c.read_until(Duration::from_millis(ms), |_| false)?;
        let got = c.frames.iter().filter(|f| f.header.opcode == op).count();
        self.show_frames(&spec.conn, t);
        t.line(format!("{} = {got} {} frames", spec.conn, op.name()));
        if got != spec.count {
            failures.push(format!(
                "{}: {got} {} frames, want {}",
                spec.conn,
                op.name(),
                spec.count
            ));
        }
        Ok(())
    }

    /// Waits for the connection to end: a close frame or the end of TCP.
    pub(super) fn ws_expect_end(
        &mut self,
        spec: &CountExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let ended = c.read_until(wait(spec.within_ms), |c| {
            c.close.is_some() || c.ended.is_some()
        })?;
        let how = format!("close {:?}", c.close.as_ref().map(|(code, _)| code));
        self.show_frames(&spec.conn, t);
        t.line(format!("{} = ended: {how}", spec.conn));
        if !ended {
            failures.push(format!("{}: the connection did not end", spec.conn));
        }
        Ok(())
    }

    /// Sends one message in masked fragments.
    pub(super) fn ws_send_fragmented(
        &mut self,
        spec: &FragmentedSend,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let data = spec.data.build().map_err(|e| e.to_string())?;
        let c = self.ws(&spec.conn)?;
        let pieces: Vec<&[u8]> = data.chunks(spec.fragment.max(1)).collect();
        let mut out = Vec::with_capacity(data.len() + pieces.len() * 8);
        for (i, piece) in pieces.iter().enumerate() {
            let op = if i == 0 {
                OpCode::Binary
            } else {
                OpCode::Continuation
            };
            out.extend(c.frame(op, i + 1 == pieces.len(), false, piece));
        }
        c.send_raw(&out)?;
        t.line(format!(
            "{} > {} bytes in {} fragments of {}",
            spec.conn,
            data.len(),
            pieces.len(),
            spec.fragment
        ));
        Ok(())
    }

    /// Sequential PUB→MSG round trips on subject `t`.
    pub(super) fn ws_round_trips(
        &mut self,
        spec: &RoundTrips,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let payload = vec![b'r'; spec.size];
        let mut pubmsg = format!("PUB t {}\r\n", spec.size).into_bytes();
        pubmsg.extend_from_slice(&payload);
        pubmsg.extend_from_slice(b"\r\n");
        let mut want = format!("MSG t 1 {}\r\n", spec.size).into_bytes();
        want.extend_from_slice(&payload);
        want.extend_from_slice(b"\r\n");
        let started = std::time::Instant::now();
        for i in 0..spec.count.min(100_000) {
            c.send_data(&pubmsg, false)?;
            if !c.read_until(DEFAULT_WAIT, |c| c.unread().len() >= want.len())?
                || !c.unread().starts_with(&want)
            {
                failures.push(format!(
                    "{}: round trip {i} failed: {}",
                    spec.conn,
                    show(c.unread())
                ));
                break;
            }
            c.consumed += want.len();
        }
        let _ = started;
        t.line(format!(
            "{} = {} round trips of {} bytes",
            spec.conn, spec.count, spec.size
        ));
        Ok(())
    }

    /// Sends messages deflated with one shared context (context takeover).
    pub(super) fn ws_send_context_takeover(
        &mut self,
        spec: &ContextTakeover,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let mut z = flate2::Compress::new(flate2::Compression::fast(), false);
        for m in &spec.messages {
            let data = m.build().map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(data.len() + 64);
            z.compress_vec(&data, &mut out, flate2::FlushCompress::Sync)
                .map_err(|e| e.to_string())?;
            if out.ends_with(&[0, 0, 0xff, 0xff]) {
                out.truncate(out.len() - 4);
            }
            let frame = c.frame(OpCode::Binary, true, true, &out);
            c.send_raw(&frame)?;
            t.line(format!(
                "{} > deflated with context {}",
                spec.conn,
                show(&data)
            ));
        }
        Ok(())
    }

    /// The connection failed before any upgrade response.
    pub(super) fn ws_expect_refused(
        &mut self,
        spec: &RefusedExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let ended = c.ended.clone();
        let status = c.status();
        let text = format!("{ended:?}");
        t.line(format!("{} = refused (no upgrade response)", spec.conn));
        let failed = status.is_none() && ended.is_some();
        if !failed
            || (!spec.any_of.is_empty() && !spec.any_of.iter().any(|a| text.contains(a.as_str())))
        {
            failures.push(format!(
                "{}: expected a refused connection mentioning {:?}, got status {status:?}, {text}",
                spec.conn, spec.any_of
            ));
        }
        Ok(())
    }

    /// The INFO a connection received contains each text.
    pub(super) fn ws_expect_info(
        &mut self,
        spec: &InfoExpect,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let info = String::from_utf8_lossy(&c.info).into_owned();
        for want in &spec.contains {
            if !info.contains(want.as_str()) {
                failures.push(format!(
                    "{}: INFO does not contain {want:?}: {info}",
                    spec.conn
                ));
            }
        }
        for bad in &spec.lacks {
            if info.contains(bad.as_str()) {
                failures.push(format!("{}: INFO contains {bad:?}: {info}", spec.conn));
            }
        }
        Ok(())
    }

    pub(super) fn ws_connect(
        &mut self,
        spec: &WsConnectSpec,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let addr = self
            .named(setup, t, spec.server.as_deref())?
            .ws_addr()
            .ok_or("the server has no websocket listener")?;
        let tls = if spec.tls {
            Some(TlsClient {
                config: self.ctx.certs.client_config(spec.client_cert)?,
                server_name: "127.0.0.1".to_owned(),
            })
        } else {
            None
        };
        let mut http = spec.http.clone();
        for [_, value] in http.set.iter_mut().chain(http.add.iter_mut()) {
            *value = crate::auth::render(value, setup.auth.as_ref(), None)?;
        }
        let http = connect_request(&http, spec.compress, spec.browser, addr);
        if http.write_error.is_some() {
            return Err(
                "http.write_error: a real connection's writes cannot be made to fail; \
                        use it in the handshake layer"
                    .to_owned(),
            );
        }
        let request = build_request(&http)?;
        t.line(format!(
            "{} connect{}{}{}",
            spec.name,
            if spec.tls { " tls" } else { "" },
            if spec.compress { " compress" } else { "" },
            spec.server
                .as_ref()
                .map(|s| format!(" to {s}"))
                .unwrap_or_default()
        ));
        let stream = match connect(addr, tls.as_ref(), self.ctx.timeout) {
            Ok(s) => s,
            Err(e) => {
                t.line(format!("{} ! {e}", spec.name));
                if spec.upgrade {
                    failures.push(format!("{}: {e}", spec.name));
                }
                return Ok(());
            }
        };
        if let Some(ms) = spec.delay_ms {
            std::thread::sleep(Duration::from_millis(ms));
        }
        let mut c = WsClient::upgrade(stream, &request, self.ctx.timeout)?;
        let status = c.status();
        t.line(format!(
            "{} < HTTP {}",
            spec.name,
            status.map_or("none".to_owned(), |s| s.to_string())
        ));
        if !spec.upgrade {
            if let Some(e) = &c.ended {
                t.line(format!("{} ! {e:?}", spec.name));
            }
            self.ws.insert(spec.name.clone(), c);
            return Ok(());
        }
        if status != Some(101) {
            failures.push(format!(
                "{}: upgrade status {status:?}, response {}, ended {:?}",
                spec.name,
                show(&c.response),
                c.ended
            ));
            self.ws.insert(spec.name.clone(), c);
            return Ok(());
        }
        let got_info = c.read_until(self.ctx.timeout, |c| line_end(c.unread()).is_some())?;
        if !got_info || !c.unread().starts_with(b"INFO {") {
            failures.push(format!(
                "{}: expected INFO, got {}",
                spec.name,
                show(c.unread())
            ));
        } else if let Some(n) = line_end(c.unread()) {
            c.info = c.unread()[..n].to_vec();
            c.consumed += n;
            t.line(format!("{} < INFO", spec.name));
        }
        if let Some(connect_json) = &spec.connect {
            let msg = format!("CONNECT {connect_json}\r\nPING\r\n");
            let nonce = crate::auth::info_nonce(&c.data);
            let sent = crate::auth::render(&msg, setup.auth.as_ref(), nonce.as_deref())?;
            c.send_data(sent.as_bytes(), spec.compress)?;
            t.line(format!("{} > {}", spec.name, show(msg.as_bytes())));
            let ok = c.read_until(self.ctx.timeout, |c| {
                find(c.unread(), b"PONG\r\n").is_some() || find(c.unread(), b"-ERR").is_some()
            })?;
            match find(c.unread(), b"PONG\r\n") {
                Some(at) if ok => {
                    c.consumed += at + 6;
                    t.line(format!("{} < PONG", spec.name));
                    if connect_json.contains("\"protocol\":1") {
                        let info = c.read_until(Duration::from_millis(500), |c| {
                            line_end(c.unread()).is_some()
                        })?;
                        if info && c.unread().starts_with(b"INFO {") {
                            if let Some(n) = line_end(c.unread()) {
                                c.consumed += n;
                            }
                            t.line(format!("{} < INFO (async)", spec.name));
                        } else {
                            // Servers before 2.10 send none: shown in the transcript (and so
                            // checked by the golden for nats-ws), not a failure by itself.
                            t.line(format!(
                                "{} = no async INFO after the first PONG",
                                spec.name
                            ));
                        }
                    }
                }
                _ => failures.push(format!(
                    "{}: expected PONG after CONNECT, got {}",
                    spec.name,
                    show(c.unread())
                )),
            }
        }
        self.ws.insert(spec.name.clone(), c);
        self.show_frames(&spec.name, t);
        Ok(())
    }

    pub(super) fn ws_send(
        &mut self,
        spec: &WsSendSpec,
        setup: &Setup,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let name = spec.conn.clone();
        let c = self.ws(&name)?;
        let mut out = Vec::new();
        if let Some(data) = &spec.data {
            let data = data.build().map_err(|e| e.to_string())?;
            // Credentials are substituted in what is sent; the transcript shows the template.
            let sent = match (std::str::from_utf8(&data), &setup.auth) {
                (Ok(text), Some(_)) => {
                    let nonce = crate::auth::info_nonce(&c.data);
                    crate::auth::render(text, setup.auth.as_ref(), nonce.as_deref())?.into_bytes()
                }
                _ => data.clone(),
            };
            out.extend(c.data_frame(&sent, spec.compress)?);
            let how = if spec.compress { "deflated " } else { "" };
            t.line(format!("{name} > {how}{}", show(&data)));
        }
        for frame in spec.frame.iter().chain(&spec.frames) {
            let (bytes, line) = sent_frame(frame)?;
            out.extend(bytes);
            t.line(format!("{name} {line}"));
        }
        if let Some(raw) = &spec.raw {
            let bytes = raw.build().map_err(|e| e.to_string())?;
            t.line(format!("{name} > raw {}", show(&bytes)));
            out.extend(bytes);
        }
        match spec.chop {
            Some(n) => {
                t.line(format!("{name} (written in {n}-byte pieces)"));
                c.send_chopped(&out, n)
            }
            None => c.send_raw(&out),
        }
    }

    pub(super) fn ws_expect_close(
        &mut self,
        spec: &CloseExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let name = spec.conn.clone();
        let c = self.ws(&name)?;
        c.read_until(wait(spec.within_ms), |c| c.close.is_some())?;
        // After the close frame the server ends the TCP connection.
        c.read_until(wait(spec.within_ms), |c| c.ended.is_some())?;
        let close = c.close.clone();
        let ended = c.ended.clone();
        self.show_frames(&name, t);
        t.line(format!(
            "{name} = tcp {}",
            if ended.is_some() { "closed" } else { "open" }
        ));
        match close {
            None => failures.push(format!("{name}: no close frame (ended: {ended:?})")),
            Some((code, reason)) => {
                if code != spec.code {
                    failures.push(format!("{name}: close code {code:?}, want {:?}", spec.code));
                }
                if let Some(r) = &spec.reason {
                    let want = r.build().map_err(|e| e.to_string())?;
                    if reason != want {
                        failures.push(format!(
                            "{name}: close reason {}, want {}",
                            show(&reason),
                            show(&want)
                        ));
                    }
                }
            }
        }
        if ended.is_none() {
            failures.push(format!(
                "{name}: the server did not close TCP after its close frame"
            ));
        }
        Ok(())
    }

    pub(super) fn ws_expect_frames(
        &mut self,
        spec: &FramesExpect,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let mut data: Vec<_> = c
            .frames
            .iter()
            .filter(|f| !f.header.opcode.is_control())
            .collect();
        if spec.last {
            data = data.split_off(data.len().saturating_sub(1));
        }
        if let Some(max) = spec.max_payload
            && let Some(f) = data.iter().find(|f| f.payload.len() > max)
        {
            failures.push(format!(
                "{}: a frame of {} bytes, more than {max}",
                spec.conn,
                f.payload.len()
            ));
        }
        if let Some(min) = spec.min_data_frames
            && data.len() < min
        {
            failures.push(format!(
                "{}: {} data frames, want at least {min}",
                spec.conn,
                data.len()
            ));
        }
        if spec.no_continuations == Some(true)
            && data.iter().any(|f| f.header.opcode == OpCode::Continuation)
        {
            failures.push(format!("{}: a message was fragmented", spec.conn));
        }
        if let Some(min) = spec.min_payload_seen
            && !data.iter().any(|f| f.payload.len() >= min)
        {
            failures.push(format!(
                "{}: no data frame of {min} bytes or more",
                spec.conn
            ));
        }
        if let Some(want) = spec.compressed {
            let got = data
                .iter()
                .any(|f| f.header.rsv1 && f.header.opcode != OpCode::Continuation);
            if got != want {
                failures.push(format!(
                    "{}: compressed frames {got}, want {want}",
                    spec.conn
                ));
            }
        }
        Ok(())
    }

    pub(super) fn ws_expect_http(
        &mut self,
        spec: &WsHttpExpect,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let Some((status, headers, _)) = parse_response(&c.response) else {
            failures.push(format!("{}: no HTTP response ({:?})", spec.conn, c.ended));
            return Ok(());
        };
        if let Some(s) = spec.status
            && s != status
        {
            failures.push(format!("{}: status {status}, want {s}", spec.conn));
        }
        for [k, v] in &spec.headers {
            if !headers
                .iter()
                .any(|(n, val)| n.eq_ignore_ascii_case(k) && val == v)
            {
                failures.push(format!("{}: no header {k}: {v}", spec.conn));
            }
        }
        for k in &spec.absent {
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                failures.push(format!("{}: header {k} should be absent", spec.conn));
            }
        }
        let text = String::from_utf8_lossy(&c.response).into_owned();
        for want in &spec.contains {
            if !text.contains(want.as_str()) {
                failures.push(format!("{}: response does not contain {want:?}", spec.conn));
            }
        }
        Ok(())
    }
}
