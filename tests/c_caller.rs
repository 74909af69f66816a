//! Proof that the generated header and the built library work for a real C caller: compiles
//! tests/c/smoke.c with gcc against include/webrtc_p2p.h and the cdylib, and runs it against a real
//! signaling server.

mod common;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_c_program_hosts_joins_and_exchanges_messages() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    // `cargo test` refreshes the cdylib in deps/; `cargo build` also copies it up to debug/. Use the
    // newer of the two so the program runs against the code under test.
    let mtime = |dir: &PathBuf| std::fs::metadata(dir.join("libwebrtc_p2p.so")).and_then(|m| m.modified()).ok();
    let lib_dir = [target.join("debug/deps"), target.join("debug")]
        .into_iter()
        .filter(|d| mtime(d).is_some())
        .max_by_key(|d| mtime(d).unwrap())
        .expect("the cdylib is built with the tests");
    let exe = std::env::temp_dir().join(format!("webrtc_p2p_smoke_{}", std::process::id()));
    let status = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-D_POSIX_C_SOURCE=200809L"])
        .arg(root.join("tests/c/smoke.c"))
        .arg("-I")
        .arg(root.join("include"))
        .arg("-L")
        .arg(&lib_dir)
        .args(["-lwebrtc_p2p", "-lpthread", "-o"])
        .arg(&exe)
        .status()
        .expect("gcc");
    assert!(status.success(), "the C program compiles against the header");
    let server = common::Server::start();
    let out = Command::new(&exe).arg(&server.url).env("LD_LIBRARY_PATH", &lib_dir).output().expect("run smoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_file(&exe);
    assert!(out.status.success() && stdout.contains("c smoke: ok"), "stdout: {stdout}\nstderr: {stderr}");
}
