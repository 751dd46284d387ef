# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Shared helpers for scripts/demo and scripts/test (sourced, not run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${PORT443_WORK:-$ROOT/.work}          # collection copies, reports, timings (git-ignored)
VENVS=${PORT443_VENVS:-$ROOT/.work}        # Python venvs (may be shared between several WORK dirs)
mkdir -p "$WORK" "$VENVS"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Stage timing: `stage NAME cmd…` runs a command and records its duration in $WORK/timings.txt.
STAGE_FILE="$WORK/timings.txt"
stage() {
  local name=$1; shift
  local t0 rc=0; t0=$(date +%s)
  say "stage: $name"
  "$@" || rc=$?
  local dt=$(( $(date +%s) - t0 ))
  printf '%-28s %5ss  %s\n' "$name" "$dt" "$([ $rc = 0 ] && echo ok || echo "FAILED rc=$rc")" | tee -a "$STAGE_FILE" >&2
  return $rc
}

# Pick the newest controller Python available: pyenv 3.13/3.12 (ansible-core 2.21), else 3.11 (2.19).
find_python() {
  local want cand root
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for want in 3.13 3.12 3.11; do
    for cand in "$root"/versions/"$want".*/bin/python"$want" /usr/bin/python"$want" /usr/local/bin/python"$want"; do
      [ -x "$cand" ] && { printf '%s\n' "$cand"; return 0; }
    done
  done
  return 1
}

# A real interpreter (not a pyenv shim) for python X.Y, or nothing.
real_python() {
  local v=$1 root cand
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for cand in "$root"/versions/"$v".*/bin/python"$v" /usr/bin/python"$v"; do
    [ -x "$cand" ] && { printf '%s\n' "$cand"; return 0; }
  done
  return 1
}

apt_need() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt install ${missing[*]}"
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# make_venv DIR PYTHON REQUIREMENTS… : create once, reinstall only when the requirement files change.
make_venv() {
  local dir=$1 py=$2; shift 2
  local stamp sum
  sum=$( (echo "$py"; cat "$@") | sha256sum | cut -c1-16)
  stamp="$dir/.port443-$sum"
  if [ -f "$stamp" ] && [ -x "$dir/bin/python" ]; then return 0; fi
  say "creating venv $dir with $py"
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --upgrade pip
  local r args=()
  for r in "$@"; do args+=(-r "$r"); done
  "$dir/bin/python" -m pip install -q "${args[@]}"
  touch "$stamp"
}

# The venv with the newest ansible-core this machine can run; exports VENV and puts it first on PATH.
use_main_venv() {
  local py
  py=$(find_python) || die "no Python 3.11+ found (pyenv versions or /usr/bin)"
  VENV="$VENVS/venv-$(basename "$py")"
  make_venv "$VENV" "$py" "$ROOT/test-requirements.txt"
  export PATH="$VENV/bin:$PATH"
  export VENV
  printf 'controller: %s, %s\n' "$("$VENV/bin/python" --version)" "$("$VENV/bin/ansible" --version | sed -n 1p)" >&2
}

# Copy the collection where ansible-test and Ansible look for it: …/ansible_collections/port443/https.
# Outside the git checkout on purpose: inside it, ansible-test asks git for the file list and sees nothing
# (the copy is git-ignored). One copy per WORK dir, so parallel runs do not share it.
COLL_PARENT="${PORT443_COLL_PARENT:-/tmp/port443-ac/$(printf '%s' "$WORK" | md5sum | cut -c1-10)}"
COLL_DIR="$COLL_PARENT/ansible_collections/port443/https"
sync_collection() {
  mkdir -p "$COLL_DIR"
  # A real copy (ansible-test refuses symlinks); rsync keeps re-runs quick.
  if command -v rsync >/dev/null; then
    rsync -a --delete --delete-excluded --exclude '/.work*' --exclude /.git --exclude /tests/output --exclude __pycache__ "$ROOT/" "$COLL_DIR/"
  else
    rm -rf "$COLL_DIR"; mkdir -p "$COLL_DIR"
    tar -C "$ROOT" --exclude './.work*' --exclude ./.git --exclude ./tests/output -c . | tar -C "$COLL_DIR" -x
  fi
}
