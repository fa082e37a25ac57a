#!/usr/bin/env bash
# Runs the test suite: ./scripts/test.sh [pytest args...]   (run ./scripts/setup.sh first)
# PostgreSQL: uses $NEIRA_TEST_POSTGRES_URL when set; otherwise starts a private,
# throwaway cluster (tests/pg.py) for this run and removes it afterwards.
# Paths in the arguments are relative to the repository root.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

PY=.venv/bin/python
[[ -x $PY ]] || { echo "test: no .venv; run ./scripts/setup.sh first" >&2; exit 1; }

out= pg_dir=
cleanup() {
  # $out too: a signal that lands while `pg.py start` runs is handled right after it returns
  pg_dir=${pg_dir:-$(sed -n 2p <<<"$out")}
  if [[ -n $pg_dir ]]; then "$PY" tests/pg.py stop "$pg_dir" || true; pg_dir= out=; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

if [[ -z ${NEIRA_TEST_POSTGRES_URL:-} ]]; then
  err=$(mktemp)
  out=$("$PY" tests/pg.py start 2>"$err") || {
    cat "$err" >&2; rm -f "$err"
    echo "test: cannot start a throwaway PostgreSQL; set NEIRA_TEST_POSTGRES_URL or run ./scripts/setup.sh" >&2
    exit 1
  }
  rm -f "$err"
  pg_dir=$(sed -n 2p <<<"$out")
  export NEIRA_TEST_POSTGRES_URL=$(sed -n 1p <<<"$out")
fi

args=(-q -ra)
if [[ -n ${CI:-} ]]; then
  mkdir -p test-artifacts
  args+=(--junitxml=test-artifacts/junit.xml)
fi

set +e
"$PY" -m pytest "${args[@]}" "$@"
rc=$?
set -e
exit "$rc"
