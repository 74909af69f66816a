#!/usr/bin/env bash
# The installable Unity package, checked as a user receives it: builds the tarball (debug library,
# to reuse the test build), unpacks it elsewhere, and checks the layout, a .meta beside every asset
# with unique GUIDs, the plugin import settings per platform, that the library's p2p_version()
# agrees with package.json, that the browser bundle loads, and that the C# (runtime and sample)
# compiles from the unpacked copy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "package test: FAILED: $*" >&2; exit 1; }

tarball="$(bash "$root/scripts/package.sh" --profile debug --out "$work/out" | tail -n1)"
[ -f "$tarball" ] || fail "no tarball"
mkdir -p "$work/unpacked" && tar -xzf "$tarball" -C "$work/unpacked"
pkg="$work/unpacked/package"

for f in package.json CHANGELOG.md README.md Runtime/WebRtcP2p.asmdef Runtime/NativePeerClient.cs Runtime/Codes.g.cs \
         Plugins/Linux/x86_64/libwebrtc_p2p.so Plugins/WebGL/WebRtcP2p.jslib WebGL~/webrtc-p2p.js \
         Samples~/NativeDataChannel/NativeDataChannelClient.cs; do
  [ -e "$pkg/$f" ] || fail "missing $f"
done

# A .meta beside every file and folder outside the ~ folders, and no two GUIDs alike.
missing="$(cd "$pkg" && find . -path '*~*' -prune -o ! -name '*.meta' ! -name . -print | while read -r p; do [ -f "$p.meta" ] || echo "$p"; done)"
[ -z "$missing" ] || fail "no .meta for: $missing"
dupes="$(cd "$pkg" && find . -name '*.meta' -exec sed -n 's/^guid: //p' {} + | sort | uniq -d)"
[ -z "$dupes" ] || fail "duplicate GUIDs: $dupes"

enabled_for() { # meta platform-group platform: the platform entry exists and is enabled
  awk -v want="      $2: $3" '$0 == want { found = 1; next } found && /enabled:/ { print $2; exit }' "$1"
}
so_meta="$pkg/Plugins/Linux/x86_64/libwebrtc_p2p.so.meta"
[ "$(enabled_for "$so_meta" Standalone Linux64)" = 1 ] || fail "the Linux library is not enabled for Standalone Linux64"
[ "$(enabled_for "$so_meta" Editor Editor)" = 1 ] || fail "the Linux library is not enabled for the editor"
grep -q "CPU: x86_64" "$so_meta" || fail "the Linux library has no CPU setting"
[ -z "$(enabled_for "$so_meta" Standalone Win64)" ] || fail "the Linux library is enabled for Windows"
[ "$(enabled_for "$pkg/Plugins/WebGL/WebRtcP2p.jslib.meta" WebGL WebGL)" = 1 ] || fail "the jslib is not enabled for WebGL"
if [ -f "$pkg/Plugins/Windows/x86_64/webrtc_p2p.dll" ]; then
  [ "$(enabled_for "$pkg/Plugins/Windows/x86_64/webrtc_p2p.dll.meta" Standalone Win64)" = 1 ] || fail "the DLL is not enabled for Win64"
fi

# p2p_version() of the packaged library is package.json's version.
want="$(sed -n 's/^ *"version": "\(.*\)",*/\1/p' "$pkg/package.json" | head -n1)"
printf '#include "webrtc_p2p.h"\n#include <stdio.h>\nint main(void) { puts(p2p_version()); return 0; }\n' > "$work/version.c"
gcc -I "$root/include" "$work/version.c" -L "$pkg/Plugins/Linux/x86_64" -lwebrtc_p2p -o "$work/version"
got="$(LD_LIBRARY_PATH="$pkg/Plugins/Linux/x86_64" "$work/version")"
[ "$got" = "$want" ] || fail "p2p_version() is $got, package.json says $want"

# The browser bundle is one self-contained ESM file exporting the client and the adapter.
node --no-warnings --input-type=module -e "
  const m = await import('$pkg/WebGL~/webrtc-p2p.js');
  for (const name of ['PeerClient', 'PeerAdapter', 'ErrorCode', 'MessageType']) if (!m[name]) throw new Error('no export ' + name);
" || fail "the browser bundle does not load"

# The C# compiles from the unpacked copy (as Unity would compile it), with the sample.
mapfile -t sources < <(find "$pkg/Runtime" "$pkg/Samples~" -name '*.cs' | sort)
mcs -langversion:7 -unsafe -warnaserror+ -nowarn:1591 -target:library -r:System.Core -out:"$work/package.dll" "${sources[@]}" \
  || fail "the C# does not compile from the package"

echo "package test: ok ($(basename "$tarball"), $(du -h "$tarball" | cut -f1))"
