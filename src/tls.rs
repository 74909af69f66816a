//! TLS for `https://` signaling URLs: rustls with ring, carried inside the plugin, so the library
//! loads on a player machine whatever OpenSSL it has (or none: Android, iOS, Windows) and needs no
//! C library but libc. ring is the crypto provider the WebRTC stack (DTLS) already uses.
//!
//! Trusted roots: the Mozilla root program as compiled into `webpki-roots`, plus the certificates
//! the app lists in `socket.caCertificatesPem` (a private CA, a test CA). Why not the operating
//! system's store (`rustls-native-certs`): it has no store to read on Android/Quest or iOS (it
//! knows macOS, Windows and the file layouts of Linux distributions), it reads and parses every
//! file of the Linux store on each connect (tens of milliseconds of join time), and it would make
//! a signaling connection succeed or fail depending on the player's machine. The compiled-in
//! roots behave the same on every platform; their cost is that they are updated with the plugin,
//! and that roots an administrator added to the OS are not seen (list them in the config).

use crate::error::{P2pError, Result};
use once_cell::sync::Lazy;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

/// The configuration without extra roots, built once (the root store is ~150 anchors).
static DEFAULT: Lazy<Arc<ClientConfig>> = Lazy::new(|| build(RootCertStore::empty()));

/// The rustls configuration for a client that trusts the built-in roots and `extra_ca_pem`.
pub(crate) fn client_config(extra_ca_pem: Option<&str>) -> Result<Arc<ClientConfig>> {
    match extra_ca_pem {
        None => Ok(DEFAULT.clone()),
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in parse_certificates(pem)? {
                roots.add(cert).map_err(|e| invalid(format!("a certificate is not a usable CA: {e}")))?;
            }
            Ok(build(roots))
        }
    }
}

/// The certificates of a PEM text; an error when a block is not valid PEM or there is none (a key
/// file given by mistake has none). Blocks of other kinds are skipped.
pub(crate) fn parse_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("not a PEM certificate list: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no \"-----BEGIN CERTIFICATE-----\" block in it".into()));
    }
    Ok(certs)
}

fn invalid(message: String) -> P2pError {
    P2pError::InvalidConfig(format!("socket.caCertificatesPem: {message}").into())
}

fn build(mut roots: RootCertStore) -> Arc<ClientConfig> {
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls's default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_an_invalid_config() {
        for bad in ["", "hello", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"] {
            assert!(matches!(client_config(Some(bad)), Err(P2pError::InvalidConfig(_))), "{bad:?}");
        }
    }

    #[test]
    fn a_certificate_that_is_no_ca_is_refused() {
        // Valid base64, not a certificate: the root store cannot parse it as a trust anchor.
        let pem = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
        assert!(matches!(client_config(Some(pem)), Err(P2pError::InvalidConfig(_))));
    }
}
