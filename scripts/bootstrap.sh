#!/usr/bin/env bash
# Create the project-local virtualenv (.venv) from the project's own files.
# ansible 14 (ansible-core 2.21) needs Python >= 3.12: find one, or say so clearly.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  [[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    # .python-version says 3.12; pyenv resolves it to an installed 3.12.x
    local p; p=$(pyenv which python 2>/dev/null || true); [[ -n "$p" ]] && candidates+=("$p")
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
      candidates+=("$(pyenv root)/versions/$v/bin/python")
    done
  fi
  candidates+=(python3.14 python3.13 python3.12 python3)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

stamp=.venv/.requirements.sha
want=$(cat requirements.txt app/requirements.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
if [[ -x .venv/bin/python && -f $stamp && "$(cat $stamp)" == "$want" ]]; then
  exit 0
fi

if ! py=$(find_python); then
  echo "ERROR: ansible 14.5.0 needs Python >= 3.12 and none was found." >&2
  echo "       Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
  exit 1
fi
echo "Using $py ($("$py" -V 2>&1))"
[[ -x .venv/bin/python ]] || "$py" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
echo "$want" > "$stamp"
echo "Virtualenv ready: .venv ($(.venv/bin/ansible --version | head -1))"
