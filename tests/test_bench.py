"""scripts/bench.py: the report arithmetic (fast), and the CI short mode (`bench.py --quick`) end to end on its
own emulator: the JSON report's structure, the zero mutating calls of a no-change re-run, and a replay of that
run's requests. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import ROOT, Call, free_port

_spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench"] = bench
_spec.loader.exec_module(bench)


def _run(seconds: float, requests: int, mutating: int = 0, polls: int = 0) -> dict[str, Any]:
    return {"seconds": seconds, "requests": requests, "mutating": mutating, "polls": polls, "tasks": {"ok": 3}}


def test_summarise_median_min_max() -> None:
    s = bench.summarise([_run(3.0, 10), _run(1.0, 12, 1), _run(2.0, 11)])
    assert (s["median"], s["min"], s["max"]) == (2.0, 1.0, 3.0)
    assert (s["requests"], s["requests_min"], s["requests_max"], s["mutating_max"]) == (11, 10, 12, 1)


def test_count_calls_separates_mutating_and_polls() -> None:
    calls = [Call("ecs", "DescribeServices"), Call("ecs", "DescribeServices"), Call("ecs", "UpdateService"),
             Call("s3", "PUT /bucket"), Call("s3", "GET /bucket")]
    c = bench.count_calls(calls)
    assert (c["requests"], c["mutating"], c["polls"]) == (5, 2, 2)
    assert c["mutating_actions"] == ["ecs:UpdateService", "s3:PUT /bucket"]


def test_targets_and_table() -> None:
    s = {
        "no_change_linear": bench.summarise([_run(100, 300)]),
        "no_change": bench.summarise([_run(50, 300)]),
        "redeploy_one": bench.summarise([_run(7, 11, 3)]),
        "redeploy_one_nowait": bench.summarise([_run(5, 9, 3)]),
        "redeploy_all": bench.summarise([_run(15, 80, 24)]),
        "redeploy_all_32": bench.summarise([_run(35, 300, 96)]),
        "ecs_deploy": bench.summarise([_run(2, 5, 3)]),
        "ecs_deploy_wait": bench.summarise([_run(3.5, 9, 3)]),
        "revisions": {"grows": False, "2": {**bench.summarise([_run(6, 12, 3, 4)]), "requests_without_polls": 8},
                      "20": {**bench.summarise([_run(6, 11, 3, 3)]), "requests_without_polls": 8}},
        "replay": {"ratio": 25.0, "median": 2.0, "min": 2.0, "max": 2.0, "replayed": 300, "no_change_median": 50},
    }
    report = {"meta": {"services": 8, "revision_counts": [2, 20]}, "scenarios": s}
    report["targets"] = bench.targets(report)
    met = [(t["target"].split(" (")[0].split(" ")[0], t["limit"], t["met"]) for t in report["targets"]]
    # 7 / 2 = 3.5 > 3 waiting; 5 / 2 = 2.5 not waiting; 15 / 7 > 2; 32 services reported; replay 25 > 10;
    # mitogen / linear reported
    assert met == [("no-change", 0, True), ("one-service", 3, False), ("one-service", 3, True),
                   ("one-service", None, None), ("redeploy", 2, False), ("redeploy", None, None), ("redeploy", "equal", True),
                   ("no-change", 10, False), ("no-change", None, None)]
    values = {t["target"]: t["value"] for t in report["targets"]}
    assert values["one-service redeploy, both waiting: ours / `ecs deploy --timeout 300` (reported)"] == 2.0
    assert values["redeploy of all 32 services / one (reported)"] == 5.0
    assert values["no-change with mitogen / without (ECSOPS_MITOGEN=0) (reported)"] == 0.5
    assert "NOT MET" in bench.table(report) and "revisions=20" in bench.table(report)
    assert "not waiting, like it" in bench.table(report)
    s["ecs_deploy"] = {"skipped": "no venv"}
    del s["ecs_deploy_wait"]
    assert [t["met"] for t in bench.targets(report)[1:3]] == [None, None]
    assert bench.targets(report)[1]["note"] == "no venv"


def test_floor_targets() -> None:
    """The floor rows appear only with an ansible_floor scenario, and each divides the right medians."""
    s = {
        "no_change": bench.summarise([_run(50, 300)]),
        "redeploy_one": bench.summarise([_run(7, 11, 3)]),
        "redeploy_one_nowait": bench.summarise([_run(5, 9, 3)]),
        "redeploy_all": bench.summarise([_run(14, 80, 24)]),
        "ecs_deploy": bench.summarise([_run(0.5, 5, 3)]),
    }
    report = {"meta": {"services": 8, "revision_counts": []}, "scenarios": s}
    assert not any("floor" in t["target"] for t in bench.targets(report))
    s["ansible_floor"] = bench.summarise([_run(2.0, 1)])
    rows = {t["target"]: (t["value"], t["met"]) for t in bench.targets(report) if "floor" in t["target"]}
    assert rows == {"ansible-playbook floor (one module task) / `ecs deploy` (no wait) (reported)": (4.0, None),
                    "one-service redeploy (not waiting) / ansible-playbook floor (reported)": (2.5, None)}
    s["ecs_deploy"] = {"skipped": "no venv"}
    assert [t["target"] for t in bench.targets(report) if "floor" in t["target"]] == [
        "one-service redeploy (not waiting) / ansible-playbook floor (reported)"]


def test_parse_args_modes() -> None:
    quick = bench.parse_args(["--quick"])
    assert (quick.repeat, quick.inventory, quick.revision_counts, quick.no_ecs_deploy, quick.scale) == (
        1, "inventories/local", [], True, 0)
    full = bench.parse_args([])
    assert (full.repeat, full.inventory, full.revision_counts, full.no_ecs_deploy, full.scale) == (
        3, "inventories/bench", [2, 20], False, 32)
    assert bench.parse_args(["--scale", "0"]).scale == 0
    with pytest.raises(SystemExit):
        bench.parse_args(["--revisions", "2"])


def test_bench_inventory_has_eight_services_in_a_known_environment() -> None:
    services = bench.inventory_services("inventories/bench")
    assert len(services) >= 8
    assert bench.inventory_env_name("inventories/bench") == "bench"
    import yaml

    known = yaml.safe_load((ROOT / "roles/preflight/defaults/main.yml").read_text())["preflight_known_environments"]
    assert "bench" in known


def test_scale_inventory_adds_workers_and_capacity() -> None:
    import yaml

    path, services = bench.scale_inventory("inventories/bench", 32)
    assert len(services) == len(set(services)) == 32
    assert bench.inventory_services(path) == services
    added = yaml.safe_load((ROOT / path / "host_vars" / "job24.yml").read_text())
    assert added["service_containers"][0]["name"] == "job24" and "service_load_balancer" not in added
    assert added["service_containers"][0]["environment"]["WORKER_QUEUE"] == "job24"
    scale = yaml.safe_load((ROOT / path / "group_vars" / "all" / "zz_scale.yml").read_text())
    assert scale == {"ecs_capacity_desired_capacity": 4, "ecs_capacity_max_size": 5}
    with pytest.raises(SystemExit):
        bench.scale_inventory("inventories/bench", 4)


@pytest.mark.slow
def test_quick_bench_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "scripts/bench.py", "--quick", "--port", str(port), "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(output.read_text())
    s = report["scenarios"]
    assert report["meta"]["mode"] == "quick" and report["meta"]["services"] == 2
    for name in ("first_converge", "no_change_linear", "no_change", "redeploy_one", "redeploy_one_nowait",
                 "redeploy_all"):
        assert {"median", "min", "max", "requests", "mutating", "runs"} <= set(s[name]), name
        assert s[name]["runs"][0]["tasks"]["failed"] == 0
    # not waiting means no rollout poll after the update: fewer DescribeServices than the waiting redeploy
    assert s["redeploy_one_nowait"]["runs"][0]["polls"] < s["redeploy_one"]["runs"][0]["polls"]
    # a first converge creates everything; the re-run reads only
    assert s["first_converge"]["mutating"] > 50
    assert s["no_change"]["requests"] > 100 and s["no_change"]["mutating_max"] == 0
    assert s["no_change_linear"]["mutating_max"] == 0 and s["no_change_linear"]["requests"] == s["no_change"]["requests"]
    assert not any(name.startswith("redeploy_all_") for name in s), "quick mode has no scale rows"
    # a redeploy writes task definitions and services, nothing else
    one = s["redeploy_one"]["runs"][0]["mutating_actions"]
    assert "ecs:RegisterTaskDefinition" in one and "ecs:UpdateService" in one
    assert {a.split(":")[0] for a in s["redeploy_all"]["runs"][0]["mutating_actions"]} == {"ecs"}
    assert s["redeploy_all"]["mutating"] > s["redeploy_one"]["mutating"]
    assert s["ecs_deploy"] == {"skipped": "--quick or --no-ecs-deploy"}
    # the floor is one module task: sts:GetCallerIdentity and iam:ListAccountAliases, nothing written
    assert (s["ansible_floor"]["requests"], s["ansible_floor"]["mutating_max"]) == (2, 0)
    assert s["ansible_floor"]["runs"][0]["tasks"]["ok"] == 1
    replay = s["replay"]
    assert replay["replayed"] == s["no_change"]["runs"][-1]["requests"] and replay["errors"] == 0
    assert replay["skipped_mutating"] == 0 and replay["ratio"] > 1
    assert report["targets"][0]["met"] is True
    assert "no-change re-run makes zero mutating API calls" in proc.stdout
    # the bench's own emulator is gone
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
