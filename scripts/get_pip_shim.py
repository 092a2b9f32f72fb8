"""Stand-in for the get-pip bootstrap script that ansible-test downloads from ci-files.testing.ansible.com.

ansible-test bootstraps pip into each sanity-test virtualenv by running that script with pip's install
arguments. Where that host cannot be reached (these machines reach PyPI only), scripts/sanity.sh copies this
file to ansible-test's cache path: it installs the interpreter's bundled pip (ensurepip), then runs
`pip install` with the same arguments, so the pinned pip comes from PyPI.
"""

import ensurepip
import os
import subprocess
import sys

# get-pip's own options, which `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

env = dict(os.environ)  # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process; pip's own config must apply
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args], env=env))
