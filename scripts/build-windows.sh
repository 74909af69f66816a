#!/usr/bin/env bash
# Cross-builds the Windows x86_64 plugin (webrtc_p2p.dll + its import library libwebrtc_p2p.dll.a)
# from Linux with the MinGW-w64 toolchain, and checks that the DLL imports system DLLs only (a
# player machine has no MinGW runtime). Needs `rustup target add x86_64-pc-windows-gnu` and
# Debian's gcc-mingw-w64-x86-64 (.ci/run installs both).
#
#   bash scripts/build-windows.sh            # debug build: what the Wine tests use (the quicker build)
#   bash scripts/build-windows.sh --release  # release build, stripped copy in unity/Plugins/Windows/x86_64/
#
# The linker is set through cargo's environment, not a config file, so the user's cargo config and
# every other build stay as they are. Prints the DLL's path on the last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
triple=x86_64-pc-windows-gnu
profile=debug
case "${1:-}" in
  "") ;;
  --release) profile=release ;;
  *) echo "usage: $0 [--release]" >&2; exit 2 ;;
esac

command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "build-windows: x86_64-w64-mingw32-gcc missing (apt install gcc-mingw-w64-x86-64)" >&2; exit 1; }
rustup target list --installed 2>/dev/null | grep -qx "$triple" || { echo "build-windows: rust target missing (rustup target add $triple)" >&2; exit 1; }
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER="${CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER:-x86_64-w64-mingw32-gcc}"
# Build scripts that compile C for the target (ring) find the cross compiler by these names.
export CC_x86_64_pc_windows_gnu="${CC_x86_64_pc_windows_gnu:-x86_64-w64-mingw32-gcc}"
export AR_x86_64_pc_windows_gnu="${AR_x86_64_pc_windows_gnu:-x86_64-w64-mingw32-ar}"

bash scripts/patch-deps.sh
if [ "$profile" = release ]; then
  # Only the cdylib: cargo skips the profile's LTO for a crate that is also an rlib (Cargo.toml
  # lists both for the tests), and without it the DLL keeps every unused function of its
  # dependencies (docs/performance.md, "Plugin size").
  cargo rustc --target "$triple" --lib --release --crate-type cdylib
else
  cargo build --target "$triple" --lib
fi

out="${CARGO_TARGET_DIR:-$root/target}/$triple/$profile"
dll="$out/webrtc_p2p.dll"
[ -f "$dll" ] && [ -f "$out/libwebrtc_p2p.dll.a" ] || { echo "build-windows: $dll or its import library is missing" >&2; exit 1; }

# Every import must be a DLL that Windows 10+ itself ships. libgcc_s/libwinpthread/libstdc++ would
# mean the MinGW runtime leaked in; bcryptprimitives is std's ProcessPrng (Windows 10+).
imports="$(x86_64-w64-mingw32-objdump -p "$dll" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)"
system='^(kernel32|ntdll|ws2_32|bcrypt|bcryptprimitives|advapi32|userenv|iphlpapi|secur32|crypt32|ncrypt|ktmw32|ole32|oleaut32|shell32|user32|msvcrt|ucrtbase|api-ms-win-[a-z0-9-]+)\.dll$'
bad="$(grep -Ev "$system" <<<"$imports" || true)"
if [ -n "$bad" ]; then
  echo "build-windows: $dll imports non-system DLLs:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "build-windows: imports (system only): $(echo $imports)" >&2

if [ "$profile" = release ]; then
  dest=unity/Plugins/Windows/x86_64
  mkdir -p "$dest"
  x86_64-w64-mingw32-strip -o "$dest/webrtc_p2p.dll" "$dll"
  echo "build-windows: $dest/webrtc_p2p.dll ($(stat -c %s "$dest/webrtc_p2p.dll") bytes, stripped)" >&2
fi
echo "$dll"
