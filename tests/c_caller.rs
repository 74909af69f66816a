//! Proof that the generated header and the built library work for a real C caller: compiles
//! tests/c/smoke.c with gcc against include/webrtc_p2p.h and the cdylib, and runs it against a real
//! signaling server, natively and under valgrind (memory errors in the C ABI paths: invalid reads
//! and writes, use after free, uninitialised data reaching a decision or a syscall).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The folder of the freshest cdylib. `cargo test` refreshes it in deps/; `cargo build` also
/// copies it up to debug/. The newer of the two is the code under test.
fn lib_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let mtime = |dir: &PathBuf| std::fs::metadata(dir.join("libwebrtc_p2p.so")).and_then(|m| m.modified()).ok();
    [target.join("debug/deps"), target.join("debug")]
        .into_iter()
        .filter(|d| mtime(d).is_some())
        .max_by_key(|d| mtime(d).unwrap())
        .expect("the cdylib is built with the tests")
}

/// The C program, compiled against the freshest cdylib; returns (executable, library dir).
fn build_smoke(name: &str) -> (PathBuf, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lib_dir = lib_dir();
    let exe = std::env::temp_dir().join(format!("webrtc_p2p_{name}_{}", std::process::id()));
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
    (exe, lib_dir)
}

fn assert_smoke_ok(out: &Output, exe: &Path) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_file(exe);
    assert!(
        out.status.success() && stdout.contains("c smoke: ok"),
        "status {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
}

/// The plugin must load on a player's machine: it may need the C runtime and nothing else (no
/// libssl/libcrypto: TLS is rustls inside the library). `ldd` lists what the loader resolves.
#[test]
fn the_library_needs_only_the_c_runtime() {
    let lib = lib_dir().join("libwebrtc_p2p.so");
    let out = Command::new("ldd").arg(&lib).output().expect("run ldd");
    assert!(out.status.success(), "ldd {}: {}", lib.display(), String::from_utf8_lossy(&out.stderr));
    let glibc =
        ["linux-vdso.so.1", "libgcc_s.so.1", "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1"];
    let needed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(needed.iter().any(|n| n == "libc.so.6"), "ldd output looks wrong: {needed:?}");
    let foreign: Vec<&String> =
        needed.iter().filter(|n| !glibc.contains(&n.as_str()) && !n.contains("/ld-linux")).collect();
    assert!(foreign.is_empty(), "{} needs libraries a player may not have: {foreign:?}", lib.display());
}

#[test]
fn a_c_program_hosts_joins_and_exchanges_messages() {
    let (exe, lib_dir) = build_smoke("smoke");
    let server = common::Server::start();
    let out = Command::new(&exe).arg(&server.url).env("LD_LIBRARY_PATH", &lib_dir).output().expect("run smoke");
    assert_smoke_ok(&out, &exe);
}

/// The same program against an https/wss server: the CA the test made goes into the config JSON
/// (socket.caCertificatesPem), as a C or C# app would pass its private CA.
#[test]
fn a_c_program_joins_over_https_with_the_ca_in_its_config() {
    let (exe, lib_dir) = build_smoke("smoke_tls");
    let pki = common::tls::TestPki::new("c_caller");
    let args = pki.server_args();
    let server = common::Server::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(server.url.starts_with("https://"));
    let out = Command::new(&exe)
        .arg(&server.url)
        .arg(&pki.ca_path)
        .env("LD_LIBRARY_PATH", &lib_dir)
        .output()
        .expect("run smoke");
    assert_smoke_ok(&out, &exe);
}

/// The same program under valgrind's memcheck: any error fails it (exit 99). `.ci/run` installs
/// valgrind; without it the test fails and says so, unless P2P_SKIP_VALGRIND=1.
#[test]
fn the_c_program_is_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        assert!(
            std::env::var("P2P_SKIP_VALGRIND").as_deref() == Ok("1"),
            "valgrind is not installed (apt install valgrind, or P2P_SKIP_VALGRIND=1)"
        );
        return;
    }
    let (exe, lib_dir) = build_smoke("smoke_vg");
    let supp = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/c/valgrind.supp");
    let server = common::Server::start();
    let out = Command::new("valgrind")
        .args(["--error-exitcode=99", "--leak-check=no", "-q"])
        .arg(format!("--suppressions={}", supp.display()))
        .arg(&exe)
        .arg(&server.url)
        .env("LD_LIBRARY_PATH", &lib_dir)
        .env("P2P_SMOKE_TIME_FACTOR", "20")
        .output()
        .expect("run smoke under valgrind");
    assert_smoke_ok(&out, &exe);
}
