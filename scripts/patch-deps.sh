#!/usr/bin/env bash
# Applies our fixes to published dependencies: for every `patches/<crate>-<version>/`, takes the
# crate exactly as published (through cargo, into its registry cache), copies it to
# `vendor/<crate>-<version>/` and applies the `*.diff` files there in name order. Cargo.toml's
# `[patch.crates-io]` points at those folders, so this must run before any cargo command on a fresh
# clone (the README's two commands and .ci/run do). The repository holds only our diffs; `vendor/`
# is ignored. Re-running is cheap: a folder is rebuilt only when its diffs changed.
# Each diff starts with a paragraph saying what it fixes and why, written to go upstream
# (docs/dependency-patches.md lists them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
shopt -s nullglob
dirs=(patches/*/)
[ ${#dirs[@]} -gt 0 ] || exit 0

stamp_of() { cat "$1"/*.diff | sha256sum | cut -c1-16; }

todo=()
for dir in "${dirs[@]}"; do
  id="$(basename "$dir")"
  if [ "$(cat "vendor/$id/.patched" 2>/dev/null)" != "$(stamp_of "$dir")" ]; then todo+=("$id"); fi
done
[ ${#todo[@]} -gt 0 ] || exit 0

# Fetch the pristine crates with a throwaway manifest that pins exactly these versions (outside our
# workspace, so our own [patch] section, which needs vendor/ to exist, is not read).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
{
  printf '[package]\nname = "patch-deps-fetch"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\n'
  for id in "${todo[@]}"; do printf '%s = "=%s"\n' "${id%-*}" "${id##*-}"; done
} > "$scratch/Cargo.toml"
mkdir -p "$scratch/src" && : > "$scratch/src/lib.rs"
cargo fetch -q --manifest-path "$scratch/Cargo.toml"
registry="${CARGO_HOME:-$HOME/.cargo}/registry"

for id in "${todo[@]}"; do
  src=""
  for d in "$registry"/src/*/"$id"; do src="$d"; done
  if [ -z "$src" ]; then
    # cargo fetch fills the download cache; unpack from it when the sources are not extracted yet.
    for c in "$registry"/cache/*/"$id.crate"; do
      mkdir -p "$scratch/unpacked" && tar -xzf "$c" -C "$scratch/unpacked" && src="$scratch/unpacked/$id"
    done
  fi
  [ -n "$src" ] || { echo "patch-deps: cannot find the published source of $id" >&2; exit 1; }
  rm -rf "vendor/$id"
  mkdir -p vendor
  cp -R "$src" "vendor/$id"
  for diff in patches/"$id"/*.diff; do
    if ! patch -s -p1 -d "vendor/$id" --no-backup-if-mismatch < "$diff"; then
      echo "patch-deps: $diff does not apply to $id" >&2
      exit 1
    fi
  done
  stamp_of "patches/$id" > "vendor/$id/.patched"
  echo "patch-deps: vendor/$id ($(ls patches/"$id"/*.diff | wc -l) diffs)"
done
