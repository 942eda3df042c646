# Sourced by scripts/test.sh: which Debian packages the tests need are missing (tests/unit/project/test_scripts.py).

# cjk_font_present: succeed when fontconfig knows a Noto Sans CJK font. grep counts (-c) instead of
# stopping at the first match (-q): with -q, grep exits early, fc-list dies of SIGPIPE while still
# writing, and under `set -o pipefail` the pipeline then fails although the font is there (about
# half the time, which reran apt-get on every other run).
cjk_font_present() {
  local found
  if command -v fc-list >/dev/null 2>&1; then
    found=$(fc-list : family 2>/dev/null | grep -ci 'Noto Sans CJK' || true)
    [ "${found:-0}" -gt 0 ]
  else
    [ "$(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null || true)" = "install ok installed" ]
  fi
}

# missing_debian_packages: print, one a line, the Debian packages the browser tests need and lack:
# Chromium (Debian's, at /usr/bin/chromium) and Noto CJK so their screenshots show Chinese.
missing_debian_packages() {
  [ -x /usr/bin/chromium ] || echo chromium
  cjk_font_present || echo fonts-noto-cjk
}
