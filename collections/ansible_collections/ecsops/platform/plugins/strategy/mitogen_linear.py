# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strategy plugin ecsops.platform.mitogen_linear: ansible-core's linear strategy run through mitogen.

Every task of this project is a boto3 module on a local connection. Plain ansible-core forks a worker
that writes the module's AnsiballZ zip and starts a fresh Python interpreter for each task; mitogen
(PyPI `mitogen`, pinned in requirements.txt) keeps one interpreter per host alive and runs each module
in it, which halves the time of a module task (docs/performance.md).

Why not mitogen's own `strategy_plugins` path: it needs a site-packages path in ansible.cfg (it differs
between a venv, AWX's execution environment and a user's install), and mitogen 0.3.54 lists every
collection on disk again, versions included (`ansible.collections.list.list_collection_dirs`), for each
module task that comes from a collection, which is every task here (about 4 s per converge). This plugin is
mitogen_linear with that walk done once, in the ansible-playbook process, before any worker forks.

Same behaviour as `linear` otherwise: same task order, same results. Where: the plays that run on the
account host (network, data, platform, edge, data_ready, teardown) name it as their `strategy:`; ansible.cfg
keeps `strategy = linear` for the rest, because the service plays have one host per service and mitogen's
interpreter per host makes their redeploys slower (docs/performance.md). ECSOPS_MITOGEN=0 turns it into plain
linear (no mitogen import at all); ANSIBLE_STRATEGY=ecsops.platform.mitogen_linear selects it for every play.
mitogen needs an explicit ansible_python_interpreter, which every inventory of this project sets.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_linear
short_description: ansible-core's linear strategy with mitogen's persistent interpreters
description:
  - Runs tasks as ansible.builtin.linear does, host by host and task by task, but runs modules in
    interpreters that mitogen keeps alive for each host instead of one new interpreter per task.
  - Lists the collection directories once per run instead of once per module task.
  - The account-host plays name it (C(strategy:)); ANSIBLE_STRATEGY=ecsops.platform.mitogen_linear selects it for
    every play; ECSOPS_MITOGEN=0 (or false, no, off) makes it plain linear without importing mitogen.
author: ecsops maintainers (@ecsops)
requirements:
  - mitogen == 0.3.54 (PyPI)
"""

import functools
import os

from ansible.plugins.strategy.linear import StrategyModule as Linear
from ansible.utils.collection_loader import AnsibleCollectionConfig

OFF = ("0", "false", "no", "off")


def mitogen_enabled(environ=None) -> bool:
    """ECSOPS_MITOGEN=0 (false, no, off) switches mitogen off; anything else, or unset, keeps it on."""
    environ = os.environ if environ is None else environ
    return environ.get("ECSOPS_MITOGEN", "1").strip().lower() not in OFF


@functools.cache
def _collection_dirs() -> tuple[str, ...]:
    """The directory of every installed collection, the first one found per name (ansible's precedence).

    The same set as ansible.collections.list.list_collection_dirs(), which mitogen calls, without the
    galaxy artifact manager that reads every collection's version (and warns about ansible-core's own
    internal collection, which has none).
    """
    found: dict[tuple[str, str], str] = {}
    for root in AnsibleCollectionConfig.collection_paths:
        top = os.path.join(root, "ansible_collections")
        if not os.path.isdir(top):
            continue
        for namespace in sorted(os.listdir(top)):
            ns_dir = os.path.join(top, namespace)
            if not os.path.isdir(ns_dir):
                continue
            for name in sorted(os.listdir(ns_dir)):
                path = os.path.join(ns_dir, name)
                if os.path.isdir(path):
                    found.setdefault((namespace, name), path)
    return tuple(found.values())


def boto_cache_enabled(environ=None) -> bool:
    """ECSOPS_BOTO_CACHE=0 (false, no, off) switches the shared botocore model cache off."""
    environ = os.environ if environ is None else environ
    return environ.get("ECSOPS_BOTO_CACHE", "1").strip().lower() not in OFF


# misc/pythonpath/sitecustomize.py of this collection: one botocore data loader per interpreter.
BOTO_CACHE_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "misc", "pythonpath"))


def use_boto_cache(environ=None) -> bool:
    """Put misc/pythonpath first on PYTHONPATH of the processes this run starts from now on (mitogen's
    interpreters, module processes), unless ECSOPS_BOTO_CACHE is off. True when it is on the path."""
    environ = os.environ if environ is None else environ
    if not boto_cache_enabled(environ):
        return False
    parts = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if BOTO_CACHE_DIR not in parts:
        environ["PYTHONPATH"] = os.pathsep.join([BOTO_CACHE_DIR, *parts])
    return True


def _load_collections(invocation) -> None:
    invocation._extra_sys_paths.update(_collection_dirs())


def has_work(blocks, gather_facts=False) -> bool:
    """True when the play's blocks (already filtered by --tags/--skip-tags) hold a task that may run a module:
    not a meta task, not argument-spec validation (an action of the controller), not fact gathering in a play
    with gather_facts off. A play that `--tags deploy` leaves empty runs as plain linear, without mitogen."""
    from ansible.constants import _ACTION_FACT_GATHERING, _ACTION_META
    from ansible.playbook.block import Block

    idle = set(_ACTION_META) | {"validate_argument_spec", "ansible.builtin.validate_argument_spec",
                                "ansible.legacy.validate_argument_spec"}
    if not gather_facts:
        idle |= set(_ACTION_FACT_GATHERING)

    def walk(items) -> bool:
        for item in items or []:
            if isinstance(item, Block):
                if walk(item.block) or walk(item.rescue) or walk(item.always):
                    return True
            elif item.action not in idle:
                return True
        return False

    return walk(blocks)


@functools.cache
def _mitogen_strategy():
    """linear + mitogen's StrategyMixin. Imported on first use only: once ansible_mitogen is imported, module
    tasks of plain linear plays in the same run are slower (a redeploy's ecs_deploy task by about a second),
    so a run whose mitogen plays have nothing to do (`--tags deploy`) never imports it."""
    try:
        import ansible_mitogen.loaders
        import ansible_mitogen.planner
        import ansible_mitogen.strategy
    except ImportError as exc:
        raise ImportError(
            "ecsops.platform.mitogen_linear needs the mitogen package (pip install -r requirements.txt); "
            "ECSOPS_MITOGEN=0 runs these plays with plain linear instead: %s" % exc
        ) from exc

    ansible_mitogen.planner._load_collections = _load_collections
    # No CPU pinning. mitogen's fixed placement reserves CPU 0 for its multiplexer and pins the ansible-playbook
    # process, its workers and the interpreters they start to the other CPUs: on 2 cores, all of them to CPU 1.
    # Every process forked later in the run inherits the mask, so the linear service plays after the first
    # mitogen play ran their module processes on one core (no-change deploy of 8 services 6.1 s, 2.9 s unpinned).
    # The base Policy class is mitogen's own do-nothing policy (the one it uses where sched_setaffinity is absent).
    import ansible_mitogen.affinity

    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()
    base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class MitogenLinear(ansible_mitogen.strategy.StrategyMixin, base):
        pass

    return MitogenLinear


def mitogen_started() -> bool:
    """True once a play of this ansible-playbook run has switched to mitogen (its interpreters are running and
    their boto3 is imported): what ecsops.platform.mitogen_warm waits for."""
    return _mitogen_strategy.cache_info().currsize > 0


class StrategyModule(Linear):
    """Plain linear until a play has a task to run and mitogen is enabled; then this instance becomes
    linear + mitogen (its class is swapped: StrategyMixin adds methods, no state of its own)."""

    def run(self, iterator, play_context):
        if not (mitogen_enabled() and has_work(iterator._blocks, bool(iterator._play.gather_facts))):
            return super().run(iterator, play_context)
        self.__class__ = _mitogen_strategy()
        use_boto_cache()  # before mitogen forks its processes, which start the interpreters
        _collection_dirs()  # once in this process; the forked workers inherit the result
        return self.run(iterator, play_context)
