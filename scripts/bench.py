#!/usr/bin/env python3
"""Performance benchmark of the playbooks against the embedded emulator (`make bench`).

Measures, each as the median of several runs with min and max, on its own emulator (a free port,
state under .bench/):

* first_converge   site.yml on an empty account (the emulator is reset before each run)
* no_change_linear site.yml again with ECSOPS_MITOGEN=0 (every play plain linear): the mitogen lever, side by side
* no_change        site.yml again: must make zero mutating API calls
* redeploy_one     site.yml --tags deploy --limit <service> -e image_tag=<new>
* redeploy_one_nowait  the same with service_wait=false: like for like with `ecs deploy --timeout -1`
* redeploy_all     site.yml --tags deploy -e image_tag=<new> (every host of `services`)
* ansible_floor    scripts/bench_floor.yml: one play, one AWS module task (aws_caller_info: 2 requests) on the redeploy's
                   service host, same inventory and ansible.cfg: the least any ansible-playbook run making one AWS
                   call costs here, the floor under redeploy_one_nowait
* ecs_deploy       `ecs deploy <cluster> <service> --image <container> <new> --timeout -1` (PyPI ecs-deploy,
                   from its own virtualenv .venv-bench built from requirements-bench.txt; skipped, with the
                   reason, when it cannot be installed or run)
* ecs_deploy_wait  the same with --timeout 300: it waits for the rollout, like redeploy_one
* revisions        the one-service redeploy's request count with 2 and with 20 ACTIVE revisions of the family
* replay           the no-change run's recorded requests replayed from one process with a plain HTTP client
                   against the same emulator state: the time the API calls themselves need
* first_converge_N, redeploy_all_N   the same inventory grown to N services (--scale, default 32; workers copied
                   from its first service without a load balancer, in .bench/inventory-N), on a reset emulator

For each it records the API requests made (total and mutating, from moto's request recorder) and the
tasks Ansible ran, writes a JSON report (.bench/report-<time>.json and .bench/latest.json) and prints a table
with the targets of issue 7. No timing is asserted: timings depend on the machine and its load.

    python scripts/bench.py                 # full: 3 repetitions, inventories/bench (8 services)
    python scripts/bench.py --quick         # CI: 1 repetition, inventories/local, no ecs-deploy, no scale rows
    python scripts/bench.py --repeat 5 --no-ecs-deploy --output /tmp/r.json
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from rollout_model import merge_vars  # noqa: E402
from support import Call, Emulator, base_env, free_port, parse_recording  # noqa: E402

BENCH_DIR = ROOT / ".bench"
BENCH_VENV = ROOT / ".venv-bench"
BENCH_REQUIREMENTS = ROOT / "requirements-bench.txt"
PROJECT = "ecsops"
IMAGE_REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecsops/app"
POLL_ACTIONS = {("ecs", "DescribeServices"), ("ecs", "DescribeTasks")}


# ------------------------------------------------------------------ measuring
def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, min and max of the runs' seconds and request counts."""
    seconds = [r["seconds"] for r in runs]
    requests = [r["requests"] for r in runs]
    mutating = [r["mutating"] for r in runs]
    return {
        "runs": runs,
        "median": round(statistics.median(seconds), 2),
        "min": round(min(seconds), 2),
        "max": round(max(seconds), 2),
        "requests": statistics.median(requests),
        "requests_min": min(requests),
        "requests_max": max(requests),
        "mutating": statistics.median(mutating),
        "mutating_max": max(mutating),
    }


def count_calls(calls: list[Call]) -> dict[str, Any]:
    by_action = collections.Counter(f"{c.service}:{c.action}" for c in calls)
    return {
        "requests": len(calls),
        "mutating": sum(1 for c in calls if c.mutating),
        "polls": sum(1 for c in calls if (c.service, c.action) in POLL_ACTIONS),
        "mutating_actions": sorted({f"{c.service}:{c.action}" for c in calls if c.mutating}),
        "by_action": dict(sorted(by_action.items())),
    }


def recap(output: str) -> dict[str, int]:
    """Sum of the PLAY RECAP counters over hosts (ok includes changed)."""
    import re

    total = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0}
    for m in re.finditer(r"^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)",
                         output, re.M):
        total["ok"] += int(m.group(1))
        total["changed"] += int(m.group(2))
        total["failed"] += int(m.group(3))
        total["skipped"] += int(m.group(4))
    return total


# The account-host plays run ecsops.platform.mitogen_linear; this switches it off (plain linear) for a side-by-side row.
LINEAR_ENV = {"ECSOPS_MITOGEN": "0"}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.inventory = args.inventory
        self.env_name = args.env_name
        self.cluster = f"{PROJECT}-{self.env_name}"
        self.port = args.port or free_port()
        self.state_dir = BENCH_DIR / f"emulator-{self.port}"
        self.emulator = Emulator(self.port, base_env(self.port, self.state_dir))
        self.log_dir = BENCH_DIR / "logs" / str(self.port)
        self.counter = 0
        self.services: list[str] = list(getattr(args, "services", []))

    # -- emulator
    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        started = self.emulator.cli("start")
        if started.returncode != 0:
            raise SystemExit(f"bench: emulator did not start on port {self.port}: {started.stdout}{started.stderr}")

    def stop(self) -> None:
        self.emulator.cli("stop")
        shutil.rmtree(self.state_dir, ignore_errors=True)  # the recording; the logs stay in .bench/logs

    # -- one measured command
    def run(self, label: str, cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
        self.counter += 1
        run_env = dict(self.emulator.env)
        run_env.update(env or {})
        self.emulator.reset_recording()
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=1800)
        seconds = time.monotonic() - start
        calls = self.emulator.recording()
        log = self.log_dir / f"{self.counter:03d}-{label}.log"
        log.write_text(" ".join(cmd) + "\n\n" + proc.stdout + proc.stderr)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
            raise RuntimeError(f"{label} failed (rc {proc.returncode}, log {log}):\n{tail}")
        result = {"seconds": round(seconds, 2), **count_calls(calls), "tasks": recap(proc.stdout), "log": str(log)}
        if not self.args.keep_by_action:
            result.pop("by_action")
        print(f"  {label:<16} {seconds:7.1f} s  {result['requests']:5d} requests  {result['mutating']:4d} mutating",
              flush=True)
        return result

    def playbook(self, label: str, *args: str, env: dict[str, str] | None = None,
                 inventory: str | None = None) -> dict[str, Any]:
        return self.run(label, [str(ROOT / ".venv/bin/ansible-playbook"), "-i", inventory or self.inventory,
                                "site.yml", *args], env=env)

    def tag(self, what: str) -> str:
        return f"bench-{what}-{int(time.time() * 1000) % 10**9}"

    # -- scenarios
    def first_converge(self) -> dict[str, Any]:
        runs = []
        for _ in range(self.args.repeat):
            self.emulator.reset()
            runs.append(self.playbook("first_converge"))
        return summarise(runs)

    def no_change(self, env: dict[str, str] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        label = "no_change_linear" if env else "no_change"
        runs = []
        for _ in range(self.args.repeat):
            runs.append(self.playbook(label, env=env))
        raw = self._raw_recording()
        return summarise(runs), raw

    def redeploy_one(self) -> dict[str, Any]:
        runs = []
        for _ in range(self.args.repeat):
            tag = self.tag("one")
            runs.append(self.playbook("redeploy_one", "--tags", "deploy", "--limit", self.args.service,
                                      "-e", f"image_tag={tag}"))
            self.check_image(self.args.service, tag)
        return summarise(runs)

    def redeploy_one_nowait(self) -> dict[str, Any]:
        """The same change as `ecs deploy --timeout -1`: registered and rolled, not waited for (service_wait=false);
        the emulator's simulated rollout (EMULATOR_ROLLOUT_SECONDS, 0.5 s, polled every service_wait_delay) is then
        not part of the time, as it is not part of ecs deploy's."""
        runs = []
        for _ in range(self.args.repeat):
            tag = self.tag("nowait")
            runs.append(self.playbook("redeploy_nowait", "--tags", "deploy", "--limit", self.args.service,
                                      "-e", f"image_tag={tag}", "-e", '{"service_wait": false}'))
            self.check_image(self.args.service, tag)
        return summarise(runs)

    def ansible_floor(self) -> dict[str, Any]:
        """ansible-playbook's own floor on this machine: start, inventory, one play and one plain module process
        that makes two requests (scripts/bench_floor.yml). A redeploy by ansible-playbook cannot take less."""
        cmd = [str(ROOT / ".venv/bin/ansible-playbook"), "-i", self.inventory, "scripts/bench_floor.yml",
               "-e", f"bench_floor_host={self.args.service}"]
        return summarise([self.run("ansible_floor", cmd) for _ in range(self.args.repeat)])

    def redeploy_all(self, inventory: str | None = None, services: list[str] | None = None,
                     label: str = "redeploy_all") -> dict[str, Any]:
        runs = []
        for _ in range(self.args.repeat):
            tag = self.tag("all")
            runs.append(self.playbook(label, "--tags", "deploy", "-e", f"image_tag={tag}", inventory=inventory))
            for service in services or self.services:
                self.check_image(service, tag)
        return summarise(runs)

    def scaled(self, count: int) -> dict[str, dict[str, Any]]:
        """The inventory grown to `count` services on a reset emulator: one first converge, then the redeploy of
        all of them (repeated)."""
        inventory, services = scale_inventory(self.inventory, count)
        self.emulator.reset()
        first = summarise([self.playbook(f"first_converge_{count}", inventory=inventory)])
        return {f"first_converge_{count}": first,
                f"redeploy_all_{count}": self.redeploy_all(inventory, services, f"redeploy_all_{count}")}

    def check_image(self, service: str, tag: str) -> None:
        """The redeploy really put this run's image tag in place (not only returned 0)."""
        ecs = self.emulator.client("ecs")
        svc = ecs.describe_services(cluster=self.cluster, services=[service])["services"][0]
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        images = [c["image"] for c in td["containerDefinitions"]]
        if not any(i.endswith(f":{tag}") for i in images):
            raise RuntimeError(f"redeploy of {service} to {tag} left images {images}")

    def ecs_deploy(self, timeout: int = -1) -> dict[str, Any]:
        """`ecs deploy` of the same image change: --timeout -1 does not wait; a positive timeout waits for the
        rollout on the emulator's simulated scheduler, as redeploy_one does."""
        ecs_bin = ensure_bench_venv()
        if isinstance(ecs_bin, str) and not ecs_bin.startswith("/"):
            return {"skipped": ecs_bin}
        container = self.service_containers(self.args.service)[0]
        env = {"AWS_ENDPOINT_URL": self.emulator.url, "AWS_DEFAULT_REGION": "eu-west-1",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # noqa: S106 (moto's dummy keys)
        runs = []
        try:
            for _ in range(self.args.repeat):
                tag = self.tag("ecsdeploy")
                label = "ecs_deploy" if timeout < 0 else "ecs_deploy_wait"
                runs.append(self.run(label, [ecs_bin, "deploy", self.cluster, self.args.service, "--image",
                                             container, f"{IMAGE_REPO}:{tag}", "--timeout", str(timeout)], env))
                self.check_image(self.args.service, tag)
        except RuntimeError as exc:
            return {"skipped": f"ecs deploy failed against the emulator: {exc}"}
        return summarise(runs)

    def service_containers(self, service: str) -> list[str]:
        ecs = self.emulator.client("ecs")
        svc = ecs.describe_services(cluster=self.cluster, services=[service])["services"][0]
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        return [c["name"] for c in td["containerDefinitions"]]

    def set_revisions(self, service: str, count: int) -> None:
        """Make the family hold exactly `count` ACTIVE revisions (copies of the running one)."""
        ecs = self.emulator.client("ecs")
        family = f"{self.cluster}-{service}"
        running = ecs.describe_services(cluster=self.cluster, services=[service])["services"][0]["taskDefinition"]
        active = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="ASC")["taskDefinitionArns"]
        for arn in [a for a in active if a != running][: max(0, len(active) - count)]:
            ecs.deregister_task_definition(taskDefinition=arn)
        td = ecs.describe_task_definition(taskDefinition=running)["taskDefinition"]
        keys = ("containerDefinitions", "networkMode", "requiresCompatibilities", "executionRoleArn", "taskRoleArn",
                "cpu", "memory", "volumes")
        spec = {k: td[k] for k in keys if td.get(k)}
        active = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
        for _ in range(count - len(active)):
            ecs.register_task_definition(family=family, **spec)
        active = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
        if len(active) != count:
            raise RuntimeError(f"could not set {family} to {count} revisions (has {len(active)})")

    def revisions(self) -> dict[str, Any]:
        """The redeploy's request count with few and with many revisions kept (keep_revisions above both, so
        nothing is deregistered and only the number of revisions differs)."""
        result: dict[str, Any] = {"service": self.args.service, "keep_revisions": 50}
        for count in self.args.revision_counts:
            runs = []
            for _ in range(self.args.repeat):
                self.set_revisions(self.args.service, count)
                run = self.playbook(f"revisions_{count}", "--tags", "deploy", "--limit", self.args.service,
                                    "-e", f"image_tag={self.tag('rev')}", "-e", '{"service_keep_revisions": 50}')
                run["requests_without_polls"] = run["requests"] - run["polls"]
                runs.append(run)
            summary = summarise(runs)
            summary["requests_without_polls"] = statistics.median(r["requests_without_polls"] for r in runs)
            result[str(count)] = summary
        low, high = (result[str(c)] for c in (self.args.revision_counts[0], self.args.revision_counts[-1]))
        result["grows"] = high["requests_without_polls"] > low["requests_without_polls"]
        return result

    def _raw_recording(self) -> list[dict[str, Any]]:
        from support import http

        text = http("GET", f"{self.emulator.url}/moto-api/recorder/download-recording").decode()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def replay(self, entries: list[dict[str, Any]], wall: float) -> dict[str, Any]:
        from support import http

        http("POST", f"{self.emulator.url}/moto-api/recorder/stop-recording")
        try:
            times = [replay_requests(entries, self.emulator.url) for _ in range(self.args.repeat)]
        finally:
            http("POST", f"{self.emulator.url}/moto-api/recorder/start-recording")
        replayed = times[0]["replayed"]
        seconds = statistics.median(t["seconds"] for t in times)
        return {
            "requests": len(entries),
            "replayed": replayed,
            "skipped_mutating": times[0]["skipped_mutating"],
            "errors": times[0]["errors"],
            "median": round(seconds, 3),
            "min": round(min(t["seconds"] for t in times), 3),
            "max": round(max(t["seconds"] for t in times), 3),
            "no_change_median": wall,
            "ratio": round(wall / seconds, 1) if seconds else None,
        }


def scale_inventory(source: str, count: int) -> tuple[str, list[str]]:
    """.bench/inventory-<count>: `source` (its group_vars and host_vars) with services added up to `count`, each a
    copy of the first service of `source` that has no load balancer (its container and queue renamed), and an Auto
    Scaling group large enough to hold them. Returns the inventory path (relative to the project) and its services."""
    import yaml

    src = ROOT / source
    hosts = yaml.safe_load((src / "hosts.yml").read_text())
    services = list(hosts["all"]["children"]["services"]["hosts"])
    if count < len(services):
        raise SystemExit(f"bench: --scale {count} is below the {len(services)} services of {source}")
    # host_vars/<name>.yml, or host_vars/<name>/*.yml (the shared definition linked in, plus the numbers)
    template_name = next(n for n in services if "service_load_balancer" not in merge_vars(src / "host_vars" / n))
    template = merge_vars(src / "host_vars" / template_name)
    dest = BENCH_DIR / f"inventory-{count}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    added = [f"job{i:02d}" for i in range(1, count - len(services) + 1)]
    for name in added:
        spec = json.loads(json.dumps(template))
        container = spec["service_containers"][0]
        container["name"] = name
        container.setdefault("environment", {})["WORKER_QUEUE"] = name
        (dest / "host_vars" / f"{name}.yml").write_text("---\n" + yaml.safe_dump(spec, sort_keys=False))
    hosts["all"]["children"]["services"]["hosts"] = {n: {} for n in services + added}
    (dest / "hosts.yml").write_text("---\n" + yaml.safe_dump(hosts, sort_keys=False))
    instances = max(2, -(-count // 8))  # about 8 small services per t3.small
    (dest / "group_vars" / "all" / "zz_scale.yml").write_text(
        f"---\necs_capacity_desired_capacity: {instances}\necs_capacity_max_size: {instances + 1}\n")
    return str(dest.relative_to(ROOT)), services + added


# ------------------------------------------------------------------ replay
def replay_requests(entries: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """Send the recorded requests again, in order, over one keep-alive connection. Mutating ones are skipped
    (a no-change run has none), so the replay does not change the emulator's state."""
    target = urlsplit(base_url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    calls = parse_recording("\n".join(json.dumps(e) for e in entries))
    replayed = skipped = errors = 0
    start = time.monotonic()
    for entry, call in zip(entries, calls, strict=True):
        if call.mutating:
            skipped += 1
            continue
        url = urlsplit(entry["url"])
        path = url.path + (f"?{url.query}" if url.query else "")
        body: bytes | None = None
        if entry.get("body"):
            import base64

            body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else entry["body"].encode()
        headers = {k: v for k, v in entry["headers"].items() if k.lower() not in ("content-length", "host")}
        for attempt in (1, 2):
            try:
                conn.request(entry["method"], path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                if attempt == 2:
                    raise
        replayed += 1
        if resp.status >= 500:
            errors += 1
    seconds = time.monotonic() - start
    conn.close()
    return {"seconds": seconds, "replayed": replayed, "skipped_mutating": skipped, "errors": errors}


# ------------------------------------------------------------------ ecs-deploy
def ensure_bench_venv() -> str:
    """Path of the `ecs` command in .venv-bench (built from requirements-bench.txt on demand), or the
    reason it is not available (a string not starting with /)."""
    ecs_bin = BENCH_VENV / "bin" / "ecs"
    if ecs_bin.exists():
        return str(ecs_bin)
    if not BENCH_REQUIREMENTS.exists():
        return f"{BENCH_REQUIREMENTS.name} is missing"
    print(f"bench: building {BENCH_VENV.name} from {BENCH_REQUIREMENTS.name} (ecs-deploy, its own boto3/click)",
          flush=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(BENCH_VENV)
        proc = subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                               "-r", str(BENCH_REQUIREMENTS)], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not build {BENCH_VENV.name}: {exc}"
    if proc.returncode != 0 or not ecs_bin.exists():
        return f"pip could not install ecs-deploy into {BENCH_VENV.name}: {proc.stderr.strip()[-300:]}"
    return str(ecs_bin)


# ------------------------------------------------------------------ report
def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    s = report["scenarios"]
    out = []
    nc = s["no_change"]
    out.append({"target": "no-change re-run makes zero mutating API calls", "value": nc["mutating_max"],
                "limit": 0, "met": nc["mutating_max"] == 0})
    ed = s.get("ecs_deploy", {})
    # Ours as ops run it (waiting for the rollout), and like for like (not waiting, as `ecs deploy --timeout -1`).
    for key, label in (("redeploy_one", "waiting for the rollout"), ("redeploy_one_nowait", "not waiting, like it")):
        if key not in s:
            continue
        target = f"one-service redeploy ({label}) <= 3x `ecs deploy` (no wait)"
        if "median" in ed:
            ratio = round(s[key]["median"] / ed["median"], 2)
            out.append({"target": target, "value": ratio, "limit": 3, "met": ratio <= 3})
        else:
            out.append({"target": target, "value": None, "limit": 3, "met": None,
                        "note": ed.get("skipped", "not measured")})
    wait = s.get("ecs_deploy_wait", {})
    if "median" in wait and "redeploy_one" in s:
        out.append({"target": "one-service redeploy, both waiting: ours / `ecs deploy --timeout 300` (reported)",
                    "value": round(s["redeploy_one"]["median"] / wait["median"], 2), "limit": None, "met": None})
    ratio = round(s["redeploy_all"]["median"] / s["redeploy_one"]["median"], 2)
    out.append({"target": f"redeploy of all {report['meta']['services']} services <= 2x one", "value": ratio,
                "limit": 2, "met": ratio <= 2})
    for name in [n for n in s if n.startswith("redeploy_all_") and "median" in s[n]]:
        out.append({"target": f"redeploy of all {name.rsplit('_', 1)[1]} services / one (reported)",
                    "value": round(s[name]["median"] / s["redeploy_one"]["median"], 2), "limit": None, "met": None})
    rv = s.get("revisions")
    if rv and "grows" in rv:
        counts = report["meta"]["revision_counts"]
        low, high = rv[str(counts[0])], rv[str(counts[-1])]
        out.append({"target": f"redeploy requests do not grow with revisions ({counts[0]} vs {counts[-1]})",
                    "value": f"{low['requests_without_polls']} vs {high['requests_without_polls']} (+ DescribeServices "
                             f"{low['requests'] - low['requests_without_polls']} vs "
                             f"{high['requests'] - high['requests_without_polls']})",
                    "limit": "equal", "met": not rv["grows"]})
    rp = s.get("replay")
    if rp:
        out.append({"target": "no-change wall time <= 10x the replay of its own requests",
                    "value": rp["ratio"], "limit": 10, "met": rp["ratio"] <= 10})
    lin = s.get("no_change_linear")
    if lin and "median" in lin:
        out.append({"target": "no-change with mitogen / without (ECSOPS_MITOGEN=0) (reported)",
                    "value": round(nc["median"] / lin["median"], 2), "limit": None, "met": None})
    # The floor under the one-service target: ansible-playbook with one module task, against `ecs deploy` (above 3
    # means no ansible-playbook redeploy can meet that target on this machine) and against our redeploy.
    floor = s.get("ansible_floor", {})
    if "median" in floor:
        if "median" in ed:
            out.append({"target": "ansible-playbook floor (one module task) / `ecs deploy` (no wait) (reported)",
                        "value": round(floor["median"] / ed["median"], 2), "limit": None, "met": None})
        if "redeploy_one_nowait" in s:
            out.append({"target": "one-service redeploy (not waiting) / ansible-playbook floor (reported)",
                        "value": round(s["redeploy_one_nowait"]["median"] / floor["median"], 2), "limit": None,
                        "met": None})
    return out


def table(report: dict[str, Any]) -> str:
    lines = [f"{'scenario':<20} {'median s':>9} {'min':>7} {'max':>7} {'requests':>9} {'mutating':>9} {'tasks ok':>9}",
             "-" * 76]
    for name, s in report["scenarios"].items():
        if name in ("revisions", "replay"):
            continue
        if "skipped" in s:
            lines.append(f"{name:<20} skipped: {s['skipped']}")
            continue
        tasks = statistics.median(r["tasks"]["ok"] for r in s["runs"])
        lines.append(f"{name:<20} {s['median']:9.1f} {s['min']:7.1f} {s['max']:7.1f} {s['requests']:9g} "
                     f"{s['mutating']:9g} {tasks:9g}")
    rv = report["scenarios"].get("revisions")
    if rv:
        for count in report["meta"]["revision_counts"]:
            r = rv[str(count)]
            lines.append(f"{'revisions=' + str(count):<20} {r['median']:9.1f} {r['min']:7.1f} {r['max']:7.1f} "
                         f"{r['requests']:9g} {r['mutating']:9g}   ({r['requests_without_polls']:g} besides ecs:DescribeServices)")
    rp = report["scenarios"].get("replay")
    if rp:
        lines.append(f"{'replay':<20} {rp['median']:9.2f} {rp['min']:7.2f} {rp['max']:7.2f} {rp['replayed']:9d} "
                     f"{0:9d}   (no_change {rp['no_change_median']:.1f} s = {rp['ratio']}x replay)")
    lines.append("")
    for t in report["targets"]:
        verdict = {True: "MET", False: "NOT MET", None: "reported"}[t["met"]]
        note = f" ({t['note']})" if t.get("note") else ""
        lines.append(f"{verdict:<9} {t['target']}: {t['value']}{note}")
    return "\n".join(lines)


def meta(args: argparse.Namespace, services: list[str]) -> dict[str, Any]:
    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "repeat": args.repeat,
        "inventory": args.inventory,
        "services": len(services),
        "service_names": services,
        "redeploy_service": args.service,
        "revision_counts": args.revision_counts,
        "scale": args.scale,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "git_commit": version(["git", "rev-parse", "--short", "HEAD"]),
        "note": "wall times depend on the machine and on its load; the request counts do not (except the "
                "rollout polls, which depend on time)",
    }


def inventory_services(inventory: str) -> list[str]:
    out = subprocess.run([str(ROOT / ".venv/bin/ansible-inventory"), "-i", inventory, "--list"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")})
    data = json.loads(out.stdout)
    return data.get("services", {}).get("hosts", [])


def inventory_env_name(inventory: str) -> str:
    import yaml

    env_file = ROOT / inventory / "group_vars" / "all" / "env.yml"
    return str(yaml.safe_load(env_file.read_text())["env_name"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="CI mode: 1 repetition, inventories/local, no revisions comparison (unless --revisions), "
                             "no ecs-deploy")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions of each scenario (default 3; quick 1)")
    parser.add_argument("--inventory", default=None, help="default inventories/bench (quick: inventories/local)")
    parser.add_argument("--service", default="worker", help="the service of the one-service redeploy (default worker)")
    parser.add_argument("--revisions", default=None,
                        help="two revision counts to compare, e.g. 2,20 (default; quick: none unless given)")
    parser.add_argument("--no-ecs-deploy", action="store_true", help="skip the ecs-deploy comparison")
    parser.add_argument("--scale", type=int, default=None,
                        help="services of the grown inventory's rows (default 32; quick: none unless given; 0: none)")
    parser.add_argument("--port", type=int, default=None, help="port of the bench's own emulator (default: a free one)")
    parser.add_argument("--output", default=None, help="JSON report path (default .bench/report-<time>.json)")
    parser.add_argument("--keep-by-action", action="store_true", help="keep per-action request counts of every run")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.inventory = args.inventory or ("inventories/local" if args.quick else "inventories/bench")
    revisions = args.revisions or ("" if args.quick else "2,20")
    args.revision_counts = [int(x) for x in revisions.split(",")] if revisions else []
    if args.quick:
        args.no_ecs_deploy = True
    args.scale = (0 if args.quick else 32) if args.scale is None else args.scale
    if args.repeat < 1 or (args.revision_counts and (len(args.revision_counts) != 2 or min(args.revision_counts) < 1)):
        parser.error("--repeat must be >= 1 and --revisions two positive counts")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    services = inventory_services(args.inventory)
    if args.service not in services:
        raise SystemExit(f"bench: --service {args.service} is not a host of group services in {args.inventory}")
    args.env_name = inventory_env_name(args.inventory)
    args.services = services

    bench = Bench(args)
    report: dict[str, Any] = {"meta": meta(args, services), "scenarios": {}}
    print(f"bench: {args.inventory} ({len(services)} services), {args.repeat} repetition(s), "
          f"emulator on port {bench.port}", flush=True)
    bench.start()
    try:
        s = report["scenarios"]
        s["first_converge"] = bench.first_converge()
        s["no_change_linear"], _ = bench.no_change(LINEAR_ENV)
        s["no_change"], raw = bench.no_change()  # the last recording is this one's: the replay's requests
        s["redeploy_one"] = bench.redeploy_one()
        s["redeploy_one_nowait"] = bench.redeploy_one_nowait()
        s["redeploy_all"] = bench.redeploy_all()
        s["ansible_floor"] = bench.ansible_floor()
        s["ecs_deploy"] = {"skipped": "--quick or --no-ecs-deploy"} if args.no_ecs_deploy else bench.ecs_deploy()
        if not args.no_ecs_deploy and "median" in s["ecs_deploy"]:
            s["ecs_deploy_wait"] = bench.ecs_deploy(timeout=300)
        if args.revision_counts:
            s["revisions"] = bench.revisions()
        s["replay"] = bench.replay(raw, s["no_change"]["median"])
        if args.scale:
            s.update(bench.scaled(args.scale))  # resets the emulator: last
    finally:
        bench.stop()
    report["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["targets"] = targets(report)
    BENCH_DIR.mkdir(exist_ok=True)
    output = Path(args.output) if args.output else BENCH_DIR / f"report-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    text = json.dumps(report, indent=2, sort_keys=False)
    output.write_text(text)
    (BENCH_DIR / "latest.json").write_text(text)
    print()
    print(table(report))
    print(f"\nreport: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
