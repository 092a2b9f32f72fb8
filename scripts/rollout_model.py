#!/usr/bin/env python3
"""Real AWS, modelled: how long a rollout and a fresh converge wait on AWS with our settings.

The emulator cannot show AWS's own waits (it completes a deployment in half a second), so this script
computes them from the settings that decide them, read from an inventory (inventories/<env>/group_vars and
host_vars, over the role defaults), next to what AWS's defaults would imply.

(a) Rollout of a service (ECS rolling update, EC2 launch type, bridge networking, ALB instance targets).
    Each rolling step replaces up to ``floor(N * max% / 100) - ceil(N * min% / 100)`` tasks and waits for

      start      placement, image pull (layers cached on the instance) and process start (an assumption,
                 --task-start, default 10 s; a cold pull of a large image takes longer)
      container  a container health check that gates the task (``dependsOn: HEALTHY`` or a health check on
                 an essential container): Docker runs the first probe one ``interval`` after the start
      healthy    ALB: ``healthy threshold x interval`` consecutive passing checks before ECS counts it
      drain      ALB: the target group's deregistration delay for the replaced tasks
      migration  once, before the first step: the one-off migration task (service_migration) is started and
                 waited for (start + --migration, default 5 s for a migration with nothing to do)
      stop       SIGTERM to exit; at most the stop timeout (ECS_CONTAINER_STOP_TIMEOUT or the container's
                 stopTimeout) when the process ignores SIGTERM; --stop-typical (default 2 s) when it exits

    The phases of one step run one after the other; steps run one after the other. Not counted: ECS's
    own scheduling cadence (seconds), the module's polling (up to service_wait_delay), and capacity: with
    maximum 200 % the cluster needs room for twice the tasks, else managed scaling adds an instance
    (minutes).

(b) A fresh converge's long waits (NAT gateway, ALB, RDS, instances joining, the first rollout) with
    typical durations, laid on the schedule of site.yml's plays: the serial sum, the critical path as the
    playbooks run today (the NAT wait just before the Auto Scaling group), and with the NAT wait at the end of the
    network play, as the playbooks did before (for comparison).

    python scripts/rollout_model.py                      # inventories/prod, table
    python scripts/rollout_model.py -i inventories/staging --json
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_ROLLOUT_SECONDS = 90

# AWS's defaults (documented values):
# - ELB target group health checks: interval 30 s, healthy threshold 5, unhealthy threshold 2, timeout 5 s;
#   deregistration delay 300 s (Elastic Load Balancing, "Health checks for Application Load Balancer target
#   groups" and "Target group attributes").
# - ECS agent ECS_CONTAINER_STOP_TIMEOUT 30 s (ECS developer guide, "Amazon ECS container agent configuration").
# - Container health check: interval 30 s, timeout 5 s, retries 3, no start period (ECS API, HealthCheck).
# - Rolling update of a REPLICA service: minimumHealthyPercent 100, maximumPercent 200 (ECS API,
#   DeploymentConfiguration); healthCheckGracePeriodSeconds 0.
AWS_DEFAULTS = {
    "health_check_interval": 30,
    "healthy_threshold": 5,
    "unhealthy_threshold": 2,
    "deregistration_delay": 300,
    "stop_timeout": 30,
    "container_health_interval": 30,
    "minimum_healthy_percent": 100,
    "maximum_percent": 200,
}


@dataclass(frozen=True)
class RolloutSettings:
    desired_count: int = 2
    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    load_balanced: bool = True
    health_check_interval: int = 30
    healthy_threshold: int = 5
    deregistration_delay: int = 300
    stop_timeout: int = 30
    # Interval of the container health check that gates the task, or None when none does.
    container_health_interval: int | None = None
    task_start: float = 10.0
    stop_typical: float = 2.0
    # Seconds of the one-off migration task (service_migration) the rollout waits for first, or 0.
    migration: float = 0.0


@dataclass
class Rollout:
    steps: int
    batch: int
    phases: dict[str, float]
    step_seconds: float
    total_seconds: float
    total_typical_seconds: float
    notes: list[str] = field(default_factory=list)


def batch_size(desired: int, minimum_healthy_percent: int, maximum_percent: int) -> int:
    """Tasks replaced per rolling step: ECS rounds the minimum healthy count up and the maximum down."""
    if desired <= 0:
        return 0
    maximum = math.floor(desired * maximum_percent / 100)
    minimum = math.ceil(desired * minimum_healthy_percent / 100)
    batch = min(desired, maximum - minimum)
    if batch <= 0:
        raise ValueError(
            f"deployment {minimum_healthy_percent}%/{maximum_percent}% of {desired} task(s) can replace no task "
            f"(at most {maximum} running, at least {minimum} healthy): raise maximum_percent or lower "
            "minimum_healthy_percent"
        )
    return batch


def rollout(settings: RolloutSettings, replace_old: bool = True) -> Rollout:
    """Seconds of AWS-side waiting for one rollout of `settings` (replace_old=False: a first deployment,
    nothing to drain or stop)."""
    s = settings
    notes: list[str] = []
    if s.desired_count <= 0:
        return Rollout(0, 0, {}, 0.0, 0.0, 0.0, ["desired count 0: nothing to roll"])
    batch = batch_size(s.desired_count, s.minimum_healthy_percent, s.maximum_percent)
    steps = math.ceil(s.desired_count / batch)
    phases: dict[str, float] = {"start": float(s.task_start)}
    # The migration runs once, before the service is touched: it is added once, not per step.
    migration = float(s.task_start + s.migration) if s.migration else 0.0
    if s.container_health_interval:
        phases["container"] = float(s.container_health_interval)
    if s.load_balanced:
        phases["healthy"] = float(s.healthy_threshold * s.health_check_interval)
    if replace_old:
        if s.load_balanced:
            phases["drain"] = float(s.deregistration_delay)
        phases["stop"] = float(s.stop_timeout)
    step = sum(phases.values())
    typical_step = step - (phases.get("stop", 0.0) - min(s.stop_typical, phases.get("stop", 0.0)))
    if s.maximum_percent > 100:
        notes.append(f"needs room for {math.floor(s.desired_count * s.maximum_percent / 100)} tasks during the rollout")
    if migration:
        notes.append(f"includes the migration task: {migration:g} s (start + {s.migration:g} s run)")
    return Rollout(steps, batch, dict(phases, **({"migration": migration} if migration else {})), step,
                   steps * step + migration, steps * typical_step + migration, notes)


# ------------------------------------------------------------------ inventory
def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def merge_vars(path: Path) -> dict[str, Any]:
    """An inventory's group_vars/<g> or host_vars/<h>: the directory's *.yml files merged in name order (Ansible's
    order), or the single <path>.yml; {} when neither exists. scripts/bench.py reads host vars with it too."""
    merged: dict[str, Any] = {}
    if path.is_dir():
        for f in sorted(path.glob("*.yml")):
            merged.update(_load_yaml(f))
    elif path.with_suffix(".yml").exists():
        merged.update(_load_yaml(path.with_suffix(".yml")))
    return merged


def duration_seconds(value: Any) -> int:
    """ECS agent durations (30s, 2m, 1m30s) or plain seconds."""
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = re.findall(r"(\d+)(h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {value!r}")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def inventory_services(inventory: Path) -> dict[str, dict[str, Any]]:
    """Each host of group `services` with its variables: role defaults < group_vars/all < host_vars."""
    defaults: dict[str, Any] = {}
    for role in ("alb", "service", "ecs_capacity"):
        defaults.update(_load_yaml(ROOT / "roles" / role / "defaults" / "main.yml"))
    group = merge_vars(inventory / "group_vars" / "all")
    hosts = _load_yaml(inventory / "hosts.yml")
    names = list((((hosts.get("all") or {}).get("children") or {}).get("services") or {}).get("hosts") or {})
    result = {}
    for name in names:
        merged = dict(defaults)
        merged.update(group)
        merged.update(merge_vars(inventory / "host_vars" / name))
        result[name] = merged
    return result


def _gating_health_interval(containers: list[dict[str, Any]]) -> int | None:
    """Interval of the health check a task waits for: a container others depend on with condition HEALTHY,
    else any essential container's (ECS then waits for the task's health). Our filter's default is 10 s."""
    by_name = {c.get("name"): c for c in containers}
    gating = []
    for c in containers:
        for dep in c.get("depends_on") or []:
            if str(dep.get("condition", "")).upper() == "HEALTHY" and by_name.get(dep.get("containerName")):
                gating.append(by_name[dep["containerName"]])
    if not gating:
        gating = [c for c in containers if c.get("health_check") and c.get("essential", True)]
    intervals = [int((c.get("health_check") or {}).get("interval", 10)) for c in gating if c.get("health_check")]
    return max(intervals) if intervals else None


def settings_from_vars(hv: dict[str, Any], task_start: float = 10.0, stop_typical: float = 2.0,
                       migration: float = 5.0) -> RolloutSettings:
    """Our settings for one service, from its merged variables (see inventory_services)."""
    lb = hv.get("service_load_balancer") or {}
    containers = hv.get("service_containers") or []
    stop = duration_seconds(hv.get("ecs_capacity_container_stop_timeout", "30s"))
    container_stops = [int(c["stop_timeout"]) for c in containers if c.get("stop_timeout") is not None]
    if container_stops:
        stop = max(container_stops)
    desired = int(hv.get("service_desired_count", 1))
    if hv.get("service_autoscaling"):
        desired = max(desired, int(hv["service_autoscaling"].get("min_tasks", desired)))
    return RolloutSettings(
        desired_count=desired,
        minimum_healthy_percent=int(hv.get("service_deployment_minimum_healthy_percent", 100)),
        maximum_percent=int(hv.get("service_deployment_maximum_percent", 200)),
        load_balanced=bool(lb),
        health_check_interval=int(lb.get("health_check_interval", hv.get("alb_health_check_interval", 30))),
        healthy_threshold=int(lb.get("healthy_threshold", hv.get("alb_healthy_threshold", 5))),
        deregistration_delay=int(lb.get("deregistration_delay", hv.get("alb_deregistration_delay", 300))),
        stop_timeout=stop,
        container_health_interval=_gating_health_interval(containers),
        task_start=task_start,
        stop_typical=stop_typical,
        migration=migration if hv.get("service_migration") else 0.0,
    )


def aws_default_settings(ours: RolloutSettings) -> RolloutSettings:
    """The same service (count, load balancer, health-check gate) with AWS's defaults for the timing settings."""
    return replace(
        ours,
        minimum_healthy_percent=AWS_DEFAULTS["minimum_healthy_percent"],
        maximum_percent=AWS_DEFAULTS["maximum_percent"],
        health_check_interval=AWS_DEFAULTS["health_check_interval"],
        healthy_threshold=AWS_DEFAULTS["healthy_threshold"],
        deregistration_delay=AWS_DEFAULTS["deregistration_delay"],
        stop_timeout=AWS_DEFAULTS["stop_timeout"],
        container_health_interval=AWS_DEFAULTS["container_health_interval"] if ours.container_health_interval else None,
    )


# ------------------------------------------------------------------ fresh converge
# Typical durations of the long waits (seconds). AWS publishes no service-level figure for these; they are
# typical values (AWS documentation says RDS creation "can take several minutes"; the others are commonly
# observed provisioning times) and they vary by region, size and load. Override them with --durations.
TYPICAL_WAITS = {
    "nat_gateway": 120,      # NAT gateway pending -> available: typically 1-3 min
    "alb": 180,              # ALB provisioning -> active: typically 2-4 min
    "rds": 600,              # RDS PostgreSQL, single-AZ db.t3/db.m6g, 20-100 GB: typically 5-15 min (Multi-AZ more)
    "instances_join": 120,   # ASG launch -> ECS-optimized AMI booted -> agent registered: typically 1-3 min
}
# Ansible's own time between the waits, in play order (seconds): the emulator measurements of a first converge
# (scripts/bench.py: about 85 s for 2 services, 140 s for 8 here) spread over the plays; on AWS each API call
# adds some tens of milliseconds more.
ANSIBLE_SEGMENTS = {
    "preflight_to_nat_create": 12,   # preflight, VPC, subnets, IGW
    "network_rest": 15,              # route tables (then the NAT wait, in the earlier layout)
    "security_groups": 10,
    "data_to_rds_create": 5,
    "data_rest_to_asg": 40,          # SSM, S3, ECR, log groups; IAM; launch template; ASG
    "platform_rest_to_alb": 20,      # capacity provider, cluster; target groups
    "edge_rest": 15,                 # listeners, DNS
    "data_ready": 10,                # publish connection parameters, alarms (after the RDS wait)
    "deploy_prefix": 8,              # target group lookup, migration task
    "scaling": 10,
}


def converge_timeline(waits: dict[str, float], ansible: dict[str, float], first_rollout: float,
                      nat_wait: str = "platform") -> dict[str, Any]:
    """Start/end of each long wait on the schedule of site.yml.

    nat_wait="platform": today's playbooks, the wait just before the Auto Scaling group is created (ecs_capacity;
    instances need the NAT to join, nothing earlier does). nat_wait="network": the earlier layout, the vpc role
    waiting at the end of the network play, before the data play starts RDS.
    """
    a = ansible
    t = a["preflight_to_nat_create"]
    nat_end = t + waits["nat_gateway"]
    t += a["network_rest"]
    if nat_wait == "network":
        t = max(t, nat_end)
    t += a["security_groups"] + a["data_to_rds_create"]
    rds_start = t
    rds_end = rds_start + waits["rds"]
    t += a["data_rest_to_asg"]
    if nat_wait == "platform":
        t = max(t, nat_end)
    asg_start = t
    join_end = asg_start + waits["instances_join"]
    t += a["platform_rest_to_alb"]
    alb_start = t
    alb_end = alb_start + waits["alb"]
    t += a["edge_rest"]
    edge_end = t
    t = max(t, rds_end) + a["data_ready"] + a["deploy_prefix"]
    rollout_start = max(t, join_end, alb_end)
    rollout_end = rollout_start + first_rollout
    end = rollout_end + a["scaling"]
    items = {
        "nat_gateway": (a["preflight_to_nat_create"], nat_end),
        "rds": (rds_start, rds_end),
        "instances_join": (asg_start, join_end),
        "alb": (alb_start, alb_end),
        "first_rollout": (rollout_start, rollout_end),
    }
    path = []
    if nat_wait == "network" and nat_end > a["preflight_to_nat_create"] + a["network_rest"]:
        path.append("nat_gateway")
    if rollout_start > t and rollout_start == alb_end:
        path.append("alb")
    elif rollout_start > t and rollout_start == join_end:
        path.append("instances_join")
    elif rds_end > edge_end:
        path.append("rds")
    path.append("first_rollout")
    slowest = max(waits.items(), key=lambda kv: kv[1])
    return {
        "nat_wait": nat_wait,
        "waits": {k: {"start": round(s, 1), "end": round(e, 1), "seconds": round(e - s, 1)} for k, (s, e) in items.items()},
        "total_seconds": round(end, 1),
        "ansible_seconds": round(sum(a.values()), 1),
        "serial_sum_of_waits": round(sum(waits.values()) + first_rollout, 1),
        "slowest": {"name": slowest[0], "seconds": slowest[1]},
        "critical_path": path,
        "total_over_slowest": round(end / slowest[1], 2),
    }


# ------------------------------------------------------------------ report
def model(inventory: Path, task_start: float = 10.0, stop_typical: float = 2.0, cold_start: float = 40.0,
          waits: dict[str, float] | None = None, migration: float = 5.0) -> dict[str, Any]:
    services = inventory_services(inventory)
    rollouts = {}
    for name, hv in services.items():
        ours = settings_from_vars(hv, task_start, stop_typical, migration)
        default = aws_default_settings(ours)
        r_ours, r_default = rollout(ours), rollout(default)
        rollouts[name] = {
            "settings": asdict(ours),
            "aws_default_settings": asdict(default),
            "ours": asdict(r_ours),
            "aws_defaults": asdict(r_default),
            "meets_goal_worst_case": r_ours.total_seconds < GOAL_ROLLOUT_SECONDS,
            "meets_goal_typical": r_ours.total_typical_seconds < GOAL_ROLLOUT_SECONDS,
        }
    waits = dict(TYPICAL_WAITS, **(waits or {}))
    slowest_first = 0.0
    for hv in services.values():
        first = rollout(settings_from_vars(hv, cold_start, stop_typical, migration), replace_old=False)
        slowest_first = max(slowest_first, first.total_seconds)
    return {
        "inventory": str(inventory),
        "goal_rollout_seconds": GOAL_ROLLOUT_SECONDS,
        "assumptions": {"task_start": task_start, "stop_typical": stop_typical, "cold_task_start": cold_start,
                        "migration": migration},
        "rollouts": rollouts,
        "converge": {
            "typical_waits": waits,
            "first_rollout_seconds": slowest_first,
            "today": converge_timeline(waits, ANSIBLE_SEGMENTS, slowest_first, "platform"),
            "nat_wait_in_network": converge_timeline(waits, ANSIBLE_SEGMENTS, slowest_first, "network"),
        },
    }


def render(report: dict[str, Any]) -> str:
    lines = [f"Rollout of each service ({report['inventory']}), seconds of AWS-side waiting; goal < "
             f"{report['goal_rollout_seconds']} s", ""]
    lines.append(f"{'service':<10} {'tasks':>5} {'min/max %':>9} {'steps':>5}  {'phases (ours)':<62} "
                 f"{'ours':>6} {'typical':>7} {'AWS defaults':>12}  goal")
    for name, r in report["rollouts"].items():
        s, o, d = r["settings"], r["ours"], r["aws_defaults"]
        phases = " + ".join(f"{k} {v:g}" for k, v in o["phases"].items())
        goal = "met" if r["meets_goal_worst_case"] else ("met if SIGTERM exits" if r["meets_goal_typical"] else "NOT met")
        lines.append(f"{name:<10} {s['desired_count']:>5} {s['minimum_healthy_percent']:>4}/{s['maximum_percent']:<4} "
                     f"{o['steps']:>5}  {phases:<62} {o['total_seconds']:>6g} {o['total_typical_seconds']:>7g} "
                     f"{d['total_seconds']:>12g}  {goal}")
    c = report["converge"]
    lines += ["", "Fresh converge: typical long waits (s): "
              + ", ".join(f"{k} {v:g}" for k, v in c["typical_waits"].items())
              + f", first rollout {c['first_rollout_seconds']:g}"]
    for key in ("today", "nat_wait_in_network"):
        tl = c[key]
        label = "today (NAT wait before the ASG)" if key == "today" else "before (NAT wait in the network play)"
        lines.append(f"  {label}: total {tl['total_seconds']:g} s = {tl['total_over_slowest']}x the slowest "
                     f"({tl['slowest']['name']} {tl['slowest']['seconds']:g} s); serial sum of the waits "
                     f"{tl['serial_sum_of_waits']:g} s; Ansible {tl['ansible_seconds']:g} s; critical path "
                     f"{' -> '.join(tl['critical_path'])}")
        for name, w in tl["waits"].items():
            lines.append(f"      {name:<15} {w['start']:>7g} -> {w['end']:>7g}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", default="inventories/prod")
    parser.add_argument("--task-start", type=float, default=10.0,
                        help="seconds from placement to the process listening, image cached (default 10)")
    parser.add_argument("--cold-start", type=float, default=40.0,
                        help="the same with a cold image pull, for the first deployment (default 40)")
    parser.add_argument("--stop-typical", type=float, default=2.0,
                        help="seconds a process that handles SIGTERM takes to exit (default 2)")
    parser.add_argument("--migration", type=float, default=5.0,
                        help="seconds a migration task runs once started (default 5)")
    parser.add_argument("--durations", default="",
                        help="override typical waits, e.g. rds=900,nat_gateway=90 (keys: " + ", ".join(TYPICAL_WAITS) + ")")
    parser.add_argument("--json", action="store_true", help="print the model as JSON")
    args = parser.parse_args(argv)
    waits = {}
    for item in filter(None, args.durations.split(",")):
        key, _, value = item.partition("=")
        if key not in TYPICAL_WAITS:
            parser.error(f"--durations: unknown wait {key!r}")
        waits[key] = float(value)
    inventory = Path(args.inventory)
    if not inventory.is_absolute():
        inventory = ROOT / inventory
    report = model(inventory, args.task_start, args.stop_typical, args.cold_start, waits, args.migration)
    report["inventory"] = args.inventory
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
