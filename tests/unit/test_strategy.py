"""ecsops.platform.mitogen_linear: the strategy ansible.cfg names loads, is linear + mitogen, and lists the
collections once, the same ones mitogen would have listed for every module task."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = r"""
import json, sys
from ansible import context
from ansible.plugins.loader import init_plugin_loader, strategy_loader
context.CLIARGS = context.CLIArgs({})
init_plugin_loader()
import ansible.collections.list
import ansible.plugins.strategy.linear as linear
cls = strategy_loader.get("ecsops.platform.mitogen_linear", class_only=True)
import ansible_mitogen.planner, ansible_mitogen.strategy
mod = sys.modules[cls.__module__]
class Invocation:
    def __init__(self):
        self._extra_sys_paths = set()
inv = Invocation()
ansible_mitogen.planner._load_collections(inv)
print(json.dumps({
    "linear": issubclass(cls, linear.StrategyModule),
    "mitogen": issubclass(cls, ansible_mitogen.strategy.StrategyMixin),
    "patched": ansible_mitogen.planner._load_collections is mod._load_collections,
    "ours": sorted(inv._extra_sys_paths),
    "ansible": sorted({p.decode() for p in ansible.collections.list.list_collection_dirs()}),
}))
"""


def test_ansible_cfg_keeps_linear_and_documents_the_opt_in() -> None:
    # mitogen is opt-in: it slows the redeploy of many services (docs/performance.md, 6 December).
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    assert cfg["defaults"]["strategy"] == "linear"
    assert "ANSIBLE_STRATEGY=ecsops.platform.mitogen_linear" in (ROOT / "ansible.cfg").read_text()
    assert "ANSIBLE_STRATEGY=ecsops.platform.mitogen_linear" in (ROOT / "README.md").read_text()


def test_strategy_is_linear_with_mitogen_and_lists_collections_once() -> None:
    import json

    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["linear"] and got["mitogen"] and got["patched"]
    assert any(p.endswith("ansible_collections/amazon/aws") for p in got["ours"])
    assert any(p.endswith("ansible_collections/ecsops/platform") for p in got["ours"])
    assert got["ours"] == got["ansible"]
