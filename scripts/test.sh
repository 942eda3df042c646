#!/usr/bin/env bash
# Install what the tests need (venv, Python packages, Debian's Chromium) and run the whole suite.
# On SQLite always; on PostgreSQL too when LIANG_TEST_DATABASE_URL is set (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
  fi
fi

# A CJK font, so that browser screenshots of the Chinese pages are readable.
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian fonts-noto-cjk for the browser screenshots"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "warning: fonts-noto-cjk missing and not root: screenshots will show boxes for Chinese" >&2
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

mkdir -p test-artifacts
status=0
echo "== suite on SQLite =="
LIANG_TEST_DATABASE_URL= .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@" || status=$?
if [ -n "${LIANG_TEST_DATABASE_URL:-}" ]; then
  echo "== suite on PostgreSQL (${LIANG_TEST_DATABASE_URL%%\?*}) =="
  .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@" || status=$?
fi
exit $status
