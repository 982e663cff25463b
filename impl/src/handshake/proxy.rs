//! An HTTP `CONNECT` tunnel through a proxy, sans-IO, for leafnode remotes with
//! `proxy {}` (Go: `establishHTTPProxyTunnel`).

use base64::Engine as _;

use super::response_head::{ResponseError, ResponseReader};

/// Why the tunnel was not opened. Display is Go's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy's answer is not an HTTP response head.
    #[error("failed to read proxy response: {0}")]
    Read(ResponseError),
    /// The proxy answered with a status other than 200 (Go: `resp.Status`, e.g.
    /// `407 Proxy Authentication Required`).
    #[error("proxy CONNECT failed: {0}")]
    Refused(String),
}

/// One `CONNECT`: write [`ProxyConnect::request`], then feed the proxy's answer to
/// [`ProxyConnect::handle_input`] until the tunnel is open or refused, within the proxy
/// timeout (the IO layer's deadline; Go: `proxy { timeout }`, else the dial timeout).
#[derive(Debug, Clone, Default)]
pub struct ProxyConnect {
    reader: ResponseReader,
}

impl ProxyConnect {
    /// A new exchange.
    pub fn new() -> Self {
        ProxyConnect::default()
    }

    /// `CONNECT <target> HTTP/1.1` as Go's `http.Request.Write` sends it; basic
    /// authentication only when both `username` and `password` are set (Go).
    pub fn request(target: &str, username: &str, password: &str) -> Vec<u8> {
        let mut out = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: Go-http-client/1.1\r\n"
        );
        if !username.is_empty() && !password.is_empty() {
            let credentials =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            out.push_str("Proxy-Authorization: Basic ");
            out.push_str(&credentials);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }

    /// Feeds the proxy's bytes. `Ok(Some(rest))`: the tunnel is open; `rest` are bytes
    /// the far end already sent through it (Go drops them with its reader; kept here).
    pub fn handle_input(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, ProxyError> {
        match self.reader.handle_input(bytes).map_err(ProxyError::Read)? {
            None => Ok(None),
            Some((head, rest)) if head.code == 200 => Ok(Some(rest)),
            Some((head, _)) => Err(ProxyError::Refused(head.status)),
        }
    }

    /// The proxy closed the connection before answering.
    pub fn handle_eof(&self) -> ProxyError {
        ProxyError::Read(self.reader.handle_eof())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured: a nats-server v2.15.1 leaf with `url: "ws://127.0.0.1:47999/p", proxy {
    // url: "http://127.0.0.1:47811", username: "us er", password: "p:w" }`.
    #[test]
    fn request_is_gos() {
        assert_eq!(
            String::from_utf8_lossy(&ProxyConnect::request("127.0.0.1:47999", "us er", "p:w")),
            "CONNECT 127.0.0.1:47999 HTTP/1.1\r\nHost: 127.0.0.1:47999\r\nUser-Agent: Go-http-client/1.1\r\nProxy-Authorization: Basic dXMgZXI6cDp3\r\n\r\n"
        );
        // Go sends credentials only when both are set.
        for (user, pass) in [("", ""), ("u", ""), ("", "p")] {
            assert_eq!(
                String::from_utf8_lossy(&ProxyConnect::request("h:1", user, pass)),
                "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: Go-http-client/1.1\r\n\r\n"
            );
        }
    }

    // Go: TestLeafNodeHttpProxyConnection / WithAuthentication answers (200, 407).
    #[test]
    fn answers() {
        let mut p = ProxyConnect::new();
        assert_eq!(
            p.handle_input(b"HTTP/1.1 200 Connection established\r\n"),
            Ok(None)
        );
        assert_eq!(
            p.handle_input(b"\r\nHTTP/1.1 101"),
            Ok(Some(b"HTTP/1.1 101".to_vec()))
        );
        let mut p = ProxyConnect::new();
        assert_eq!(
            p.handle_input(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n\r\n")
                .map_err(|e| e.to_string()),
            Err("proxy CONNECT failed: 407 Proxy Authentication Required".to_owned())
        );
        let p = ProxyConnect::new();
        assert_eq!(
            p.handle_eof().to_string(),
            "failed to read proxy response: unexpected EOF"
        );
    }
}
