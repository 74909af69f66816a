//! The Windows plugin, tested here: `webrtc_p2p.dll` cross-built for x86_64-pc-windows-gnu by
//! scripts/build-windows.sh (the same DLL a Unity user ships), C programs compiled with MinGW
//! against it, run under Wine against the Linux signaling server, alone and in one mesh with a
//! native Linux peer. All traffic stays on 127.0.0.1.
//!
//! The DLL is the debug build unless `P2P_WINDOWS_RELEASE=1`. Needs wine, x86_64-w64-mingw32-gcc
//! and the rust target (`.ci/run` installs them). Without them the tests say so on stderr and
//! pass, except when `CI` or `P2P_REQUIRE_WINDOWS` is set: then a missing tool fails them, so CI
//! cannot go green without running them.
//!
//! Wine 8.0 lacks bcryptprimitives.dll (std's `ProcessPrng`, Windows 10+): the tests build a
//! stand-in (tests/c/bcryptprimitives.c) next to their executables. The DLL under test is unchanged.

mod common;

use common::{attach_chat, config, wait_for, Server};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use webrtc_p2p::{Event, PeerClient};

const TRIPLE: &str = "x86_64-pc-windows-gnu";
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";
/// Timeouts inside the C programs are multiplied by this: Wine starts processes slowly and the
/// DLL is a debug build.
const TIME_FACTOR: &str = "3";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"))
}

/// What this machine lacks to run the Windows tests, if anything.
fn missing_tools() -> Vec<String> {
    let runs = |cmd: &str, args: &[&str]| {
        Command::new(cmd).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    };
    let mut missing = Vec::new();
    if !runs("wine", &["--version"]) {
        missing.push("wine (apt install wine wine64)".to_string());
    }
    if !runs(MINGW_GCC, &["--version"]) {
        missing.push(format!("{MINGW_GCC} (apt install gcc-mingw-w64-x86-64)"));
    }
    let targets = Command::new("rustup").args(["target", "list", "--installed"]).output();
    if !targets.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == TRIPLE)) {
        missing.push(format!("the rust target (rustup target add {TRIPLE})"));
    }
    missing
}

/// The executables and DLLs of one test run, in one folder (Windows finds a program's DLLs beside
/// it), and the Wine prefix to run them in.
struct WinePlace {
    dir: PathBuf,
    prefix: PathBuf,
}

impl WinePlace {
    fn command(&self, exe: &str) -> Command {
        let mut cmd = Command::new("wine");
        cmd.arg(self.dir.join(exe))
            .current_dir(&self.dir)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            // No Mono/Gecko installers: nothing here needs .NET or HTML.
            .env("WINEDLLOVERRIDES", "mscoree=;mshtml=")
            .env("P2P_SMOKE_TIME_FACTOR", TIME_FACTOR);
        cmd
    }
}

/// Builds the DLL (a no-op when fresh), the C programs and the ProcessPrng stand-in, and prepares
/// the Wine prefix; once per test process. `None` (after saying why) when the tools are missing
/// outside CI.
fn wine_place() -> Option<&'static WinePlace> {
    static PLACE: OnceLock<Option<WinePlace>> = OnceLock::new();
    PLACE
        .get_or_init(|| {
            let missing = missing_tools();
            if !missing.is_empty() {
                let required = std::env::var_os("CI").is_some() || std::env::var_os("P2P_REQUIRE_WINDOWS").is_some();
                assert!(!required, "the Windows tests cannot run: missing {}", missing.join(", "));
                // Straight to stderr, past the test harness's capture, so a skip is never silent.
                let _ = writeln!(std::io::stderr(), "SKIPPED the Windows tests: missing {}", missing.join(", "));
                return None;
            }
            Some(prepare())
        })
        .as_ref()
}

fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn prepare() -> WinePlace {
    let root = root();
    let target = target_dir();
    // The debug build by default (quicker to rebuild); P2P_WINDOWS_RELEASE=1 tests the release DLL,
    // the one scripts/build-windows.sh --release puts in the Unity package.
    let mut build = Command::new("bash");
    build.arg(root.join("scripts/build-windows.sh")).current_dir(&root);
    if std::env::var("P2P_WINDOWS_RELEASE").as_deref() == Ok("1") {
        build.arg("--release");
    }
    // Without what cargo sets for this test process: ring's build script tracks CARGO_MANIFEST_DIR,
    // so inheriting it would make every build here and every build from a shell rebuild the DLL.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key == "CARGO"
            || key == "OUT_DIR"
            || ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_TARGET_TMPDIR", "CARGO_PRIMARY_"]
                .iter()
                .any(|p| key.starts_with(p))
        {
            build.env_remove(&*key);
        }
    }
    let stdout = run_ok(&mut build, "scripts/build-windows.sh");
    let dll = PathBuf::from(stdout.lines().last().expect("build-windows.sh prints the DLL path").trim());
    let import_lib = dll.with_file_name("libwebrtc_p2p.dll.a");

    // One folder, emptied on every run (the DLL is 200 MB in a debug build: no pile-up).
    let dir = target.join("wine-tests");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A hard link is a snapshot: the linker and cargo replace their files rather than write into
    // them, so a rebuild while a test runs does not change the DLL under test. Copy where linking
    // is impossible.
    let under_test = dir.join("webrtc_p2p.dll");
    if std::fs::hard_link(&dll, &under_test).is_err() {
        std::fs::copy(&dll, &under_test).expect("copy the DLL");
    }
    let c = root.join("tests/c");
    run_ok(
        Command::new(MINGW_GCC)
            .args(["-Wall", "-Wextra", "-Werror", "-shared", "-o"])
            .arg(dir.join("bcryptprimitives.dll"))
            .arg(c.join("bcryptprimitives.c"))
            .arg("-lbcrypt"),
        "building the ProcessPrng stand-in",
    );
    for program in ["smoke", "mesh_peer"] {
        // -static: the MinGW runtime (winpthreads, libgcc) goes into the executable, as a Windows
        // user's own program would not have it; the DLL is linked through its import library.
        run_ok(
            Command::new(MINGW_GCC)
                .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-static", "-pthread", "-I"])
                .arg(root.join("include"))
                .arg(c.join(format!("{program}.c")))
                .arg(&import_lib)
                .arg("-o")
                .arg(dir.join(format!("{program}.exe"))),
            &format!("compiling tests/c/{program}.c with MinGW"),
        );
    }

    // One prefix for every run, under the target dir: creating it takes ~20 s, reusing it ~0.
    let prefix = target.join("wine-prefix");
    let place = WinePlace { dir, prefix };
    if !place.prefix.join("system.reg").exists() {
        let mut boot = Command::new("wineboot");
        boot.arg("-i")
            .env("WINEPREFIX", &place.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree=;mshtml=");
        let _ = boot.output().expect("wineboot");
        assert!(
            place.prefix.join("system.reg").exists(),
            "wineboot did not create the prefix {}",
            place.prefix.display()
        );
    }
    place
}

/// Waits for `child` at most `limit`, killing it then; returns (success, stdout, stderr).
fn wait_bounded(mut child: Child, limit: Duration) -> (bool, String, String) {
    use std::io::Read;
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out_reader.join().unwrap(), err_reader.join().unwrap());
    (status.is_some_and(|s| s.success()), out, err)
}

/// Runs tests/c/smoke.c (host, join, one message each way, handle checks, shutdown) as a Windows
/// program on the Windows DLL, with `args`, and checks that it passed.
fn run_smoke(wine: &WinePlace, args: &[&str], what: &str) {
    let child =
        wine.command("smoke.exe").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run wine");
    let (ok, out, err) = wait_bounded(child, Duration::from_secs(180));
    assert!(ok && out.contains("c smoke: ok"), "smoke.exe {what} under Wine failed\nstdout: {out}\nstderr: {err}");
}

#[test]
fn the_c_program_runs_on_the_windows_dll_under_wine() {
    let Some(wine) = wine_place() else { return };
    let server = Server::start();
    run_smoke(wine, &[&server.url], "over http");
}

/// The same program against an https/wss server, with the test CA in its config JSON: the DLL's
/// own TLS (rustls and ring, built for Windows) does the handshake.
#[test]
fn the_c_program_joins_over_https_on_the_windows_dll_under_wine() {
    let Some(wine) = wine_place() else { return };
    let pki = common::tls::TestPki::new("wine");
    std::fs::copy(&pki.ca_path, wine.dir.join("ca.pem")).expect("copy the CA next to the program");
    let args = pki.server_args();
    let server = Server::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>());
    run_smoke(wine, &[&server.url, "ca.pem"], "over https");
}

/// Every DLL the plugin imports is one Windows itself provides: it is in the system32 folder of
/// the Wine prefix (which holds Windows' own set), is an API set contract (`api-ms-win-*`, which
/// the loader maps to system DLLs; no file has that name), or is bcryptprimitives.dll (std's
/// ProcessPrng, Windows 10+, missing from Wine 8). No OpenSSL, no MinGW runtime.
#[test]
fn the_windows_dll_imports_only_system_dlls() {
    let Some(wine) = wine_place() else { return };
    let dll = wine.dir.join("webrtc_p2p.dll");
    let dump = run_ok(Command::new("x86_64-w64-mingw32-objdump").arg("-p").arg(&dll), "objdump -p");
    let imports: Vec<String> =
        dump.lines().filter_map(|l| l.trim().strip_prefix("DLL Name: ")).map(|n| n.to_ascii_lowercase()).collect();
    assert!(imports.iter().any(|n| n == "kernel32.dll"), "no imports read: {dump}");
    let system32: Vec<String> = std::fs::read_dir(wine.prefix.join("drive_c/windows/system32"))
        .expect("the prefix's system32")
        .map(|e| e.unwrap().file_name().to_string_lossy().to_ascii_lowercase())
        .collect();
    let foreign: Vec<&String> = imports
        .iter()
        .filter(|n| *n != "bcryptprimitives.dll" && !n.starts_with("api-ms-win-") && !system32.contains(n))
        .collect();
    assert!(foreign.is_empty(), "webrtc_p2p.dll imports DLLs Windows does not ship: {foreign:?}");
}

/// A tests/c/mesh_peer.c process under Wine, read line by line.
struct WinePeer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    stderr: Arc<parking_lot::Mutex<String>>,
}

impl WinePeer {
    fn spawn(wine: &WinePlace, name: &str, url: &str, args: &[&str]) -> WinePeer {
        let mut child = wine
            .command("mesh_peer.exe")
            .arg(url)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run wine");
        let (tx, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                // Windows' C runtime writes CRLF.
                let _ = tx.send(line.trim_end().to_string());
            }
        });
        let stderr: Arc<parking_lot::Mutex<String>> = Default::default();
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdin = child.stdin.take();
        WinePeer { name: name.to_string(), child, stdin, lines, seen: Vec::new(), stderr }
    }

    /// The next line that starts with `prefix` (its rest), within `secs`; panics with everything the
    /// peer said otherwise.
    async fn expect(&mut self, prefix: &str, secs: u64) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Ok(None) => {
                    panic!("{} exited before `{prefix}`: {:?}\nstderr: {}", self.name, self.seen, self.stderr.lock())
                }
                Err(_) => panic!(
                    "{} said no `{prefix}` in {secs} s: {:?}\nstderr: {}",
                    self.name,
                    self.seen,
                    self.stderr.lock()
                ),
            }
        }
    }

    /// Waits until the peer has reported an open chat channel to each of `peers`.
    async fn wait_open(&mut self, peers: &[String], secs: u64) {
        let opened = |seen: &[String], p: &String| seen.iter().any(|l| l.strip_prefix("open ") == Some(p.as_str()));
        while !peers.iter().all(|p| opened(&self.seen, p)) {
            self.expect("open ", secs).await;
        }
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").and_then(|_| stdin.flush()).expect("write to the peer");
    }

    /// Closes stdin (the peer stops its client, shuts the library down and exits) and checks that
    /// it said `bye` and exited with 0.
    async fn finish(mut self, secs: u64) {
        drop(self.stdin.take());
        self.expect("bye", secs).await;
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{} did not exit after bye", self.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "{} exited with {status}\nstderr: {}", self.name, self.stderr.lock());
    }
}

impl Drop for WinePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three Windows peers under Wine (the host and two members) and one native Linux peer (the Rust
/// API) in one group: every member opens a channel to every other, and every ordered pair
/// exchanges a message, so the DLL both offers and answers, to Windows and to Linux peers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_peers_under_wine_and_a_linux_peer_form_one_mesh() {
    let Some(wine) = wine_place() else { return };
    let server = Server::start();

    let mut host = WinePeer::spawn(wine, "wine host", &server.url, &["--host", "wine mesh"]);
    let host_id = host.expect("ready ", 120).await;
    let mut first = WinePeer::spawn(wine, "wine member 1", &server.url, &["--join", &host_id]);
    let first_id = first.expect("ready ", 120).await;

    // The Linux peer joins between the two Windows members, so it is both an earlier and a later
    // member to Windows peers.
    let native = PeerClient::new(config(&server.url)).unwrap();
    let mut events = native.subscribe();
    let mut chat = attach_chat(&native);
    native.start_client(&host_id).await.expect("the Linux peer joins");
    let Event::Started(native_id) = wait_for(&mut events, 60, |e| matches!(e, Event::Started(_))).await else {
        unreachable!()
    };

    let mut second = WinePeer::spawn(wine, "wine member 2", &server.url, &["--join", &host_id]);
    let second_id = second.expect("ready ", 120).await;

    let mut wine_peers = [(host, host_id), (first, first_id), (second, second_id)];
    let all: Vec<String> = wine_peers.iter().map(|(_, id)| id.clone()).chain([native_id.clone()]).collect();
    let others = |me: &str| all.iter().filter(|id| *id != me).cloned().collect::<Vec<_>>();

    for (peer, id) in wine_peers.iter_mut() {
        peer.wait_open(&others(id), 90).await;
    }
    chat.wait_open(&others(&native_id), 90).await;

    // Every member says who it is to every other member.
    for (peer, id) in wine_peers.iter_mut() {
        peer.send_line(&format!("from {id}"));
        assert_eq!(peer.expect("sent ", 30).await, "3", "{} sent to all three others", peer.name);
    }
    for other in others(&native_id) {
        chat.channel(&other).send_text(&format!("from {native_id}")).await.unwrap();
    }

    for (peer, id) in wine_peers.iter_mut() {
        for from in others(id) {
            let want = format!("{from} from {from}");
            while !peer.seen.iter().any(|l| l.strip_prefix("recv ") == Some(want.as_str())) {
                peer.expect("recv ", 30).await;
            }
        }
    }
    let mut got: Vec<String> = chat
        .recv_n(3, 30)
        .await
        .into_iter()
        .map(|(from, data, is_text)| {
            assert!(is_text);
            assert_eq!(
                String::from_utf8(data).unwrap(),
                format!("from {from}"),
                "each message on its sender's channel"
            );
            from
        })
        .collect();
    got.sort();
    let mut want = others(&native_id);
    want.sort();
    assert_eq!(got, want, "the Linux peer heard from every Windows peer");

    native.stop().await;
    for (peer, _) in wine_peers {
        peer.finish(60).await;
    }
}
