#!/usr/bin/env bash
# Builds the C examples of examples/wasm/ into WebAssembly modules (WASI preview 1) with clang:
#   ./scripts/build_wasm.sh [OUT_DIR]        (default: build/wasm, ignored by git)
#
# Out:
#   OUT_DIR/NAME.wasm, OUT_DIR/hostile/NAME.wasm   one module per C file
#   OUT_DIR/SHA256SUMS                              sha256 of each module (sha256sum format)
#   OUT_DIR/templates/ID.yaml                       the node templates of examples/wasm/, pinned:
#                                                   `module` the built file's absolute path and
#                                                   `sha256` its digest (ready to POST /factory/nodes)
#
# A server reads module files only inside its module directories: NEIRA_WASM_PATH=OUT_DIR (or build
# into the default one, ./scripts/build_wasm.sh var/modules, <NEIRA_VAR_DIR>/modules).
#
# A C file whose first line says `(wasi-command)` is a command (`main`, JSON on stdin and stdout);
# any other is a reactor for the `neira-json-v1` ABI (`-mexec-model=reactor`, see neira.h).
#
# Needs (Debian): clang, lld (wasm-ld), wasi-libc (the sysroot, /usr/lib/wasm32-wasi) and
# libclang-rt-dev-wasm32 (compiler-rt builtins); ./scripts/setup.sh installs them.
# Env: CC=clang-NN to pick a compiler; WASI_SYSROOT=DIR for a sysroot elsewhere (wasi-sdk's
# share/wasi-sysroot, /usr/share/wasi-sysroot).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
SRC="$ROOT/examples/wasm"
OUT="${1:-$ROOT/build/wasm}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
die() { printf 'build_wasm: %s\n' "$*" >&2; exit 1; }

# -- the compiler ------------------------------------------------------------------------------
CC="${CC:-}"
if [[ -z $CC ]]; then
  for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
    if command -v "$c" >/dev/null; then CC=$c; break; fi
  done
fi
[[ -n $CC ]] && command -v "$CC" >/dev/null || die "no clang found: install clang lld wasi-libc libclang-rt-dev-wasm32 (./scripts/setup.sh)"

# -- the sysroot: Debian's wasi-libc is where Debian's clang looks by itself -----------------------
FLAGS=(--target=wasm32-wasi -O2 -Wall -Wno-unused-function -Wl,--stack-first)
if [[ -n ${WASI_SYSROOT:-} ]]; then
  FLAGS+=(--sysroot="$WASI_SYSROOT")
elif [[ -f /usr/lib/wasm32-wasi/libc.a ]]; then
  :  # Debian: include/wasm32-wasi and lib/wasm32-wasi under /usr
elif [[ -f /usr/share/wasi-sysroot/lib/wasm32-wasi/libc.a ]]; then
  FLAGS+=(--sysroot=/usr/share/wasi-sysroot)
else
  die "no WASI sysroot: install wasi-libc (Debian) or set WASI_SYSROOT"
fi
builtins="$("$CC" "${FLAGS[@]}" -print-libgcc-file-name 2>/dev/null || true)"
[[ -n $builtins && -f $builtins ]] \
  || die "no compiler-rt builtins for wasm32 ($builtins): install libclang-rt-dev-wasm32 (or libclang-rt-NN-dev-wasm32)"

# -- the modules --------------------------------------------------------------------------------
built=0
while IFS= read -r -d '' c; do
  rel="${c#"$SRC"/}"
  wasm="$OUT/${rel%.c}.wasm"
  mkdir -p "$(dirname "$wasm")"
  if head -n 1 "$c" | grep -q '(wasi-command)'; then model=command; else model=reactor; fi
  "$CC" "${FLAGS[@]}" -mexec-model="$model" -I "$SRC" -o "$wasm.tmp" "$c" || die "$rel does not compile"
  mv "$wasm.tmp" "$wasm"
  built=$((built + 1))
done < <(find "$SRC" -name '*.c' -print0 | sort -z)

(cd "$OUT" && find . -name '*.wasm' | sort | sed 's|^\./||' | xargs sha256sum >SHA256SUMS)

# -- pinned templates: module → the built file, sha256 → its digest -----------------------------
mkdir -p "$OUT/templates"
for tpl in "$SRC"/*.yaml; do
  [[ -e $tpl ]] || continue
  module="$(sed -n 's/^  module: *\([^ #]*\).*/\1/p' "$tpl" | head -n 1)"
  [[ -n $module && -f "$OUT/$module" ]] || die "$(basename "$tpl"): module '$module' was not built"
  digest="$(sha256sum "$OUT/$module" | cut -d' ' -f1)"
  sed -e '/^  sha256:/d' -e "s|^  module: *[^ #]*|  module: $OUT/$module\n  sha256: $digest|" \
    "$tpl" >"$OUT/templates/$(basename "$tpl")"
done
printf 'build_wasm: %d modules and their templates in %s (%s); serve them with NEIRA_WASM_PATH=%s\n' \
  "$built" "$OUT" "$("$CC" --version | head -n 1)" "$OUT" >&2
