#!/usr/bin/env bash
# Builds the installable Unity package: a UPM tarball (`package/…` inside, as `npm pack` makes) that a
# Unity user adds from disk ("Add package from tarball") or unpacks into Packages/.
#
#   bash scripts/package.sh [--profile release|debug] [--out DIR]
#
# Contents: Runtime/ (C#), Plugins/<platform>/ with every native library built here (Linux x86_64
# always; Windows x86_64 when scripts/build-windows.sh built it for the same profile), the WebGL
# jslib, WebGL~/webrtc-p2p.js (the browser client as one ESM file, for the page that hosts a WebGL
# build: `import { PeerAdapter } from "./webrtc-p2p.js"; new PeerAdapter().adapt();`), Samples~,
# CHANGELOG.md, README.md, package.json. Every file and folder gets a .meta with a GUID derived from
# its path (stable across builds); native libraries get plugin import settings for their platform
# and CPU. The version must agree everywhere: Cargo.toml (what p2p_version() reports),
# unity/package.json and the top entry of unity/CHANGELOG.md; the script refuses to package otherwise.
# Prints the tarball's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
profile=release
out="${CARGO_TARGET_DIR:-$root/target}/package"
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: scripts/package.sh [--profile release|debug] [--out DIR]" >&2; exit 2 ;;
  esac
done
case "$profile" in release|debug) ;; *) echo "profile must be release or debug" >&2; exit 2 ;; esac

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
upm_version="$(sed -n 's/^ *"version": "\(.*\)",*/\1/p' unity/package.json | head -n1)"
changelog_version="$(sed -n 's/^## \[\{0,1\}\([0-9][^] ]*\).*/\1/p' unity/CHANGELOG.md | head -n1)"
if [ "$version" != "$upm_version" ] || [ "$version" != "$changelog_version" ]; then
  echo "versions disagree: Cargo.toml $version, unity/package.json $upm_version, unity/CHANGELOG.md $changelog_version" >&2
  exit 1
fi

target="${CARGO_TARGET_DIR:-$root/target}"
bash scripts/patch-deps.sh
# Release: only the cdylib, so the profile's LTO applies (cargo skips it for a crate that is also an rlib).
if [ "$profile" = release ]; then cargo rustc -q --release --lib --crate-type cdylib; else cargo build -q --lib; fi
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund -s; } && npm run -s build >/dev/null)

stage="$out/stage"
pkg="$stage/package"
rm -rf "$stage"
mkdir -p "$pkg"
cp unity/package.json unity/CHANGELOG.md "$pkg/"
cp README.md "$pkg/README.md"
cp -R unity/Runtime unity/Samples~ "$pkg/"
mkdir -p "$pkg/Plugins/WebGL" "$pkg/Plugins/Linux/x86_64" "$pkg/WebGL~"
cp unity/Plugins/README.md "$pkg/Plugins/"
cp unity/Plugins/WebGL/WebRtcP2p.jslib "$pkg/Plugins/WebGL/"
cp "$target/$profile/libwebrtc_p2p.so" "$pkg/Plugins/Linux/x86_64/"
strip "$pkg/Plugins/Linux/x86_64/libwebrtc_p2p.so" 2>/dev/null || true
# Libraries built elsewhere (the hosted-CI workflow, .github/workflows/plugins.yml) and placed in
# unity/Plugins/<platform>/ go in as they are.
for lib in Windows/x86_64/webrtc_p2p.dll macOS/libwebrtc_p2p.dylib iOS/libwebrtc_p2p.a Android/libs/arm64-v8a/libwebrtc_p2p.so; do
  if [ -f "unity/Plugins/$lib" ]; then
    mkdir -p "$pkg/Plugins/$(dirname "$lib")"
    cp "unity/Plugins/$lib" "$pkg/Plugins/$lib"
  fi
done
windows_dll="$target/x86_64-pc-windows-gnu/$profile/webrtc_p2p.dll"
if [ -f "$windows_dll" ]; then
  mkdir -p "$pkg/Plugins/Windows/x86_64"
  cp "$windows_dll" "$pkg/Plugins/Windows/x86_64/"
  x86_64-w64-mingw32-strip "$pkg/Plugins/Windows/x86_64/webrtc_p2p.dll" 2>/dev/null || true
fi
# One ESM file with socket.io-client inside, for the page that hosts the WebGL build.
(cd web && npx -s esbuild src/index.ts --bundle --format=esm --target=es2020 --log-level=warning \
  --outfile="$pkg/WebGL~/webrtc-p2p.js")

python3 - "$pkg" <<'PY'
"""Writes a Unity .meta beside every file and folder of the package (Unity refuses files without one
in an immutable package). GUIDs are an MD5 of the path inside the package: stable across builds."""
import hashlib, os, sys

pkg = sys.argv[1]

def guid(rel):
    return hashlib.md5(("webrtc-p2p:" + rel).encode()).hexdigest()

def platforms(entries):
    """PluginImporter platformData: every platform off but the listed (platform, settings) ones."""
    out = ["  platformData:", "  - first:", "      : Any", "    second:", "      enabled: 0", "      settings:",
           "        Exclude Editor: 1", "        Exclude Linux64: 1", "        Exclude OSXUniversal: 1",
           "        Exclude Win64: 1", "        Exclude WebGL: 1", "        Exclude Android: 1", "        Exclude iOS: 1"]
    for (group, name), settings in entries:
        out += ["  - first:", f"      {group}: {name}", "    second:", "      enabled: 1", "      settings:"]
        out += [f"        {k}: {v}" for k, v in settings.items()] or []
    return out

def plugin(entries):
    return ["PluginImporter:", "  externalObjects: {}", "  serializedVersion: 2", "  iconMap: {}",
            "  executionOrder: {}", "  defineConstraints: []", "  isPreloaded: 0", "  isOverridable: 0",
            "  isExplicitlyReferenced: 0", "  validateReferences: 1"] + platforms(entries) + \
           ["  userData: ", "  assetBundleName: ", "  assetBundleVariant: "]

NATIVE = {
    "Plugins/Linux/x86_64/libwebrtc_p2p.so": [
        (("Editor", "Editor"), {"CPU": "x86_64", "OS": "Linux", "DefaultValueInitialized": "true"}),
        (("Standalone", "Linux64"), {"CPU": "x86_64"}),
    ],
    "Plugins/Windows/x86_64/webrtc_p2p.dll": [
        (("Editor", "Editor"), {"CPU": "x86_64", "OS": "Windows", "DefaultValueInitialized": "true"}),
        (("Standalone", "Win64"), {"CPU": "x86_64"}),
    ],
    "Plugins/macOS/libwebrtc_p2p.dylib": [
        (("Editor", "Editor"), {"CPU": "AnyCPU", "OS": "OSX", "DefaultValueInitialized": "true"}),
        (("Standalone", "OSXUniversal"), {"CPU": "AnyCPU"}),
    ],
    "Plugins/Android/libs/arm64-v8a/libwebrtc_p2p.so": [(("Android", "Android"), {"CPU": "ARM64"})],
    # iOS links the static library into the player; the bindings use `__Internal` there.
    "Plugins/iOS/libwebrtc_p2p.a": [(("iPhone", "iOS"), {"CPU": "ARM64", "AddToEmbeddedBinaries": "false"})],
    "Plugins/WebGL/WebRtcP2p.jslib": [(("WebGL", "WebGL"), {})],
}

def meta(rel, is_dir):
    head = ["fileFormatVersion: 2", f"guid: {guid(rel)}"]
    if is_dir:
        body = ["folderAsset: yes", "DefaultImporter:", "  externalObjects: {}", "  userData: ",
                "  assetBundleName: ", "  assetBundleVariant: "]
    elif rel in NATIVE:
        body = plugin(NATIVE[rel])
    elif rel.endswith(".cs"):
        body = ["MonoImporter:", "  externalObjects: {}", "  serializedVersion: 2", "  defaultReferences: []",
                "  executionOrder: 0", "  icon: {instanceID: 0}", "  userData: ", "  assetBundleName: ",
                "  assetBundleVariant: "]
    elif rel.endswith(".asmdef"):
        body = ["AssemblyDefinitionImporter:", "  externalObjects: {}", "  userData: ", "  assetBundleName: ",
                "  assetBundleVariant: "]
    elif rel.endswith((".md", ".json", ".txt")):
        body = ["TextScriptImporter:", "  externalObjects: {}", "  userData: ", "  assetBundleName: ",
                "  assetBundleVariant: "]
    else:
        body = ["DefaultImporter:", "  externalObjects: {}", "  userData: ", "  assetBundleName: ",
                "  assetBundleVariant: "]
    return "\n".join(head + body) + "\n"

for dirpath, dirnames, filenames in os.walk(pkg):
    # Unity imports nothing in folders ending with "~" (Samples~, WebGL~): no metas there.
    dirnames[:] = [d for d in dirnames if not d.endswith("~")]
    for name in dirnames + filenames:
        if name.endswith(".meta"):
            continue
        full = os.path.join(dirpath, name)
        rel = os.path.relpath(full, pkg)
        with open(full + ".meta", "w") as f:
            f.write(meta(rel, os.path.isdir(full)))
PY

tarball="$out/dev.webrtc-p2p.unity-$version.tgz"
tar -czf "$tarball" -C "$stage" package
echo "$tarball"
