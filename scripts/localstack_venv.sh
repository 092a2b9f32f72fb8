#!/usr/bin/env bash
# Build .venv-localstack: LocalStack's open core (host mode) from the frozen requirements-localstack.txt,
# in its own virtualenv so that its pins never meet .venv's. Idempotent: a no-op when the venv matches
# the requirements (stamp). Needs Python 3.12 or newer (localstack-core 4.9.2; PEP 695 syntax elsewhere).
#   scripts/localstack_venv.sh            build (or reuse) .venv-localstack
#   LOCALSTACK_VENV=/path scripts/localstack_venv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LOCALSTACK_VENV:-.venv-localstack}
stamp=$venv/.requirements.sha
want=$(sha256sum requirements-localstack.txt | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

find_python() {
  local candidates=()
  [[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
  # The project's own interpreter first (.venv is Python 3.12), then pyenv's, then PATH.
  [[ -x .venv/bin/python ]] && candidates+=("$(.venv/bin/python -c 'import sys; print(sys._base_executable)')")
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12' | sort -rV); do
      candidates+=("$(pyenv root)/versions/$v/bin/python")
    done
  fi
  candidates+=(python3.12 python3.13 python3)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

if ! py=$(find_python); then
  echo "ERROR: LocalStack's host mode needs Python >= 3.12 and none was found (set PYTHON=...)." >&2
  exit 1
fi
echo "Building $venv with $py ($("$py" -V 2>&1))"
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-compile --no-deps -r requirements-localstack.txt
"$venv/bin/python" -c 'import localstack.runtime.main, moto.ec2'
echo "$want" > "$stamp"
echo "LocalStack virtualenv ready: $venv (localstack-core $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("localstack-core"))'))"
