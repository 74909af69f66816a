//! A test PKI made at run time: a self-signed CA and a server certificate it signed for
//! `127.0.0.1` and `localhost`, written as PEM files for `p2p-signaling --tls-cert/--tls-key`.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use std::path::PathBuf;

pub struct TestPki {
    /// The CA certificate (what a client must trust), PEM.
    pub ca_pem: String,
    pub ca_path: PathBuf,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    dir: PathBuf,
}

impl TestPki {
    pub fn new(name: &str) -> TestPki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name.push(DnType::CommonName, format!("webrtc_p2p test CA ({name})"));
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

        let mut server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        server.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        let key = KeyPair::generate().unwrap();
        let cert = server.signed_by(&key, &ca).unwrap();

        let dir = std::env::temp_dir().join(format!("webrtc_p2p_pki_{name}_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            path
        };
        TestPki {
            ca_pem: ca.pem(),
            ca_path: write("ca.pem", &ca.pem()),
            cert_path: write("server.pem", &cert.pem()),
            key_path: write("server.key", &key.serialize_pem()),
            dir,
        }
    }

    /// The server flags that serve https/wss with this PKI's server certificate.
    pub fn server_args(&self) -> Vec<String> {
        let path = |p: &PathBuf| p.display().to_string();
        vec!["--tls-cert".into(), path(&self.cert_path), "--tls-key".into(), path(&self.key_path)]
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
