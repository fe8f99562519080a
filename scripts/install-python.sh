#!/usr/bin/env bash
# A CPython that Cloudflare's Python templates accept (3.12 or 3.13) beside the machine's own,
# with edgekv's runtime dependencies in a virtual environment, in a cache folder, once.
# Prints that environment's python. tests/templates runs `edgekv dev` on it (with the
# checkout's src/ on PYTHONPATH, so worktrees sharing the cache never see each other's code).
#
# Where the interpreter comes from, first that works:
#   1. python3.13 or python3.12 on PATH (a Debian 13 machine has one);
#   2. Debian 13 (trixie)'s python3.13 packages, fetched by apt-get into a private apt state and
#      unpacked into the cache folder with the libc and libraries they were built against; the
#      interpreter is pointed at that loader and those libraries with patchelf (from Debian),
#      so the system's own packages and libc are never touched.
# Idempotent: a second run only checks that the interpreter starts and that the environment
# holds the dependencies pyproject.toml asks for now. Needs root and apt-get the first time.
# Usage: scripts/install-python.sh [CACHE_DIR]   (default: $EDGEKV_PYTHON_HOME or ~/.cache/edgekv-python)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
home="${1:-${EDGEKV_PYTHON_HOME:-$HOME/.cache/edgekv-python}}"
suite="${PYTHON_DEBIAN_SUITE:-trixie}"
prefix="$home/cpython-3.13"
venv="$home/venv"
# What the templates' pyproject.toml files ask for beyond edgekv (its dependency resolution
# would otherwise pip-install them into each test's state folder), and the test extras that
# tests/kv and tests/runtime need (tests/templates runs them on this Python too).
extra=(django fastapi flask packaging)
smoke_tests="pytest pytest-asyncio hypothesis requests starlette asyncpg"
mkdir -p "$home"
exec 9>"$home/.lock"
flock -w 600 9 || { echo "another install-python.sh holds $home/.lock" >&2; exit 1; }

accepted() {  # $1 runs, is CPython 3.12 or 3.13, and has the modules edgekv needs
  "$1" -c 'import sys, ssl, sqlite3, ctypes, lzma, bz2, zlib, venv
sys.exit(sys.implementation.name != "cpython" or sys.version_info[:2] not in ((3, 12), (3, 13)))' \
    >/dev/null 2>&1
}

python=""
for candidate in python3.13 python3.12; do
  if command -v "$candidate" >/dev/null && accepted "$(command -v "$candidate")"; then
    python="$(command -v "$candidate")"
    break
  fi
done

if [ -z "$python" ] && ! accepted "$prefix/usr/bin/python3.13"; then
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
    || { echo "apt-get and dpkg-deb are needed to fetch Debian's python3.13" >&2; exit 1; }
  if ! command -v patchelf >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "patchelf is needed (apt-get install patchelf, as root)" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq patchelf >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq patchelf >/dev/null; }
  fi
  # A private apt state: the system's sources, preferences and package database stay as they
  # are; the system's apt.conf.d still applies (network settings).
  state="$home/apt"
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/sources.list.d" \
    "$state/preferences.d"
  : > "$state/status"
  # The Debian archive this machine's apt already uses (the entry for its own release),
  # asked for another release.
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  archive="${EDGEKV_DEBIAN_ARCHIVE:-$(apt-get indextargets --no-release-info \
    --format '$(RELEASE) $(IDENTIFIER) $(REPO_URI)' \
    | awk -v c="$codename" '$1 == c && $2 == "Packages" { print $3; exit }')}"
  [ -n "$archive" ] || { echo "apt has no Debian archive for $codename configured" >&2; exit 1; }
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $archive $suite main" \
    > "$state/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/sources.list.d"
    -o "Dir::Etc::Preferences=$state/preferences" -o "Dir::Etc::PreferencesParts=$state/preferences.d"
    -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
    -o "Dir::Cache::Archives=$state/archives" -o "Debug::NoLocking=1"
    -o "APT::Architecture=amd64" -o "APT::Architectures=amd64")
  [ "$(dpkg --print-architecture)" = amd64 ] \
    || { echo "only amd64 is handled (this is $(dpkg --print-architecture))" >&2; exit 1; }
  apt-get "${apt_opts[@]}" -qq update >&2
  rm -f "$state/archives/"*.deb
  apt-get "${apt_opts[@]}" -qq install --download-only -y --no-install-recommends \
    python3.13 python3.13-venv >&2
  rm -rf "$prefix.tmp"
  mkdir -p "$prefix.tmp"
  for deb in "$state/archives/"*.deb; do dpkg-deb -x "$deb" "$prefix.tmp"; done
  rm -rf "$state/archives/"*.deb "$state/lists"
  lib="$prefix/usr/lib/x86_64-linux-gnu"
  # DT_RPATH (not RUNPATH) so that extension modules' libraries come from the same folder.
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" \
    "$prefix.tmp/usr/bin/python3.13"
  rm -rf "$prefix"
  mv "$prefix.tmp" "$prefix"
  accepted "$prefix/usr/bin/python3.13" \
    || { echo "Debian's python3.13 does not run here" >&2; "$prefix/usr/bin/python3.13" -V >&2; exit 1; }
fi
[ -n "$python" ] || python="$prefix/usr/bin/python3.13"

# The environment: made once per interpreter; its packages re-checked when pyproject.toml's
# dependencies change.
if ! accepted "$venv/bin/python" || [ "$(cat "$venv/.interpreter" 2>/dev/null)" != "$python" ]; then
  rm -rf "$venv"
  "$python" -m venv --without-pip "$venv"
  # Debian's ensurepip looks for the system's wheels; bootstrap pip from the one Debian ships
  # beside the interpreter, else from PyPI through the machine's own pip.
  wheel="$(ls "$prefix"/usr/share/python-wheels/pip-*.whl 2>/dev/null | head -1 || true)"
  if [ -n "$wheel" ]; then
    "$venv/bin/python" "$wheel/pip" install -q --no-index "$wheel" >&2
  else
    "$venv/bin/python" -m ensurepip -q >&2
  fi
  echo "$python" > "$venv/.interpreter"
fi
wanted="$("$venv/bin/python" -c '
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
names = sys.argv[2].split()
tests = [r for r in project["optional-dependencies"]["test"]
         if re.match(r"[A-Za-z0-9._-]+", r).group(0).lower() in names]
print("\n".join(project["dependencies"] + tests + sys.argv[3:]))' \
  "$root/pyproject.toml" "$smoke_tests" "${extra[@]}")"
if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$wanted" ]; then
  printf '%s\n' "$wanted" > "$venv/requirements.txt"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$venv/requirements.txt" >&2
  printf '%s\n' "$wanted" > "$venv/.requirements"
fi
echo "$venv/bin/python"
