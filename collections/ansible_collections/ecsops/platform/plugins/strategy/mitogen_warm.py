# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strategy plugin ecsops.platform.mitogen_warm: ecsops.platform.mitogen_linear for a play that comes after a
mitogen play of the same run, plain linear otherwise.

The service plays (deploy, scaling) have one host per service. On a full converge, the account plays before them
have started mitogen's interpreters and imported boto3 there; a module task of a plain linear play after that pays
a new interpreter (and, with ansible_mitogen imported in the controller, about 0.7 s more: the deploy's ecs_deploy
call took 1.15 s, under mitogen 0.43 s). On a `--tags deploy` run no mitogen play has run, and starting mitogen for
one module task costs more than the plain process it replaces, so the play stays plain linear and mitogen is never
imported. ECSOPS_MITOGEN=0 makes it plain linear too.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_warm
short_description: ecsops.platform.mitogen_linear once mitogen runs in this ansible-playbook run, linear before
description:
  - Runs a play as ecsops.platform.mitogen_linear does when an earlier play of the same run started mitogen
    (its interpreters are then running, with boto3 imported), and as ansible.builtin.linear otherwise.
  - The service plays (deploy, scaling) name it. A full converge runs them in the interpreters the account plays
    started; a C(--tags deploy) run, where no account play runs, runs them plain linear without importing mitogen.
  - ECSOPS_MITOGEN=0 (or false, no, off) makes it plain linear.
author: ecsops maintainers (@ecsops)
requirements:
  - mitogen == 0.3.54 (PyPI)
"""

from ansible.plugins.strategy.linear import StrategyModule as Linear

from ansible_collections.ecsops.platform.plugins.strategy.mitogen_linear import StrategyModule as MitogenLinear
from ansible_collections.ecsops.platform.plugins.strategy.mitogen_linear import mitogen_started


class StrategyModule(MitogenLinear):
    """mitogen_linear's switch, taken only when mitogen already runs in this process."""

    def run(self, iterator, play_context):
        if not mitogen_started():
            return Linear.run(self, iterator, play_context)
        return super().run(iterator, play_context)
