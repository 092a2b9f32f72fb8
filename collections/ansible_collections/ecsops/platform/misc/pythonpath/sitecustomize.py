# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One botocore data loader per interpreter, shared by every boto3 session (the botocore model cache).

Why: every amazon.aws module builds a new boto3 session for each client, and a new session parses the
service's JSON model again (ec2's alone about 100 ms, endpoints and partitions each time too). Under the
mitogen strategy one interpreter runs many module tasks, so the same models are parsed over and over; with
one loader per interpreter a client after the first of its service costs about 10 ms instead of 50-120 ms.
botocore and boto3 have no switch for this (boto3's advice is to reuse one session, which amazon.aws
does not), so this file adds the cache: `botocore.session.create_loader` is memoised per data path, the way
all clients of one session already share one loader.

How it gets loaded: ecsops.platform.mitogen_linear puts this directory first on PYTHONPATH of the processes
the run starts (mitogen's interpreters and the module processes), so Python imports this file at startup as
`sitecustomize`. It imports nothing heavy: it waits for `botocore.session` to be imported and patches it
then. Another sitecustomize further down sys.path (a distribution's) still runs, after this one.
ECSOPS_BOTO_CACHE=0 (false, no, off) switches it off.
"""

import functools
import importlib.machinery
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_OFF = ("0", "false", "no", "off")


class _SearchPaths(list):
    """The shared loader's search path: boto3 appends its data directory once per session; keep one."""

    def append(self, path):
        if path not in self:
            super().append(path)


def patch(session_module) -> None:
    """Memoise session_module.create_loader (botocore.session's) per data path; idempotent."""
    original = getattr(session_module, "create_loader", None)
    if original is None or getattr(original, "_ecsops_shared", False):
        return

    @functools.lru_cache(maxsize=None)
    def create_loader(search_path_string=None):
        loader = original(search_path_string)
        if isinstance(getattr(loader, "_search_paths", None), list):
            loader._search_paths = _SearchPaths(loader._search_paths)
        return loader

    create_loader._ecsops_shared = True
    session_module.create_loader = create_loader


class _PatchOnImport:
    """A meta path finder that only waits for botocore.session, lets the normal import find and run it,
    then patches it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "botocore.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


def install() -> None:
    if os.environ.get("ECSOPS_BOTO_CACHE", "1").strip().lower() in _OFF:
        return
    if "botocore.session" in sys.modules:
        patch(sys.modules["botocore.session"])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _chain() -> None:
    """Run the next sitecustomize on sys.path, the one this file shadows, if there is one."""
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None or os.path.dirname(os.path.abspath(spec.origin or "")) == _HERE:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


install()
_chain()
