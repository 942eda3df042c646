#!/usr/bin/env bash
# Install what the tests need (venv, Python packages, Debian's Chromium and CJK fonts), check lint
# (ruff) and types (mypy), then run the whole suite: on SQLite always; on PostgreSQL too when
# LIANG_TEST_DATABASE_URL is set (CI sets it). The two passes run at the same time, each with
# its own log (test-artifacts/pytest-<pass>.log, printed when both are done); the PostgreSQL
# pass runs only the tests that reach the database (the others are marked no_database by
# tests/conftest.py and would run exactly as on SQLite). The run fails if a gate or either
# pass fails, and a pass that runs no test (pytest exit 5) is a failure too.
# Each log ends with the 30 slowest steps (--durations=30). Extra arguments go to both pytest
# runs; LIANG_TEST_WORKERS sets each pass's xdist workers (2).
#
# scripts/test.sh --quick: the newcomer's run, a few minutes: ruff, mypy, then the unit,
# functional and property tests (tests/unit, tests/functional, tests/property) on SQLite only;
# no end-to-end servers, browsers, Debian or npm packages, and the venv is installed only when
# missing or older than pyproject.toml. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
if [ "${1:-}" = --quick ]; then
  quick=true
  shift
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
if [ "$quick" = true ]; then
  if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/python -m pip install --quiet -e '.[test]' && touch .venv/.installed
  fi
  echo "== ruff check . =="
  .venv/bin/ruff check .
  echo "== mypy (signer, verifier, widget) =="
  .venv/bin/mypy
  echo "== quick run: unit, functional and property tests on SQLite (${LIANG_TEST_WORKERS:-2} workers) =="
  start=$(date +%s)
  rc=0
  LIANG_TEST_DATABASE_URL='' .venv/bin/python -m pytest -n "${LIANG_TEST_WORKERS:-2}" --dist worksteal \
    -p no:cacheprovider tests/unit tests/functional tests/property "$@" || rc=$?
  echo "== quick run: $([ "$rc" = 0 ] && echo passed || echo "FAILED (pytest exit $rc)") in $(( $(date +%s) - start )) s =="
  exit "$rc"
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]' && touch .venv/.installed

# Debian packages: Chromium for the browser tests, Noto CJK so their screenshots show Chinese
# (decided once in scripts/debian.sh, so apt-get runs only when something is really missing),
# and what the WordPress plugin's tests need (below).
. scripts/debian.sh
mapfile -t missing < <(missing_debian_packages)
# The WordPress plugin's tests (tests/wordpress/): PHP and PHPUnit, and a real WordPress (Debian's 6.1)
# on MariaDB. The server is on the machine already (it starts before the session); installed here if not.
for pkg in wordpress php-mysql php-cli php-curl php-gd php-xml php-mbstring phpunit mariadb-client; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$pkg")
done
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian ${missing[*]} for the browser and WordPress tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: Debian ${missing[*]} missing and not root: browser and WordPress tests skip or show no Chinese" >&2
  fi
fi

# MariaDB for the real-WordPress test: started here when it is installed but not answering.
if [ -x /usr/sbin/mariadbd ] && ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "starting MariaDB for the WordPress test"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && break; sleep 1; done
  fi
fi

# axe-core for the accessibility checks in the browser tests (tests/e2e/js), from its lock file.
JS=tests/e2e/js
if command -v npm >/dev/null 2>&1; then
  if [ ! -f "$JS/node_modules/axe-core/axe.min.js" ] || [ "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]; then
    (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error)
  fi
else
  echo "warning: npm missing: the accessibility checks will be skipped" >&2
fi

# Independent verifiers in JavaScript (tests/e2e/test_interop.py): installed exactly as the committed
# lockfile says; `npm ci` is skipped when node_modules already matches it. Without node those tests skip.
if command -v node >/dev/null && command -v npm >/dev/null; then
  js=tests/interop/js
  stamp="$js/node_modules/.installed-from-lock.sha256"
  want=$(sha256sum "$js/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
else
  echo "warning: node/npm missing: the JavaScript interoperability tests will be skipped" >&2
fi

echo "== ruff check . =="
.venv/bin/ruff check .
echo "== mypy (signer, verifier, widget) =="
.venv/bin/mypy

mkdir -p test-artifacts
workers=${LIANG_TEST_WORKERS:-2}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' INT TERM

# run_pass NAME [env assignments and pytest arguments...]: start one pass in the background.
run_pass() {
  local name=$1
  shift
  local log=test-artifacts/pytest-$name.log
  (
    start=$(date +%s)
    rc=0
    env "$@" >"$log" 2>&1 || rc=$?
    echo "$rc $(( $(date +%s) - start ))" >"$log.status"
    exit "$rc"
  ) &
  pids+=($!)
}

passes=(sqlite)
rm -f test-artifacts/pytest-*.log.status
run_pass sqlite LIANG_TEST_DATABASE_URL= \
  .venv/bin/python -m pytest -n "$workers" --dist worksteal --durations=30 -p no:cacheprovider "$@"
if [ -n "${LIANG_TEST_DATABASE_URL:-}" ]; then
  passes+=(postgresql)
  run_pass postgresql \
    .venv/bin/python -m pytest -n "$workers" --dist worksteal --durations=30 -p no:cacheprovider -m "not no_database" "$@"
fi
echo "== suite: ${passes[*]} at the same time (${workers} workers each) =="
for p in "${pids[@]}"; do wait "$p" || true; done
trap - INT TERM

status=0
for name in "${passes[@]}"; do
  log=test-artifacts/pytest-$name.log
  read -r rc secs <"$log.status" || { rc=1; secs='?'; }
  if [ "$name" = postgresql ]; then
    echo "== suite on PostgreSQL (${LIANG_TEST_DATABASE_URL%%\?*}), database tests only =="
  else
    echo "== suite on SQLite =="
  fi
  cat "$log"
  case "$rc" in
    0) echo "== $name pass: passed in ${secs} s ==" ;;
    5) echo "== $name pass: FAILED: no tests ran (pytest exit 5) in ${secs} s =="; status=1 ;;
    *) echo "== $name pass: FAILED (pytest exit $rc) in ${secs} s =="; status=1 ;;
  esac
done
exit $status
