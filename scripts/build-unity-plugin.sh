#!/usr/bin/env bash
# Builds the release library for this machine's platform and puts it where the Unity package expects
# it (unity/Plugins/<platform>/). The binaries are not checked in; see README.md for other platforms.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Only the cdylib: cargo skips the profile's LTO for a crate that is also an rlib (Cargo.toml lists
# both for the tests); docs/performance.md, "Plugin size".
cargo rustc --release --lib --crate-type cdylib
target="${CARGO_TARGET_DIR:-$root/target}/release"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) dest=unity/Plugins/Linux/x86_64; lib=libwebrtc_p2p.so ;;
  Darwin-*) dest=unity/Plugins/macOS; lib=libwebrtc_p2p.dylib ;;
  *) echo "unsupported host $(uname -s)-$(uname -m): see README.md" >&2; exit 1 ;;
esac
mkdir -p "$dest"
cp "$target/$lib" "$dest/$lib"
strip "$dest/$lib" 2>/dev/null || true
echo "$dest/$lib"
