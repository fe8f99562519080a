#!/usr/bin/env bash
# Run the whole test suite on every CPython edgekv supports (pyproject.toml's classifiers:
# 3.11, 3.12, 3.13) that is found here.
# Extra arguments go to pytest (e.g. `-x`, `tests/kv`). Not part of CI (its time budget): run
# it by hand after a change that may behave differently across versions (asyncio, ast, sqlite3,
# datetime, typing). README.md, "Other Python versions", says what passed.
#
# An interpreter is `python3.X` on PATH when it runs (pyenv's shims are on PATH for every
# version but fail for one that is not selected), else the newest `3.X.N` pyenv has installed
# (`$(pyenv root)/versions`, default ~/.pyenv). PYTHONS="3.12 3.13" narrows the list.
# Each gets its own virtual environment, `.venv-3.X`, with edgekv editable and its test extras,
# made once and installed again only when pyproject.toml or the interpreter changes. The suite
# runs through scripts/test.sh (the Miniflare peer, templates and wrangler as there), one
# version after the other; the exit status is non-zero when any version failed.
# Chromium (tests/explorer) and PostgreSQL come from scripts/setup.sh and
# scripts/install-postgres.sh, as for .venv.
set -uo pipefail
cd "$(dirname "$0")/.."

pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null; then
  pyenv_root="$(pyenv root 2>/dev/null || echo "$pyenv_root")"
fi

find_python() {  # $1 = 3.X; prints a python that runs and is that version
  local version="$1" candidate
  {
    command -v "python$version" || true
    # Plain releases only (not 3.13.0t, the free-threaded build, nor 3.13-dev), newest first.
    ls -d "$pyenv_root"/versions/"$version".*/bin/"python$version" 2>/dev/null \
      | grep -E "/versions/$version\.[0-9]+/bin/" | sort -V -r
  } | while read -r candidate; do
    if [ -n "$candidate" ] && "$candidate" -c "import sys
sys.exit(sys.implementation.name != 'cpython' or '%d.%d' % sys.version_info[:2] != '$version')" \
        >/dev/null 2>&1; then
      echo "$candidate"
      break
    fi
  done
}

ensure_venv() {  # $1 = python, $2 = venv folder; builds or refreshes it; quiet unless it fails
  local python="$1" venv="$2" stamp
  stamp="$("$python" -c 'import sys; print(sys.version)' | head -1) $(sha256sum pyproject.toml | cut -c1-16)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.edgekv-stamp" 2>/dev/null)" = "$stamp" ] \
      && "$venv/bin/python" -c 'import edgekv, pytest' >/dev/null 2>&1; then
    return 0
  fi
  echo "== building $venv with $python" >&2
  if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 \
      || [ "$("$venv/bin/python" -c 'import sys; print(sys.version)' | head -1)" \
           != "$("$python" -c 'import sys; print(sys.version)' | head -1)" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv" || return 1
  fi
  "$venv/bin/python" -m pip install --quiet --upgrade pip || return 1
  "$venv/bin/python" -m pip install --quiet -e '.[test]' || return 1
  echo "$stamp" > "$venv/.edgekv-stamp"
}

# The versions pyproject.toml claims, so a classifier added there is tested here too.
versions="${PYTHONS:-$(grep -oE '"Programming Language :: Python :: 3\.[0-9]+"' pyproject.toml \
  | grep -oE '3\.[0-9]+' | tr '\n' ' ')}"
[ -n "$versions" ] || { echo "no Python version classifier in pyproject.toml" >&2; exit 2; }
summary=()
status=0
for version in $versions; do
  python="$(find_python "$version")"
  if [ -z "$python" ]; then
    summary+=("$version: no interpreter found (python$version on PATH or pyenv)")
    continue
  fi
  venv=".venv-$version"
  if ! ensure_venv "$python" "$venv"; then
    summary+=("$version: installing edgekv[test] into $venv failed")
    status=1
    continue
  fi
  echo "== CPython $version ($python) in $venv" >&2
  started=$SECONDS
  if EDGEKV_VENV="$venv" bash scripts/test.sh "$@"; then
    summary+=("$version: passed ($((SECONDS - started)) s)")
  else
    summary+=("$version: FAILED ($((SECONDS - started)) s)")
    status=1
  fi
done
echo "== summary" >&2
printf '%s\n' "${summary[@]}" >&2
exit "$status"
