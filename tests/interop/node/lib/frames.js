// Observes one direction of a WebSocket connection: the HTTP head, then each frame's
// header (FIN, RSV1, opcode, payload length). Payloads are skipped, not kept. An
// independent reader of the wire, so that a test does not take the client's word for
// what it received.

export class FrameTap {
  constructor({ http = true } = {}) {
    this.head = http ? "" : null; // HTTP request/response head, until \r\n\r\n
    this.buf = Buffer.alloc(0);
    this.skip = 0; // payload bytes still to skip
    this.frames = [];
    this.bytes = 0;
  }

  feed(chunk) {
    this.bytes += chunk.length;
    let data = chunk;
    if (this.head !== null && !this.head.endsWith("\r\n\r\n")) {
      const text = this.head + data.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) {
        this.head = text;
        return;
      }
      const consumed = end + 4 - this.head.length;
      this.head = text.slice(0, end + 4);
      data = data.subarray(consumed);
    }
    while (data.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        continue;
      }
      this.buf = Buffer.concat([this.buf, data]);
      data = Buffer.alloc(0);
      const f = this.#parseHeader();
      if (!f) return;
      this.frames.push(f.frame);
      const rest = this.buf.subarray(f.size);
      this.buf = Buffer.alloc(0);
      this.skip = f.frame.len;
      data = rest;
    }
  }

  #parseHeader() {
    const b = this.buf;
    if (b.length < 2) return null;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let size = 2;
    if (len === 126) {
      if (b.length < 4) return null;
      len = b.readUInt16BE(2);
      size = 4;
    } else if (len === 127) {
      if (b.length < 10) return null;
      len = Number(b.readBigUInt64BE(2));
      size = 10;
    }
    if (masked) size += 4;
    if (b.length < size) return null;
    return {
      size,
      frame: {
        fin: (b[0] & 0x80) !== 0,
        rsv1: (b[0] & 0x40) !== 0,
        opcode: b[0] & 0x0f,
        masked,
        len,
      },
    };
  }

  /** The `Sec-WebSocket-Extensions` value of the head, or null. */
  extensions() {
    const m = (this.head ?? "").match(/^sec-websocket-extensions:\s*(.*)$/im);
    return m ? m[1].trim() : null;
  }

  status() {
    const m = (this.head ?? "").match(/^HTTP\/1\.1 (\d{3})/);
    return m ? Number(m[1]) : null;
  }
}
