#!/usr/bin/env bash
# `ansible-test sanity` for the ecsops.platform collection (part of `make lint`).
#
# ansible-test needs the collection's dependencies (amazon.aws, community.aws) in the same collection root, and
# bootstraps pip in each sanity-test virtualenv from ci-files.testing.ansible.com. So this runs it on a copy of the
# collection under a temporary ansible_collections root that links the dependencies from the project's .venv, and,
# when that host is unreachable, gives ansible-test scripts/get_pip_shim.py (ensurepip, then pip from PyPI).
# The sanity virtualenvs are cached under ~/.ansible/test (about 2 minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV_BIN=$ROOT/.venv/bin
site=$("$VENV_BIN/python" -c 'import ansible, os; print(os.path.dirname(os.path.dirname(ansible.__file__)))')  # site-packages

# The pip version ansible-test bootstraps (its infrastructure packages, in python_requirements.py).
pip_version=$("$VENV_BIN/python" - <<'PY'
import pathlib, re, ansible_test
text = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", text).group(1))
PY
)
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -f $cache ]] && ! curl -fsS -m 10 -o /dev/null "https://ci-files.testing.ansible.com/ansible-test/get-pip-$pip_version.py" 2>/dev/null; then
  mkdir -p "$(dirname "$cache")"
  cp scripts/get_pip_shim.py "$cache"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/ecsops" "$work/ansible_collections/amazon" "$work/ansible_collections/community"
cp -r collections/ansible_collections/ecsops/platform "$work/ansible_collections/ecsops/platform"
ln -s "$site/ansible_collections/amazon/aws" "$work/ansible_collections/amazon/aws"
ln -s "$site/ansible_collections/community/aws" "$work/ansible_collections/community/aws"
cd "$work/ansible_collections/ecsops/platform"
# pslint and shellcheck need PowerShell / shellcheck (not used by this collection); changelog needs antsibull-changelog
# fragments, which the collection does not keep (CHANGELOG.md is written by hand).
"$VENV_BIN/ansible-test" sanity --python 3.12 --skip-test pslint --skip-test shellcheck --skip-test changelog "$@"
