//! A coturn process on 127.0.0.1 for the TURN tests and the join bench; killed on drop. It is up
//! when `start` returns (coturn's own "ready" log line, not a sleep), and its log is kept for the
//! caller to inspect.

use parking_lot::Mutex;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// How peers authenticate to the TURN server.
pub enum TurnAuth<'a> {
    /// The TURN REST scheme (`use-auth-secret`): credentials derived from a shared secret, as our
    /// signaling server issues them with `--turn-secret`.
    Secret(&'a str),
    /// Long-term credentials for one fixed user (`lt-cred-mech`), realm `realm`.
    User { name: &'a str, password: &'a str, realm: &'a str },
}

pub struct Coturn {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Coturn {
    /// Starts coturn with `auth` and `relay_ports` relay ports (a range derived from its listening
    /// port, so parallel runs rarely meet); `verbose` logs every request. None when coturn is not
    /// installed; panics when it does not come up.
    pub fn try_start(auth: TurnAuth, relay_ports: u16, verbose: bool) -> Option<Coturn> {
        let bin =
            ["/usr/bin/turnserver", "/usr/sbin/turnserver"].into_iter().find(|p| std::path::Path::new(p).exists())?;
        let port = std::net::UdpSocket::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let min_relay = 50_000 + (port % 7_000) * 2;
        let pidfile = std::env::temp_dir().join(format!("p2p-test-turnserver-{port}.pid"));
        let mut command = Command::new(bin);
        command
            .args(["-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--no-tls", "--no-dtls"])
            .args(["--listening-port", &port.to_string(), "--no-cli"])
            // coturn refuses loopback peers by default; every peer here is on loopback.
            .arg("--allow-loopback-peers")
            .args(["--min-port", &min_relay.to_string(), "--max-port", &(min_relay + relay_ports - 1).to_string()])
            .args(["--log-file", "stdout", "--pidfile", pidfile.to_str()?]);
        match auth {
            TurnAuth::Secret(secret) => {
                command.args(["--realm", "p2p.test", "--use-auth-secret", "--static-auth-secret", secret])
            }
            TurnAuth::User { name, password, realm } => {
                command.args(["--lt-cred-mech", "--user", &format!("{name}:{password}"), "--realm", realm])
            }
        };
        if verbose {
            command.arg("--verbose");
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take()?;
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.contains("Total General servers") {
                        let _ = ready_tx.send(());
                    }
                    let mut log = log.lock();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        ready_rx.recv_timeout(Duration::from_secs(10)).expect("coturn did not come up");
        Some(Coturn { child, port, log })
    }

    /// `try_start`, for tests that need coturn.
    pub fn start(auth: TurnAuth, relay_ports: u16, verbose: bool) -> Coturn {
        Coturn::try_start(auth, relay_ports, verbose)
            .expect("turnserver (coturn) must be installed: apt-get install coturn")
    }

    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.log.lock().clone()
    }

    pub fn log_contains(&self, text: &str) -> bool {
        self.log.lock().contains(text)
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
