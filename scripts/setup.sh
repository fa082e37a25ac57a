#!/usr/bin/env bash
# Installs everything neira-factory needs to run and to be tested:
# Debian packages (only when some are missing) and the project's .venv
# (only when pyproject.toml changed since the last install).
# Idempotent; a second run takes well under a second.
# Usage: ./scripts/setup.sh            (from anywhere)
# Env:   NEIRA_SKIP_APT=1  skip the Debian packages step
#        PYTHON=python3.12 interpreter used to create .venv (default: python3)
set -euo pipefail

# Debian (bookworm) packages the project needs. Extend this list, one place.
APT_PACKAGES=(
  postgresql postgresql-client                          # store: PostgreSQL backend + tests
  espeak-ng                                             # library: voice (text_to_phonemes)
  graphviz                                              # organ graph rendering
  fonts-dejavu-core                                     # a Cyrillic font: OCR tests draw text
  tesseract-ocr tesseract-ocr-rus tesseract-ocr-eng     # library: vision (OCR)
  clang lld wasi-libc libclang-rt-dev-wasm32            # building WASI test modules
  chromium                                              # browser tests
  prometheus                                            # promtool: checks examples/prometheus and the dashboard
  nodejs                                                # Node >= 18 (fetch): tests run Neira's factory CLI protocol
)

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
log() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages ---------------------------------------------------------
missing_packages() {
  local p
  for p in "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
      printf '%s\n' "$p"
    fi
  done
}

if [[ "${NEIRA_SKIP_APT:-0}" != 1 ]] && command -v dpkg-query >/dev/null; then
  pkgs=("${APT_PACKAGES[@]}")
  # Debian's own python3 needs python3-venv to create a venv (pyenv/python.org builds don't).
  if ! "${PYTHON:-python3}" -c 'import ensurepip' >/dev/null 2>&1; then pkgs+=(python3-venv); fi
  mapfile -t missing < <(missing_packages "${pkgs[@]}")
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    SUDO=()
    if [[ $EUID -ne 0 ]]; then
      command -v sudo >/dev/null || { log "not root and no sudo: install these yourself: ${missing[*]}"; exit 1; }
      SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq </dev/null
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
    still=$(missing_packages "${missing[@]}")
    [[ -z "$still" ]] || { log "still missing after apt-get install: $still"; exit 1; }
  fi
fi

# --- Python virtual environment ----------------------------------------------
if [[ -d .venv ]] && ! .venv/bin/python -c '' >/dev/null 2>&1; then
  log ".venv is broken (its python does not run); recreating it"
  rm -rf .venv
fi
if [[ ! -d .venv ]]; then
  PY="${PYTHON:-python3}"
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { log "$PY is older than 3.11; set PYTHON=/path/to/python3.11+"; exit 1; }
  log "creating .venv with $("$PY" -V 2>&1)"
  "$PY" -m venv .venv
fi

stamp=.venv/.neira-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])')"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" || ! -x .venv/bin/neira-factory ]]; then
  log "installing the project into .venv (pip install -e '.[dev]')"
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install -q -e '.[dev]' </dev/null
  printf '%s\n' "$want" >"$stamp"
fi
log "ready"
