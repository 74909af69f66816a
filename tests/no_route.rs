//! Peers connect on a machine with no route for multicast (no default route: an isolated network,
//! a container with only its own subnet). webrtc-rs opened a query-only mDNS socket for every
//! connection and failed the whole connection when joining the mDNS group failed (ENODEV), so no
//! peer connection could be made at all (patches/webrtc-0.21.1/0004).
//!
//! The test re-runs its ignored half inside `unshare -rn`: a fresh network namespace that has only
//! loopback, hence no multicast route. Needs unprivileged user namespaces (or root); says so and
//! passes where `unshare -rn` itself is refused.

mod common;

use std::os::fd::AsRawFd;
use std::process::Command;

#[test]
fn peers_connect_without_a_multicast_route() {
    let probe = Command::new("unshare").args(["-rn", "true"]).output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!("skipped: `unshare -rn` refused here: {}", String::from_utf8_lossy(&out.stderr).trim());
            return;
        }
        Err(e) => {
            eprintln!("skipped: no `unshare` (util-linux): {e}");
            return;
        }
    }
    // Build the server out here: cargo needs the network namespace it was configured in.
    let server = common::server_bin();
    let out = Command::new("unshare")
        .arg("-rn")
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "inside_a_namespace_with_only_loopback", "--nocapture"])
        .env("P2P_SIGNALING_BIN", server)
        .output()
        .expect("run the test inside unshare -rn");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inside the namespace: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The half run by `unshare -rn` (ignored when run directly: it needs the fresh namespace).
#[tokio::test]
#[ignore]
async fn inside_a_namespace_with_only_loopback() {
    loopback_up();
    let server = common::Server::start();
    let host = common::host(common::config(&server.url), "no route").await;
    let client = common::join(common::config(&server.url), &host.id).await;
    host.chat.wait_open(std::slice::from_ref(&client.id), 20).await;
    client.chat.wait_open(std::slice::from_ref(&host.id), 20).await;
    client.chat.channel(&host.id).send_text("hello").await.unwrap();
    let mut host = host;
    let got = host.chat.recv_n(1, 10).await;
    assert_eq!(got[0].1, b"hello");
}

/// A new network namespace starts with `lo` down: bring it up (SIOCSIFFLAGS, no iproute2 needed).
fn loopback_up() {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap_or_else(|_| {
        // Binding needs no interface; this only fails if sockets are unavailable altogether.
        panic!("no UDP socket in the namespace")
    });
    let mut req = [0u8; 40];
    req[..2].copy_from_slice(b"lo");
    // SAFETY: a valid socket and a 40-byte ifreq (name, then the flags as a short).
    unsafe {
        assert!(libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, req.as_mut_ptr()) == 0, "SIOCGIFFLAGS lo");
        let flags = i16::from_ne_bytes([req[16], req[17]]) | libc::IFF_UP as i16;
        req[16..18].copy_from_slice(&flags.to_ne_bytes());
        assert!(libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, req.as_mut_ptr()) == 0, "SIOCSIFFLAGS lo");
    }
}
