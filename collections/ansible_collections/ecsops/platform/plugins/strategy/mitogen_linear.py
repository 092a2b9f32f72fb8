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

Same behaviour as `linear` otherwise: same task order, same results. Opt-in: the project's ansible.cfg
keeps `strategy = linear`, because with many service hosts mitogen's interpreter per host makes redeploys
slower (docs/performance.md); select it with ANSIBLE_STRATEGY=ecsops.platform.mitogen_linear. mitogen
needs an explicit ansible_python_interpreter, which every inventory of this project sets.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_linear
short_description: ansible-core's linear strategy with mitogen's persistent interpreters
description:
  - Runs tasks as ansible.builtin.linear does, host by host and task by task, but runs modules in
    interpreters that mitogen keeps alive for each host instead of one new interpreter per task.
  - Lists the collection directories once per run instead of once per module task.
  - Select it with ANSIBLE_STRATEGY=ecsops.platform.mitogen_linear (the project's ansible.cfg keeps linear).
author: ecsops
requirements:
  - mitogen == 0.3.54 (PyPI)
"""

import functools
import os

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.planner
    import ansible_mitogen.strategy
except ImportError as exc:  # pragma: no cover - reported by ansible-playbook when the plugin loads
    raise ImportError(
        "ecsops.platform.mitogen_linear needs the mitogen package (pip install -r requirements.txt), "
        "or run with the linear strategy: %s" % exc
    ) from exc

from ansible.utils.collection_loader import AnsibleCollectionConfig


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


def _load_collections(invocation) -> None:
    invocation._extra_sys_paths.update(_collection_dirs())


ansible_mitogen.planner._load_collections = _load_collections

Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Base):
    def run(self, iterator, play_context):
        _collection_dirs()  # once in this process; the forked workers inherit the result
        return super().run(iterator, play_context)
