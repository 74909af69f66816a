#!/usr/bin/env bash
# Runs every test of the project: Rust (plugin core, C ABI, C caller, the Windows DLL under Wine,
# server), the server's JS client compatibility test, the Unity C# package under Mono, the web
# client (unit + headless Chromium) and the Extreal compatibility suite (compat/). Each suite prints
# its own counts; the script stops at the first failing suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
export P2P_SIGNALING_BIN="$target/debug/p2p-signaling"
export P2P_NATIVE_CHAT_BIN="$target/debug/examples/chat"
export P2P_LIB_DIR="$target/debug"

step() { printf '\n=== %s ===\n' "$*"; }

step "dependency patches (patches/ -> vendor/)"
bash scripts/patch-deps.sh

step "format and lints (rustfmt.toml; clippy with warnings as errors)"
cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings

step "build (workspace, tests, examples)"
cargo build --workspace --all-targets

step "Windows plugin (x86_64-pc-windows-gnu with MinGW; tested under Wine by tests/windows.rs)"
if [ -n "${P2P_REQUIRE_WINDOWS:-}${CI:-}" ] || { command -v x86_64-w64-mingw32-gcc && command -v wine; } >/dev/null; then
  bash scripts/build-windows.sh
else
  echo "skipped: no wine or x86_64-w64-mingw32-gcc here (.ci/run installs them); tests/windows.rs will say so too"
fi

step "Android, macOS, iOS: cargo check --lib per target with the C toolchain stubbed (scripts/check-targets.sh)"
if [ -n "${CI:-}" ] || rustup target list --installed | grep -q apple-ios; then
  bash scripts/check-targets.sh
else
  echo "skipped: the rust targets are not installed (.ci/run adds them; or run scripts/check-targets.sh, which adds them)"
fi

step "Rust tests (client core, C ABI, C caller, Windows DLL under Wine, bindings, server)"
cargo test --workspace --no-fail-fast -- --test-threads=2

if [ -f server/tests/js/run.sh ]; then
  step "signaling server with node's socket.io-client"
  bash server/tests/js/run.sh
fi

if [ -f "unity/Tests~/run.sh" ]; then
  step "Unity package under Mono"
  bash "unity/Tests~/run.sh"
fi

step "Unity package tarball (layout, .meta import settings, version, bundle, C# from the unpacked copy)"
bash tests/package.sh

if [ -f web/tests/run.sh ]; then
  step "web client (vitest + headless Chromium)"
  bash web/tests/run.sh
fi

if [ -f compat/run.sh ]; then
  step "Extreal compatibility (both servers x C#-shaped, native and web clients; timings)"
  bash compat/run.sh
fi

step "all suites passed"
