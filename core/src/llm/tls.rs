//! HTTPS for the model's endpoint: `ureq`'s connector trait over the `rustls` (with
//! `ring`) and Mozilla root certificates the build already has for mail. `ureq`'s own
//! `tls` feature would pull rustls's default crypto provider (aws-lc, a C build)
//! into every binary for the same job.

use std::{
    io::{self, Read, Write},
    net::TcpStream,
    sync::{Arc, LazyLock},
};

use ureq::{ReadWrite, TlsConnector};

pub struct Rustls(Arc<rustls::ClientConfig>);

/// The connector every endpoint shares: built once, with the web's root certificates.
/// `None` only if the crypto provider refused the default protocol versions (then an
/// https endpoint fails to connect, and the request log says so).
pub fn connector() -> Option<Arc<Rustls>> {
    static CONNECTOR: LazyLock<Option<Arc<Rustls>>> = LazyLock::new(|| {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        match rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(b) => Some(Arc::new(Rustls(Arc::new(b.with_root_certificates(roots).with_no_client_auth())))),
            Err(e) => {
                tracing::error!(error = %e, "TLS is unavailable for language model endpoints");
                None
            }
        }
    });
    CONNECTOR.clone()
}

impl TlsConnector for Rustls {
    fn connect(&self, dns_name: &str, mut io: Box<dyn ReadWrite>) -> Result<Box<dyn ReadWrite>, ureq::Error> {
        let host = dns_name.trim_start_matches('[').trim_end_matches(']');
        let failed = |what: String| ureq::Error::from(io::Error::new(io::ErrorKind::ConnectionRefused, what));
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| failed(format!("{host} is not a server name: {e}")))?;
        let mut conn =
            rustls::ClientConnection::new(self.0.clone(), name).map_err(|e| failed(format!("starting TLS: {e}")))?;
        conn.complete_io(&mut io).map_err(|e| failed(format!("TLS handshake with {host}: {e}")))?;
        Ok(Box::new(Stream(rustls::StreamOwned::new(conn, io))))
    }
}

struct Stream(rustls::StreamOwned<rustls::ClientConnection, Box<dyn ReadWrite>>);

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsStream")
    }
}

impl ReadWrite for Stream {
    fn socket(&self) -> Option<&TcpStream> {
        self.0.get_ref().socket()
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
