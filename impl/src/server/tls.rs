//! TLS: rustls server configurations from `tls {}` blocks (reloadable), and the client
//! configuration of a soliciting leafnode.

use std::path::Path;
use std::sync::{Arc, RwLock};

use rustls::RootCertStore;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::net::TcpStream;

use crate::auth::{TlsIdentity, parse_certificate_identity};
use crate::options::TlsConfig;
use crate::server::ServerError;

/// Go: `net/http`'s answer to plain HTTP on a TLS port.
pub(crate) const HTTP_ON_TLS_RESPONSE: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// A listener's current TLS configuration; reload swaps it for new connections.
#[derive(Debug)]
pub(crate) struct TlsHolder {
    current: RwLock<Arc<ServerConfig>>,
}

impl TlsHolder {
    pub(crate) fn new(tc: &TlsConfig) -> Result<TlsHolder, ServerError> {
        Ok(TlsHolder {
            current: RwLock::new(build(tc)?),
        })
    }

    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn replace(&self, tc: &TlsConfig) -> Result<(), ServerError> {
        let new = build(tc)?;
        match self.current.write() {
            Ok(mut c) => *c = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
        Ok(())
    }
}

fn tls_error(e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(format!("error parsing X509 certificate/key pair: {e}"))
}

/// Builds a rustls configuration (ring provider): certificate chain and key, and with
/// `verify` (or `verify_and_map`) a required client certificate checked against `ca_file`.
pub(crate) fn build(tc: &TlsConfig) -> Result<Arc<ServerConfig>, ServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(Path::new(&tc.cert_file))
            .map_err(tls_error)?
            .collect::<Result<_, _>>()
            .map_err(tls_error)?;
    let key = PrivateKeyDer::from_pem_file(Path::new(&tc.key_file)).map_err(tls_error)?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let builder = if tc.verify || tc.map {
        let mut roots = RootCertStore::empty();
        if !tc.ca_file.is_empty() {
            for cert in CertificateDer::pem_file_iter(Path::new(&tc.ca_file)).map_err(tls_error)? {
                roots.add(cert.map_err(tls_error)?).map_err(tls_error)?;
            }
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| ServerError::Tls(format!("error parsing client CA: {e}")))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(certs, key).map_err(tls_error)?;
    Ok(Arc::new(config))
}

/// The client configuration of a soliciting leafnode (Go: the remote's `tls {}` through
/// `GenTLSConfig`, `RootCAs = ClientCAs`): `ca_file` roots, else the system's;
/// `cert_file`/`key_file` as the client certificate; `insecure` verifies nothing.
pub(crate) fn build_client(tc: Option<&TlsConfig>) -> Result<Arc<ClientConfig>, ServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let builder = if tc.is_some_and(|t| t.insecure) {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match tc.filter(|t| !t.ca_file.is_empty()) {
            Some(t) => {
                for cert in
                    CertificateDer::pem_file_iter(Path::new(&t.ca_file)).map_err(tls_error)?
                {
                    roots.add(cert.map_err(tls_error)?).map_err(tls_error)?;
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    // Go skips system certificates it cannot parse, too.
                    let _ = roots.add(cert);
                }
            }
        }
        builder.with_root_certificates(roots)
    };
    let config = match tc.filter(|t| !t.cert_file.is_empty()) {
        Some(t) => {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_file_iter(Path::new(&t.cert_file))
                    .map_err(tls_error)?
                    .collect::<Result<_, _>>()
                    .map_err(tls_error)?;
            let key = PrivateKeyDer::from_pem_file(Path::new(&t.key_file)).map_err(tls_error)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(tls_error)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// `tls { insecure: true }`: any server certificate (Go: `InsecureSkipVerify`); the
/// handshake signatures are still checked.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The identity of the verified client certificate, if any.
pub(crate) fn peer_identity(conn: &rustls::ServerConnection) -> Option<TlsIdentity> {
    let leaf = conn.peer_certificates()?.first()?;
    parse_certificate_identity(leaf).ok()
}

/// Go `net/http`: a first TLS record header that reads like an HTTP method.
fn looks_like_http(hdr: &[u8]) -> bool {
    matches!(hdr, b"GET /" | b"HEAD " | b"POST " | b"PUT /" | b"OPTIO")
}

/// Peeks at the first bytes: true if the client speaks plain HTTP to the TLS port.
pub(crate) async fn is_plain_http(stream: &TcpStream) -> bool {
    let mut hdr = [0u8; 5];
    loop {
        match stream.peek(&mut hdr).await {
            Ok(0) | Err(_) => return false,
            Ok(_) if hdr[0] == 0x16 => return false,
            Ok(n) if n >= hdr.len() => return looks_like_http(&hdr),
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    }
}
