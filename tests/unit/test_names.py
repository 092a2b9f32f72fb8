"""The naming contract (collections/.../module_utils/names.py, `ecsops_names` in playbooks/vars/common.yml).

1. The contract gives the names the environments have always had (a rename here is a rename in AWS).
2. No role, playbook, template, script or collection plugin builds an AWS name itself: the scan fails on
   a name built from name_prefix / project_name / env_name outside the contract.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.ecsops.platform.plugins.module_utils.names import names

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "collections/ansible_collections/ecsops/platform/plugins/module_utils/names.py"

# Ways a name gets built by hand: the prefix, or project/env joined by '-' or '/', or a log-group path.
FORBIDDEN = [
    (re.compile(r"(?<![<\w])name_prefix(?![>\w])"), "name_prefix (use ecsops_names.<key>)"),
    (re.compile(r"ecsops_names\.prefix\s*(~\s*['\"][-/]|\}\}\s*[-/])"), "a name built from ecsops_names.prefix"),
    (re.compile(r"(\{\{\s*project_name\s*\}\}\s*[-/]|project_name\s*~\s*['\"][-/]|['\"]/['\"]\s*~\s*project_name)"),
     "a name built from project_name"),
    (re.compile(r"(\{\{\s*env_name\s*\}\}\s*[-/]|env_name\s*~\s*['\"][-/])"), "a name built from env_name"),
    (re.compile(r"['\"]/ecs/"), "a log group path (use ecsops_names.log_group_prefix or services[<svc>].log_group)"),
    (re.compile(r"\{(project|prefix)\}-|\{project\}/|/ecs/\{"), "a name built in Python (use names())"),
]


def offences(path: Path, text: str) -> list[str]:
    """`path:line: what` for each hand-built name in one file (comment lines are documentation, not code)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        for pattern, what in FORBIDDEN:
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT) if path.is_absolute() else path}:{number}: {what}: {stripped}")
    return found


def project_files() -> list[Path]:
    files = [p for p in (ROOT / "roles").rglob("*") if p.suffix in (".yml", ".j2", ".json") and p.parent.name != "meta"]
    files += [p for p in (ROOT / "playbooks").rglob("*.yml") if p != ROOT / "playbooks/vars/common.yml"]
    files += [ROOT / "site.yml", *(ROOT / "scripts").glob("*.py")]
    files += [p for p in (ROOT / "collections/ansible_collections/ecsops/platform/plugins").rglob("*.py") if p != CONTRACT]
    return sorted(files)


def test_no_name_is_built_outside_the_contract():
    found = [o for path in project_files() for o in offences(path, path.read_text())]
    assert found == [], "names built outside the naming contract:\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    'name: "{{ name_prefix }}-ecs"',
    "tags: \"{{ common_tags | combine({'Name': name_prefix ~ '-alb'}) }}\"",
    "name: \"{{ ecsops_names.prefix }}-extra\"",
    "x: \"{{ ecsops_names.prefix ~ '-extra' }}\"",
    'name: "{{ project_name }}/{{ item }}"',
    "p: \"{{ '/' ~ project_name ~ '/' ~ env_name }}\"",
    'log_group_name: "/ecs/foo/"',
    '    prefix = f"{project}-{env}"',
])
def test_the_scan_catches_a_hand_built_name(line):
    assert offences(Path("roles/x/tasks/main.yml"), line), line


@pytest.mark.parametrize("line", [
    'name: "{{ ecsops_names.capacity }}"',
    'description: "{{ ecsops_names.prefix }} load balancer"',
    "# The vpc role names each NAT gateway <name_prefix>-nat-<az>.",
    "fail_msg: env_name: must be 2-15 characters",
])
def test_the_scan_lets_contract_reads_through(line):
    assert offences(Path("roles/x/tasks/main.yml"), line) == []


def test_local_names_are_the_ones_the_environments_have():
    n = names("ecsops", "local", account_id="123456789012", services=["web", "worker"],
              azs=["eu-west-1a", "eu-west-1b"], engine_version="16.4", repositories=["web", 7])
    assert n["prefix"] == n["vpc"] == n["cluster"] == n["load_balancer"] == n["db_instance"] == "ecsops-local"
    assert n["capacity"] == "ecsops-local-ecs"
    assert (n["instance_role"], n["execution_role"]) == ("ecsops-local-ecs-instance", "ecsops-local-ecs-execution")
    assert n["instance_profile_arn"] == "arn:aws:iam::123456789012:instance-profile/ecsops-local-ecs-instance"
    assert n["security_groups"] == {"alb": "ecsops-local-alb", "instances": "ecsops-local-instances", "rds": "ecsops-local-rds"}
    assert n["subnets"]["private"]["eu-west-1b"] == "ecsops-local-private-eu-west-1b"
    assert n["nat_gateways"] == {"eu-west-1a": "ecsops-local-nat-eu-west-1a", "eu-west-1b": "ecsops-local-nat-eu-west-1b"}
    assert (n["public_route_table"], n["private_route_tables"]["eu-west-1a"]) == ("ecsops-local-public", "ecsops-local-private-eu-west-1a")
    assert n["services"]["web"] == {
        "service": "web", "family": "ecsops-local-web", "task_role": "ecsops-local-task-web",
        "target_group": "ecsops-local-web", "log_group": "/ecs/ecsops-local/web",
        "scalable_target": "service/ecsops-local/web", "scaling_policy_prefix": "ecsops-local-web",
        "alarm_prefix": "ecsops-local-web-"}
    assert n["task_roles"] == ["ecsops-local-task-web", "ecsops-local-task-worker"]
    assert re.match(n["role_pattern"], "ecsops-local-task-web") and not re.match(n["role_pattern"], "ecsops-localx-task-web")
    assert n["log_group_prefix"] == "/ecs/ecsops-local/"
    assert n["repositories"] == {"web": "ecsops/web", "7": "ecsops/7"}
    assert (n["db_parameter_group"], n["db_parameter_group_family"]) == ("ecsops-local-postgres16", "postgres16")
    assert n["db_final_snapshot"] == "ecsops-local-final"
    assert (n["ssm_prefix"], n["db_password_parameter"], n["secret_prefix"]) == (
        "/ecsops/local", "/ecsops/local/db/password", "ecsops/local")
    assert n["bucket"] == "ecsops-local-app-123456789012"
    assert n["alarms"]["rds_cpu"] == "ecsops-local-rds-cpu"
    assert n["target_group_alarm_format"] % "ecsops-local-web" == "ecsops-local-tg-ecsops-local-web-unhealthy"


def test_overrides_and_limits():
    assert names("p", "e", bucket="my-bucket")["bucket"] == "my-bucket"
    assert names("p", "e")["bucket"] == "" and names("p", "e")["instance_profile_arn"] == ""
    assert names("p", "e")["db_parameter_group"] == "p-e-postgres16"  # the rds role's default major version
    long = names("averylongproject", "staging", services=["background-worker"])["services"]["background-worker"]
    assert len(long["target_group"]) <= 32 and long["target_group"].startswith("averylongproject-staging-")
