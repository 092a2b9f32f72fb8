"""scripts/rollout_model.py: rolling-step arithmetic, phases, settings read from an inventory, the converge
timeline, and the figures it reports for inventories/prod."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("rollout_model", ROOT / "scripts" / "rollout_model.py")
rm = importlib.util.module_from_spec(_spec)
sys.modules["rollout_model"] = rm
_spec.loader.exec_module(rm)


@pytest.mark.parametrize(("desired", "minimum", "maximum", "batch"), [
    (2, 100, 200, 2),    # all new tasks at once
    (3, 100, 200, 3),
    (4, 100, 150, 2),    # room for 2 extra tasks
    (3, 100, 150, 1),    # floor(4.5) - 3
    (4, 50, 100, 2),     # stop half first
    (3, 50, 100, 1),     # ceil(1.5) = 2 must stay healthy
    (1, 0, 100, 1),
    (10, 90, 110, 2),
])
def test_batch_size_rounds_like_ecs(desired: int, minimum: int, maximum: int, batch: int) -> None:
    assert rm.batch_size(desired, minimum, maximum) == batch


def test_batch_size_refuses_a_deployment_that_cannot_move() -> None:
    with pytest.raises(ValueError, match="can replace no task"):
        rm.batch_size(1, 100, 100)
    with pytest.raises(ValueError, match="maximum_percent"):
        rm.batch_size(3, 100, 120)  # floor(3.6) = 3 = ceil(3)
    assert rm.batch_size(0, 100, 200) == 0


def test_load_balanced_rollout_phases_and_total() -> None:
    s = rm.RolloutSettings(desired_count=2, health_check_interval=10, healthy_threshold=2, deregistration_delay=15,
                           stop_timeout=30, container_health_interval=10, task_start=10, stop_typical=2)
    r = rm.rollout(s)
    assert r.steps == 1 and r.batch == 2
    assert r.phases == {"start": 10, "container": 10, "healthy": 20, "drain": 15, "stop": 30}
    assert r.total_seconds == 85
    assert r.total_typical_seconds == 57  # the process exits 2 s after SIGTERM instead of using the 30 s


def test_steps_multiply_and_migration_counts_once() -> None:
    s = rm.RolloutSettings(desired_count=4, minimum_healthy_percent=100, maximum_percent=150, load_balanced=False,
                           stop_timeout=10, task_start=5, stop_typical=1, migration=7)
    r = rm.rollout(s)
    assert r.steps == 2 and r.batch == 2
    assert r.step_seconds == 15  # start 5 + stop 10, no load balancer: no health checks, no drain
    assert r.total_seconds == 2 * 15 + (5 + 7)
    assert r.total_typical_seconds == 2 * 6 + 12
    assert any("migration" in n for n in r.notes)


def test_first_deployment_has_nothing_to_drain_or_stop() -> None:
    s = rm.RolloutSettings(desired_count=2, health_check_interval=10, healthy_threshold=2, task_start=40)
    r = rm.rollout(s, replace_old=False)
    assert set(r.phases) == {"start", "healthy"} and r.total_seconds == 60


def test_zero_tasks_roll_instantly() -> None:
    assert rm.rollout(rm.RolloutSettings(desired_count=0)).total_seconds == 0


def test_aws_defaults_are_the_documented_ones() -> None:
    ours = rm.RolloutSettings(desired_count=2, health_check_interval=10, healthy_threshold=2, deregistration_delay=15,
                              stop_timeout=30, container_health_interval=10, task_start=10)
    d = rm.aws_default_settings(ours)
    assert (d.health_check_interval, d.healthy_threshold, d.deregistration_delay, d.stop_timeout) == (30, 5, 300, 30)
    assert d.container_health_interval == 30 and (d.minimum_healthy_percent, d.maximum_percent) == (100, 200)
    assert rm.rollout(d).total_seconds == 10 + 30 + 150 + 300 + 30
    # a service without a gating container health check keeps none under the defaults either
    assert rm.aws_default_settings(rm.RolloutSettings(container_health_interval=None)).container_health_interval is None


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("2m", 120), ("1m30s", 90), ("45", 45), (15, 15), ("1h", 3600)])
def test_duration_seconds(text: object, seconds: int) -> None:
    assert rm.duration_seconds(text) == seconds


@pytest.mark.parametrize("bad", ["", "30x", "s30", "1m 30s"])
def test_duration_seconds_refuses_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        rm.duration_seconds(bad)


def test_settings_from_vars_prefers_service_overrides() -> None:
    hv = {
        "alb_health_check_interval": 10, "alb_healthy_threshold": 2, "alb_deregistration_delay": 15,
        "ecs_capacity_container_stop_timeout": "1m",
        "service_desired_count": 2, "service_autoscaling": {"min_tasks": 4, "max_tasks": 8},
        "service_deployment_minimum_healthy_percent": 50, "service_deployment_maximum_percent": 100,
        "service_load_balancer": {"container": "nginx", "container_port": 80, "deregistration_delay": 5,
                                  "healthy_threshold": 3},
        "service_containers": [
            {"name": "app", "health_check": {"command": ["true"], "interval": 7}},
            {"name": "nginx", "depends_on": [{"containerName": "app", "condition": "HEALTHY"}], "stop_timeout": 12},
        ],
        "service_migration": {"container": "app", "command": ["migrate"]},
    }
    s = rm.settings_from_vars(hv, task_start=8, stop_typical=1, migration=3)
    assert s.desired_count == 4  # autoscaling's minimum is what runs
    assert (s.minimum_healthy_percent, s.maximum_percent) == (50, 100)
    assert s.load_balanced and s.health_check_interval == 10 and s.healthy_threshold == 3
    assert s.deregistration_delay == 5
    assert s.stop_timeout == 12  # the container's stopTimeout beats the agent's default
    assert s.container_health_interval == 7
    assert s.migration == 3 and s.task_start == 8


def test_settings_from_vars_worker_without_checks() -> None:
    s = rm.settings_from_vars({"service_containers": [{"name": "w"}]})
    assert not s.load_balanced and s.container_health_interval is None and s.migration == 0
    assert s.stop_timeout == 30 and s.desired_count == 1


def test_inventory_services_layers_defaults_group_and_host_vars(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "host_vars").mkdir()
    (inv / "hosts.yml").write_text("all:\n  children:\n    services:\n      hosts:\n        api: {}\n")
    (inv / "group_vars" / "all" / "edge.yml").write_text("alb_deregistration_delay: 42\n")
    (inv / "host_vars" / "api.yml").write_text(
        "service_desired_count: 3\nservice_containers: [{name: api}]\nservice_load_balancer: {container: api}\n")
    services = rm.inventory_services(inv)
    assert list(services) == ["api"]
    s = rm.settings_from_vars(services["api"])
    assert s.deregistration_delay == 42          # group_vars over the role default
    assert s.health_check_interval == 10         # roles/alb/defaults/main.yml
    assert s.desired_count == 3 and s.load_balanced


def test_converge_timeline_overlaps_and_critical_path() -> None:
    waits = {"nat_gateway": 100, "alb": 50, "rds": 500, "instances_join": 60}
    ansible = dict.fromkeys(rm.ANSIBLE_SEGMENTS, 1)
    before = rm.converge_timeline(waits, ansible, 30, "network")
    assert before["waits"]["nat_gateway"] == {"start": 1, "end": 101, "seconds": 100}
    assert before["waits"]["rds"]["start"] == 101 + 2  # security groups + data prefix after the NAT wait
    assert before["critical_path"] == ["nat_gateway", "rds", "first_rollout"]
    assert before["serial_sum_of_waits"] == 100 + 50 + 500 + 60 + 30
    today = rm.converge_timeline(waits, ansible, 30)  # the NAT wait just before the ASG (ecs_capacity)
    assert today["nat_wait"] == "platform"
    assert today["waits"]["rds"]["start"] == 4  # no NAT wait before it
    assert today["waits"]["instances_join"]["start"] == 101  # the ASG waits for the NAT gateway
    assert today["critical_path"] == ["rds", "first_rollout"]
    assert today["total_seconds"] == 4 + 500 + 1 + 1 + 30 + 1
    assert today["total_seconds"] < before["total_seconds"] < before["serial_sum_of_waits"]


def test_converge_timeline_without_a_slow_database_waits_for_the_alb() -> None:
    waits = {"nat_gateway": 1, "alb": 300, "rds": 10, "instances_join": 5}
    tl = rm.converge_timeline(waits, dict.fromkeys(rm.ANSIBLE_SEGMENTS, 1), 20, "platform")
    assert tl["critical_path"] == ["alb", "first_rollout"]
    assert tl["waits"]["first_rollout"]["start"] == tl["waits"]["alb"]["end"]


def test_prod_model_figures() -> None:
    report = rm.model(ROOT / "inventories" / "prod")
    web, worker = report["rollouts"]["web"], report["rollouts"]["worker"]
    # ours: start 10 + app health check 10 + ALB 2x10 + drain 15 + stop <= 30, + the migration once (10 + 5)
    assert web["ours"]["total_seconds"] == 100 and web["ours"]["total_typical_seconds"] == 72
    assert web["aws_defaults"]["total_seconds"] == 10 + 30 + 150 + 300 + 30 + 15
    assert web["meets_goal_typical"] and not web["meets_goal_worst_case"]
    assert worker["meets_goal_worst_case"]
    converge = report["converge"]
    assert converge["today"]["total_seconds"] < converge["nat_wait_in_network"]["total_seconds"]
    assert converge["today"]["slowest"]["name"] == "rds"


def test_cli_prints_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert rm.main(["-i", "inventories/prod", "--durations", "rds=900"]) == 0
    out = capsys.readouterr().out
    assert "web" in out and "critical path" in out and "rds 900" in out
    assert rm.main(["-i", "inventories/staging", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["rollouts"]) == {"web", "worker"}


def test_cli_refuses_unknown_wait() -> None:
    with pytest.raises(SystemExit):
        rm.main(["--durations", "elasticache=60"])
