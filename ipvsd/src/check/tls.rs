//! SSL_GET's TLS client: SNI as keepalived sends it, and no certificate
//! verification.
//!
//! keepalived builds its OpenSSL context without `SSL_CTX_set_verify`
//! (keepalived/check/check_ssl.c, `build_ssl_ctx`), so a client verifies
//! nothing by default: a real server's certificate may be self-signed,
//! expired or for another name, and the check still passes. A health check
//! asks "does the service answer", not "is it who it claims"; the director
//! sends no secret over this connection. This module does the same on
//! purpose: the verifier below accepts every certificate and signature.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::outcome::ProbeFailure;

/// SSL_GET's TLS options (keepalived.conf(5) `SSL_GET`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsOptions {
    /// `enable_sni`: send a Server Name Indication (off by default).
    pub enable_sni: bool,
    /// `sni_name`: the name sent; without it the url's virtualhost is sent
    /// (keepalived falls back to the url's, then the checker's, then the
    /// virtual server's `virtualhost`: the caller resolves that into the
    /// url's `virtualhost`).
    pub sni_name: Option<String>,
}

impl TlsOptions {
    /// The name to send as SNI for a url whose Host is `virtualhost`, if any.
    pub fn sni_for<'a>(&'a self, virtualhost: Option<&'a str>) -> Option<&'a str> {
        if !self.enable_sni {
            return None;
        }
        self.sni_name.as_deref().or(virtualhost)
    }
}

/// Accepts any server certificate, as keepalived does (see the module doc).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One client configuration for every SSL_GET probe (built once: building
/// it per probe would cost 10,000 checkers a second a lot of CPU).
fn connector() -> TlsConnector {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let provider = Arc::new(ring::default_provider());
        let verifier = Arc::new(AcceptAnyCertificate(provider.clone()));
        // The ring provider supports every default protocol version, so this
        // cannot fail; should it ever, fall back to a config that still
        // connects (a probe then fails with the handshake error).
        let builder = match ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(b) => b,
            Err(_) => ClientConfig::builder(),
        };
        Arc::new(
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth(),
        )
    });
    TlsConnector::from(config.clone())
}

/// Runs the TLS handshake over `stream`, sending `sni` as Server Name
/// Indication when it is a DNS name (an IP address, or `None`, sends none,
/// as RFC 6066 allows only host names).
///
/// # Errors
/// [`ProbeFailure::Tls`] when the handshake fails.
pub async fn handshake(
    stream: TcpStream,
    sni: Option<&str>,
    peer: IpAddr,
) -> Result<TlsStream<TcpStream>, ProbeFailure> {
    let name = sni
        .and_then(|n| ServerName::try_from(n.to_owned()).ok())
        .unwrap_or(ServerName::IpAddress(peer.into()));
    connector()
        .connect(name, stream)
        .await
        .map_err(|e| ProbeFailure::Tls(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_only_when_enabled_and_sni_name_before_virtualhost() {
        let off = TlsOptions::default();
        assert_eq!(off.sni_for(Some("www.example")), None);
        let on = TlsOptions {
            enable_sni: true,
            sni_name: None,
        };
        assert_eq!(on.sni_for(Some("www.example")), Some("www.example"));
        assert_eq!(on.sni_for(None), None);
        let named = TlsOptions {
            enable_sni: true,
            sni_name: Some("sni.example".into()),
        };
        assert_eq!(named.sni_for(Some("www.example")), Some("sni.example"));
    }
}
