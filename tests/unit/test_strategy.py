"""ecsops.platform.mitogen_linear: plain linear until a play has module work and mitogen is enabled, then linear +
mitogen listing the collections once (the same ones mitogen would have listed for every module task). The
account-host plays name it, and the account check's play of preflight.yml. ecsops.platform.mitogen_warm is the same
once a mitogen play of the run has started mitogen, plain linear before: the deploy and scaling plays name it."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STRATEGY = "ecsops.platform.mitogen_linear"
ACCOUNT_PLAYS = ["network.yml", "data.yml", "platform.yml", "edge.yml", "data_ready.yml"]
WARM = "ecsops.platform.mitogen_warm"
WARM_PLAYS = ["deploy.yml", "scaling.yml"]
SERVICE_PLAYS = ["rollback.yml", "unlock.yml"]
PROBE = r"""
import json, sys
from ansible import context
from ansible.plugins.loader import init_plugin_loader, strategy_loader
context.CLIARGS = context.CLIArgs({})
init_plugin_loader()
import ansible.collections.list
import ansible.plugins.strategy.linear as linear
cls = strategy_loader.get("ecsops.platform.mitogen_linear", class_only=True)
mod = sys.modules[cls.__module__]
imported_before = "ansible_mitogen" in sys.modules
from ansible.playbook.block import Block
from ansible.playbook.task import Task
def task(action):
    t = Task()
    t.action = action
    return t
def block(*actions, rescue=(), inner=()):
    b = Block()
    b.block = list(inner) + [task(a) for a in actions]
    b.rescue = [task(a) for a in rescue]
    return b
work = {
    "empty": mod.has_work([]),
    "meta_only": mod.has_work([block("ansible.builtin.meta", "meta")]),
    "validate_only": mod.has_work([block("ansible.builtin.validate_argument_spec")]),
    "facts_off": mod.has_work([block("ansible.builtin.gather_facts")], gather_facts=False),
    "facts_on": mod.has_work([block("ansible.builtin.gather_facts")], gather_facts=True),
    "module": mod.has_work([block("meta"), block("amazon.aws.ec2_vpc_net_info")]),
    "in_rescue": mod.has_work([block("meta", rescue=["amazon.aws.s3_bucket"])]),
    "nested": mod.has_work([block(inner=[block("meta"), block("ansible.builtin.set_fact")])]),
}
enabled = {v: mod.mitogen_enabled({"ECSOPS_MITOGEN": v}) for v in ["0", "false", "No", " off ", "1", "yes", ""]}
enabled["unset"] = mod.mitogen_enabled({})
cache_env = {"PYTHONPATH": "/elsewhere"}
cache_on = [mod.use_boto_cache(cache_env), mod.use_boto_cache(cache_env)]
off_env = {"ECSOPS_BOTO_CACHE": "0"}
cache_off = [mod.use_boto_cache(off_env), "PYTHONPATH" in off_env]
warm_cls = strategy_loader.get("ecsops.platform.mitogen_warm", class_only=True)
warm_mod = sys.modules[warm_cls.__module__]
started_before = mod.mitogen_started()
mitogen_cls = mod._mitogen_strategy()
started_after = mod.mitogen_started()
import ansible_mitogen.affinity, ansible_mitogen.planner, ansible_mitogen.strategy
class Invocation:
    def __init__(self):
        self._extra_sys_paths = set()
inv = Invocation()
ansible_mitogen.planner._load_collections(inv)
print(json.dumps({
    "plain_linear": issubclass(cls, linear.StrategyModule) and not issubclass(cls, ansible_mitogen.strategy.StrategyMixin),
    "imported_before": imported_before,
    "mitogen_linear": issubclass(mitogen_cls, linear.StrategyModule),
    "warm_is_mitogen_linear": issubclass(warm_cls, cls) and warm_mod.mitogen_started is mod.mitogen_started,
    "started": [started_before, started_after],
    "mitogen": issubclass(mitogen_cls, ansible_mitogen.strategy.StrategyMixin),
    "patched": ansible_mitogen.planner._load_collections is mod._load_collections,
    "no_pinning": type(ansible_mitogen.affinity.policy) is ansible_mitogen.affinity.Policy,
    "work": work,
    "enabled": enabled,
    "cache_dir": mod.BOTO_CACHE_DIR,
    "cache_on": cache_on,
    "cache_env": cache_env["PYTHONPATH"],
    "cache_off": cache_off,
    "ours": sorted(inv._extra_sys_paths),
    "ansible": sorted({p.decode() for p in ansible.collections.list.list_collection_dirs()}),
}))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _plays(name: str) -> list[dict]:
    return [p for p in yaml.safe_load((ROOT / "playbooks" / name).read_text()) if "hosts" in p]


def test_ansible_cfg_keeps_linear_and_documents_the_switches() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    assert cfg["defaults"]["strategy"] == "linear"
    text = (ROOT / "ansible.cfg").read_text()
    readme = (ROOT / "README.md").read_text()
    for doc in (text, readme):
        assert "ECSOPS_MITOGEN=0" in doc
        assert f"ANSIBLE_STRATEGY={STRATEGY}" in doc


@pytest.mark.parametrize("playbook", ACCOUNT_PLAYS)
def test_account_plays_name_the_mitogen_strategy(playbook: str) -> None:
    plays = _plays(playbook)
    assert plays and all(p["hosts"] == "aws" and p.get("strategy") == STRATEGY for p in plays)


def test_teardown_layers_play_names_it_and_service_plays_do_not() -> None:
    teardown = {p["name"]: p for p in _plays("teardown.yml")}
    assert teardown["Teardown | edge, platform, data, network"].get("strategy") == STRATEGY
    assert "strategy" not in teardown["Teardown | services (autoscaling, services, task definitions)"]
    for playbook in SERVICE_PLAYS:
        for play in _plays(playbook):
            assert "strategy" not in play, (playbook, play["name"])


def test_preflight_checks_the_account_in_a_mitogen_play_and_validates_in_a_linear_one() -> None:
    validate, account = _plays("preflight.yml")
    assert "strategy" not in validate, "the validation play has no module task: mitogen would only cost time"
    assert account.get("strategy") == STRATEGY
    tasks = yaml.safe_dump(account["tasks"])
    assert "tasks_from: account" in tasks and "tasks_from: account" not in yaml.safe_dump(validate["tasks"])
    # A --tags deploy run leaves the check to ecs_deploy: the play matches no host, so mitogen does not start.
    assert "ecsops_deploy_only" in account["hosts"]


@pytest.mark.parametrize("playbook", WARM_PLAYS)
def test_service_plays_name_the_warm_strategy(playbook: str) -> None:
    plays = _plays(playbook)
    assert plays and all(p.get("strategy") == WARM for p in plays)


def test_plugin_is_plain_linear_until_a_play_has_work(probe: dict) -> None:
    assert probe["plain_linear"]
    assert not probe["imported_before"], "loading the plugin must not import mitogen"
    assert probe["work"] == {"empty": False, "meta_only": False, "validate_only": False, "facts_off": False,
                             "facts_on": True, "module": True, "in_rescue": True, "nested": True}


def test_ecsops_mitogen_switch(probe: dict) -> None:
    assert probe["enabled"] == {"0": False, "false": False, "No": False, " off ": False, "1": True, "yes": True,
                                "": True, "unset": True}


def test_mitogen_class_is_linear_with_mitogen_and_lists_collections_once(probe: dict) -> None:
    assert probe["mitogen_linear"] and probe["mitogen"] and probe["patched"]
    assert probe["warm_is_mitogen_linear"], "mitogen_warm must share mitogen_linear's record of a started mitogen"
    assert probe["started"] == [False, True]
    assert probe["no_pinning"], "mitogen's CPU placement policy must be the do-nothing one"
    assert any(p.endswith("ansible_collections/amazon/aws") for p in probe["ours"])
    assert any(p.endswith("ansible_collections/ecsops/platform") for p in probe["ours"])
    assert probe["ours"] == probe["ansible"]


def test_boto_cache_goes_first_on_pythonpath_once_unless_switched_off(probe: dict) -> None:
    cache_dir = Path(probe["cache_dir"])
    assert (cache_dir / "sitecustomize.py").is_file()
    assert probe["cache_on"] == [True, True]
    assert probe["cache_env"] == os.pathsep.join([str(cache_dir), "/elsewhere"]), "prepended once, path kept"
    assert probe["cache_off"] == [False, False], "switched off: PYTHONPATH is not touched"


PLAY = """
- hosts: localhost
  gather_facts: false
  strategy: ecsops.platform.mitogen_linear
  tasks:
    - name: A process the run starts sees the shared botocore loader
      ansible.builtin.command:
        argv: ["{{ ansible_playbook_python }}", "-c",
               "import botocore.session as s; print(getattr(s.create_loader, '_ecsops_shared', False))"]
      register: probe
      changed_when: false
    - ansible.builtin.debug:
        msg: "SHARED={{ probe.stdout }}"

- hosts: localhost
  gather_facts: false
  strategy: linear
  tasks:
    - name: A process of a later linear play may use every CPU (mitogen pins none)
      ansible.builtin.command:
        argv: ["{{ ansible_playbook_python }}", "-c", "import os; print(len(os.sched_getaffinity(0)))"]
      register: cpus
      changed_when: false
    - ansible.builtin.debug:
        msg: "CPUS={{ cpus.stdout }}"
"""


def _run_play(tmp_path: Path, text: str, switch: dict) -> subprocess.CompletedProcess:
    """ansible-playbook on localhost with the project's ansible.cfg, without the switches of this environment."""
    (tmp_path / "play.yml").write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ECSOPS_BOTO_CACHE", "ECSOPS_MITOGEN")}
    env.update(switch, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("switch", "expected"), [({}, "SHARED=True"), ({"ECSOPS_BOTO_CACHE": "0"}, "SHARED=False")])
def test_processes_of_a_mitogen_run_get_the_boto_cache_and_every_cpu(tmp_path: Path, switch: dict, expected: str) -> None:
    proc = _run_play(tmp_path, PLAY, switch)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert expected in proc.stdout
    assert f"CPUS={len(os.sched_getaffinity(0))}" in proc.stdout, "a mitogen play left the run pinned to fewer CPUs"


WARM_PLAY = """
- hosts: localhost
  gather_facts: false
  strategy: FIRST
  tasks:
    - ansible.builtin.shell: "tr '\\\\0' ' ' < /proc/$PPID/cmdline"
      register: first
      changed_when: false
    - ansible.builtin.debug:
        msg: "FIRST={{ '(mitogen:' in first.stdout }}"

- hosts: localhost
  gather_facts: false
  strategy: ecsops.platform.mitogen_warm
  tasks:
    - ansible.builtin.shell: "tr '\\\\0' ' ' < /proc/$PPID/cmdline"
      register: warm
      changed_when: false
    - ansible.builtin.debug:
        msg: "WARM={{ '(mitogen:' in warm.stdout }}"
"""


@pytest.mark.parametrize(("first", "env", "expected"), [
    ("linear", {}, ("FIRST=False", "WARM=False")),
    (STRATEGY, {}, ("FIRST=True", "WARM=True")),
    (STRATEGY, {"ECSOPS_MITOGEN": "0"}, ("FIRST=False", "WARM=False")),
])
def test_warm_strategy_runs_modules_in_mitogen_only_after_a_mitogen_play(tmp_path: Path, first: str, env: dict,
                                                                          expected: tuple) -> None:
    """The module's parent process is mitogen's interpreter (its command line says so) or a plain one."""
    proc = _run_play(tmp_path, WARM_PLAY.replace("FIRST", first, 1), env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    for line in expected:
        assert line in proc.stdout, proc.stdout[-3000:]
