//! Test certificates generated at run time (rcgen): a CA, a server certificate for
//! 127.0.0.1/localhost, one without IP SANs, and a client certificate whose subject is
//! `CN=example.com,OU=NATS.io` (the Go tests' mapped user). No secret is committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, SanType,
};

/// Where the PEM files were written.
#[derive(Debug, Clone)]
pub struct Certs {
    /// The folder (substituted for `{certs}` in fixture configurations).
    pub dir: PathBuf,
    ca_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Certs {
    /// Generates every file into `dir`: `ca.pem`, `server-cert.pem`, `server-key.pem`,
    /// `server-noip.pem`, `server-key-noip.pem`, `client-cert.pem`, `client-key.pem`.
    pub fn generate(dir: &Path) -> Result<Certs, String> {
        std::fs::create_dir_all(dir).map_err(err)?;
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "nats-ws test CA");
        ca_params.distinguished_name = dn;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf =
            |sans: Vec<SanType>, dn: DistinguishedName| -> Result<(String, String), String> {
                let key = KeyPair::generate().map_err(err)?;
                let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
                p.subject_alt_names = sans;
                p.distinguished_name = dn;
                let cert = p.signed_by(&key, &issuer).map_err(err)?;
                Ok((cert.pem(), key.serialize_pem()))
            };
        let mut server_dn = DistinguishedName::new();
        server_dn.push(DnType::CommonName, "localhost");
        let ip = SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1]));
        let dns = SanType::DnsName("localhost".try_into().map_err(err)?);
        let (server_cert, server_key) = leaf(vec![ip, dns.clone()], server_dn.clone())?;
        let (noip_cert, noip_key) = leaf(vec![dns], server_dn)?;
        let mut client_dn = DistinguishedName::new();
        client_dn.push(DnType::OrganizationalUnitName, "NATS.io");
        client_dn.push(DnType::CommonName, "example.com");
        let (client_cert, client_key) = leaf(Vec::new(), client_dn)?;

        let files = [
            ("ca.pem", ca_cert.pem()),
            ("server-cert.pem", server_cert),
            ("server-key.pem", server_key),
            ("server-noip.pem", noip_cert),
            ("server-key-noip.pem", noip_key),
            ("client-cert.pem", client_cert.clone()),
            ("client-key.pem", client_key.clone()),
        ];
        for (name, pem) in &files {
            std::fs::write(dir.join(name), pem).map_err(err)?;
        }
        Ok(Certs {
            dir: dir.to_owned(),
            ca_pem: ca_cert.pem(),
            client_cert_pem: client_cert,
            client_key_pem: client_key,
        })
    }

    /// A client configuration trusting the CA, with the client certificate if asked.
    pub fn client_config(
        &self,
        with_client_cert: bool,
    ) -> Result<Arc<rustls::ClientConfig>, String> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(c.map_err(err)?).map_err(err)?;
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_root_certificates(roots);
        let config = if with_client_cert {
            let certs = CertificateDer::pem_slice_iter(self.client_cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            let key = PrivateKeyDer::from_pem_slice(self.client_key_pem.as_bytes()).map_err(err)?;
            builder.with_client_auth_cert(certs, key).map_err(err)?
        } else {
            builder.with_no_client_auth()
        };
        Ok(Arc::new(config))
    }
}
