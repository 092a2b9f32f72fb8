"""Shared helpers of the playbook tests: run ansible-playbook against the emulator, read
moto's request recorder, talk to the emulator with boto3."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "collections"))
import deployer_policy  # noqa: E402  (scripts/ is not a package)
from ansible_collections.ecsops.platform.plugins.module_utils.names import names  # noqa: E402  the naming contract

# The names of inventories/local (project ecsops, env local), from the contract the playbooks use.
LOCAL_NAMES = names("ecsops", "local", account_id="123456789012", services=["web", "worker"])

# IAM actions of every recorded run of the local inventory in this session, by kind of run
# (site, plan, deploy, rollback, teardown): what the deployer policy is checked against.
RECORDED_ACTIONS: dict[str, set[str]] = {}
VENV_BIN = Path(sys.executable).parent
REGION = "eu-west-1"
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Query", "Scan", "Search", "Lookup", "Batch Get", "Validate")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, payload: Any = None, timeout: float = 30) -> bytes:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return resp.read()


@dataclass
class Call:
    service: str
    action: str

    @property
    def mutating(self) -> bool:
        if self.service == "s3":
            return not self.action.startswith(("GET", "HEAD"))
        return not self.action.startswith(READ_PREFIXES) and self.action not in {"BatchGetImage"}


def parse_recording(text: str) -> list[Call]:
    calls = []
    for line in text.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
        auth = headers.get("authorization", "")
        m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
        service = m.group(1) if m else "?"
        target = headers.get("x-amz-target")
        if target:
            action = target.split(".")[-1]
        else:
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            params = parse_qs(body) if isinstance(body, str) else {}
            params.update(parse_qs(urlparse(entry.get("url", "")).query))
            if "Action" in params:
                action = params["Action"][0]
            elif service == "ecr" or service == "s3":
                action = f"{entry['method']} {urlparse(entry.get('url', '')).path}"
            else:
                action = f"{entry['method']} {urlparse(entry.get('url', '')).path}"
        calls.append(Call(service, action))
    return calls


@dataclass
class Emulator:
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "emulator", *args, "--port", str(self.port)],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)

    def reset(self) -> None:
        http("POST", f"{self.url}/moto-api/reset")
        self.reset_recording()

    def reset_recording(self) -> None:
        http("POST", f"{self.url}/moto-api/recorder/reset-recording")

    def recording(self) -> list[Call]:
        return parse_recording(self.recording_text())

    def recording_text(self) -> str:
        return http("GET", f"{self.url}/moto-api/recorder/download-recording").decode()

    def sim(self, **payload: Any) -> dict[str, Any]:
        if payload:
            return json.loads(http("POST", f"{self.url}/_emulator/sim", payload))
        return json.loads(http("GET", f"{self.url}/_emulator/sim"))

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106


@dataclass
class Run:
    rc: int
    output: str
    seconds: float
    calls: list[Call] = field(default_factory=list)
    recording: str = ""  # moto's recorder download (JSON lines) of the run

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        hosts = {}
        for m in re.finditer(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", self.output, re.M):
            hosts[m.group(1)] = {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(5))}
        return hosts

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    @property
    def mutating(self) -> list[Call]:
        return [c for c in self.calls if c.mutating]

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def playbook(emulator: Emulator, *args: str, inventory: str = "inventories/local", record: bool = True,
             extra_env: dict[str, str] | None = None, timeout: float = 900) -> Run:
    """Run ansible-playbook from the project root against the emulator; record its API calls."""
    env = dict(emulator.env)
    env.update(extra_env or {})
    if record:
        emulator.reset_recording()
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, *args]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    run = Run(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start)
    if record:
        run.recording = emulator.recording_text()
        run.calls = parse_recording(run.recording)
        if inventory == "inventories/local" and run.rc == 0:
            RECORDED_ACTIONS.setdefault(run_kind(args), set()).update(deployer_policy.actions_of_recording(run.recording))
    return run


def run_kind(args: tuple[str, ...]) -> str:
    if any("teardown" in a for a in args):
        return "teardown"
    if any("rollback" in a for a in args):
        return "rollback"
    if "--check" in args:
        return "plan"
    if "deploy" in args:
        return "deploy"
    return "site"


def tagged_resources(emulator: Emulator, environment: str = "local", project: str = "ecsops",
                     region: str = REGION) -> list[str]:
    """Everything of one environment that still exists (used to prove nothing was created, or that a
    teardown left nothing behind). Walks each service the playbooks write to, in one region (Route 53's
    hosted zones are global: those tagged with the environment are listed too)."""
    prefix = names(project, environment)["prefix"]
    env_filter = [{"Name": "tag:Environment", "Values": [environment]}]
    found: list[str] = []

    def client(service: str) -> Any:
        return emulator.client(service, region)

    ec2 = client("ec2")
    found += [v["VpcId"] for v in ec2.describe_vpcs(Filters=env_filter)["Vpcs"]]
    found += [s["SubnetId"] for s in ec2.describe_subnets(Filters=env_filter)["Subnets"]]
    found += [g["GroupId"] for g in ec2.describe_security_groups(Filters=env_filter)["SecurityGroups"]]
    found += [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=env_filter)["RouteTables"]]
    found += [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=env_filter)["InternetGateways"]]
    found += [n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filters=env_filter)["NatGateways"] if n["State"] != "deleted"]
    found += [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]]
    found += [t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"] if t["LaunchTemplateName"].startswith(prefix)]
    found += [i["InstanceId"] for r in ec2.describe_instances(Filters=env_filter + [
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"] for i in r["Instances"]]
    found += [g["AutoScalingGroupName"] for g in client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]]
    found += [r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)]
    found += [p["InstanceProfileName"] for p in client("iam").list_instance_profiles()["InstanceProfiles"]
              if p["InstanceProfileName"].startswith(prefix)]
    ecs = client("ecs")
    clusters = ecs.list_clusters()["clusterArns"]
    if clusters:
        found += [c["clusterArn"] for c in ecs.describe_clusters(clusters=clusters)["clusters"] if c["status"] == "ACTIVE"]
    # familyPrefix is a whole family name on AWS and moto: list them all and filter by the project's prefix.
    found += [a for page in ecs.get_paginator("list_task_definitions").paginate(status="ACTIVE")
              for a in page["taskDefinitionArns"] if a.split("/")[-1].startswith(prefix)]
    elb = client("elbv2")
    found += [lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
    found += [tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]]
    found += [t["ResourceId"] for t in client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]]
    found += [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]]
    found += [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    found += [r["repositoryName"] for r in client("ecr").describe_repositories()["repositories"]]
    found += [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]]
    rds = client("rds")
    found += [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    found += [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]]
    found += [g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
              if g["DBParameterGroupName"].startswith(prefix)]
    found += [p["Name"] for p in client("ssm").describe_parameters()["Parameters"] if not p["Name"].startswith("/aws/")]
    r53 = client("route53")
    for zone in r53.list_hosted_zones()["HostedZones"]:
        zone_id = zone["Id"].split("/")[-1]
        tags = {t["Key"]: t["Value"] for t in r53.list_tags_for_resource(
            ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"].get("Tags", [])}
        if tags.get("Environment") == environment and tags.get("Project") == project:
            found.append(f"hostedzone/{zone_id} {zone['Name']}")
    return found


def base_env(port: int, state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_"))}
    env.update(
        EMULATOR_PORT=str(port),
        EMULATOR_STATE_DIR=str(state_dir),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's dummy credentials)
        AWS_DEFAULT_REGION=REGION,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_DEPRECATION_WARNINGS="false",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    return env


@contextlib.contextmanager
def private_emulator(tmp_path_factory: Any, name: str, env: dict[str, str] | None = None,
                     reset: bool = False) -> Iterator[Emulator]:
    """An emulator of the test module's own (free port, own state dir), started and stopped around the block.

    env: extra environment for the emulator and the playbooks run against it (set before it starts);
    reset: start from an empty account (the state dir is new anyway; reset also clears what moto seeds)."""
    port = free_port()
    emu = Emulator(port, base_env(port, tmp_path_factory.mktemp(name)))
    emu.env.update(env or {})
    started = emu.cli("start")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        if reset:
            emu.reset()
        yield emu
    finally:
        emu.cli("stop")
