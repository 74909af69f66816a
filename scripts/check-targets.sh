#!/usr/bin/env bash
# Type-checks the plugin for the targets this machine cannot build: Android (Quest), macOS (both
# architectures) and iOS. There is no Android NDK and no Apple SDK here, so the C parts of
# dependencies (ring's C and assembly today; a cmake-built libopus later) cannot be compiled; this
# script replaces the C toolchain with stubs for the check only.
#
#   bash scripts/check-targets.sh              # every target below
#   bash scripts/check-targets.sh aarch64-apple-ios
#
# What it verifies, per target: `cargo check --lib` of the plugin succeeds, i.e. every Rust crate
# of the plugin (ours, the patched ones in vendor/, and all dependencies with that target's cfg:
# target_os = "android"/"macos"/"ios", pointer width, the platform's libc/socket APIs as tokio,
# socket2 and quinn-udp use them) parses, resolves, type-checks and borrow-checks, and every build
# script runs. A platform compile error in Rust therefore fails CI here.
# What it does not verify: that the C code compiles for the target (the stubs write empty objects
# and archives), that the library links, loads, or works on the device. The hosted CI workflow
# (.github/workflows/) builds those targets for real on their native runners.
#
# The stubs: CC/CXX (write an empty file at `-o`, print nothing for `-E`), AR/RANLIB (write an
# empty archive), CMAKE (configure and build do nothing, the install prefix gets empty lib/ and
# include/), all set through the target-specific variables the `cc` and `cmake` crates read
# (CC_<triple>, AR_<triple>, CMAKE_<triple>), so host builds in the same cargo run are unaffected.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-linux-android aarch64-apple-darwin x86_64-apple-darwin aarch64-apple-ios)

installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

stubs="${CARGO_TARGET_DIR:-$root/target}/check-targets-stubs"
mkdir -p "$stubs"
cat > "$stubs/cc" <<'EOF'
#!/bin/sh
# C/C++ compiler stub for `cargo check` of foreign targets: an empty output file, no preprocessor output.
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift ;;
    -o*) out="${1#-o}" ;;
  esac
  shift
done
[ -n "$out" ] && : > "$out"
exit 0
EOF
cat > "$stubs/ar" <<'EOF'
#!/bin/sh
# ar/ranlib stub: every *.a argument becomes (or stays) a valid empty archive.
for a in "$@"; do
  case "$a" in *.a) [ -s "$a" ] || printf '!<arch>\n' > "$a" ;; esac
done
exit 0
EOF
cat > "$stubs/cmake" <<'EOF'
#!/bin/sh
# cmake stub: configure and build succeed without compiling; the install prefix gets lib/ and include/.
for a in "$@"; do
  case "$a" in -DCMAKE_INSTALL_PREFIX=*) p="${a#-DCMAKE_INSTALL_PREFIX=}"; mkdir -p "$p/lib" "$p/include" ;; esac
done
[ "${1:-}" = "--version" ] && echo "cmake version 3.28.0"
exit 0
EOF
chmod +x "$stubs/cc" "$stubs/ar" "$stubs/cmake"

bash scripts/patch-deps.sh
failed=()
for t in "${targets[@]}"; do
  var="${t//-/_}"
  echo "check-targets: $t"
  # Apple targets: cc-rs asks xcrun for the SDK unless SDKROOT is set; no SDK is read by the stubs.
  if env "CC_$var=$stubs/cc" "CXX_$var=$stubs/cc" "AR_$var=$stubs/ar" "RANLIB_$var=$stubs/ar" \
      "CMAKE_$var=$stubs/cmake" SDKROOT="$stubs" CI="${CI:-}" \
      cargo check -q --lib --target "$t"; then
    echo "check-targets: $t ok (Rust checked; C stubbed)"
  else
    failed+=("$t")
  fi
  # Nothing reads a type-check afterwards; on CI's fresh machine each is disk for nothing (~0.5 GB
  # for the four; one CI run ran out of disk).
  if [ -n "${CI:-}" ]; then rm -rf "${CARGO_TARGET_DIR:-$root/target}/$t"; fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "check-targets: FAILED for ${failed[*]}" >&2
  exit 1
fi
