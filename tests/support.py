"""Shared helpers of the playbook tests: run ansible-playbook against the emulator, read
moto's request recorder, talk to the emulator with boto3."""

from __future__ import annotations

import base64
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
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3

ROOT = Path(__file__).resolve().parent.parent
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
        return parse_recording(http("GET", f"{self.url}/moto-api/recorder/download-recording").decode())

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
        run.calls = emulator.recording()
    return run


def tagged_resources(emulator: Emulator, environment: str = "local") -> list[str]:
    """ARNs of everything tagged Environment=<environment> that the tagging API and the
    services without it know of (used to prove that nothing was created)."""
    found = []
    ec2 = emulator.client("ec2")
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": [environment]}])["Vpcs"]:
        found.append(vpc["VpcId"])
    for sg in ec2.describe_security_groups(Filters=[{"Name": "tag:Environment", "Values": [environment]}])["SecurityGroups"]:
        found.append(sg["GroupId"])
    found += [r["RoleName"] for r in emulator.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(f"ecsops-{environment}")]
    found += emulator.client("ecs").list_clusters()["clusterArns"]
    found += [g["logGroupName"] for g in emulator.client("logs").describe_log_groups()["logGroups"]]
    found += [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]]
    found += [d["DBInstanceIdentifier"] for d in emulator.client("rds").describe_db_instances()["DBInstances"]]
    found += [p["Name"] for p in emulator.client("ssm").describe_parameters()["Parameters"]]
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
