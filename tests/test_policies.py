"""Least privilege: every IAM document the project writes, for every inventory, and the deployer
policy pass parliament with no finding of medium severity or worse. No API call is made: the iam
role renders its documents (playbooks/iam_documents.yml)."""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest

from support import ROOT, VENV_BIN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament 1.6.4 imports pkg_resources
    from parliament import analyze_policy_string, enhance_finding

BLOCKING = {"MEDIUM", "HIGH", "CRITICAL"}
INVENTORIES = sorted({p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("inventories/**/hosts.yml")})


def findings(document: dict[str, Any]) -> list[str]:
    policy = analyze_policy_string(json.dumps(document))
    out = []
    for finding in policy.findings:
        enhance_finding(finding)
        if finding.severity in BLOCKING:
            out.append(f"{finding.severity} {finding.issue}: {finding.detail}")
    return out


@pytest.fixture(scope="module", params=INVENTORIES)
def documents(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("iam")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "playbooks/iam_documents.yml", "-i", request.param,
                           "-e", f"iam_documents_dir={out}"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                               "EMULATOR_PORT": "1", "HOME": str(Path.home())})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))}


def test_every_inventory_writes_the_expected_documents(documents: dict[str, dict[str, Any]]) -> None:
    assert {"trust-ecs-instance", "trust-ecs-tasks", "policy-ecs-execution-read-environment-secrets"} <= set(documents)


def test_identity_policies_pass_parliament(documents: dict[str, dict[str, Any]]) -> None:
    policies = {name: doc for name, doc in documents.items() if name.startswith("policy-")}
    assert policies
    for name, document in policies.items():
        assert findings(document) == [], name
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not ("*" in actions and statement.get("Resource") in ("*", ["*"])), name


def test_trust_policies_let_only_the_intended_service_assume(documents: dict[str, dict[str, Any]]) -> None:
    # parliament 1.6.4 analyses identity policies only (a trust policy has no Resource: it reports MALFORMED),
    # so the trust policies are checked here: one service principal, sts:AssumeRole only, and for
    # ecs-tasks the confused-deputy conditions on the account and the ECS source ARN.
    expected = {"trust-ecs-instance": "ec2.amazonaws.com", "trust-ecs-tasks": "ecs-tasks.amazonaws.com"}
    for name, service in expected.items():
        (statement,) = documents[name]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == "sts:AssumeRole"
    conditions = documents["trust-ecs-tasks"]["Statement"][0]["Condition"]
    assert set(conditions) == {"StringEquals", "ArnLike"}
    assert conditions["ArnLike"]["aws:SourceArn"].startswith("arn:aws:ecs:")


def test_deployer_policy_passes_parliament() -> None:
    document = json.loads((ROOT / "docs" / "deployer-policy.json").read_text())
    assert findings(document) == []
    for statement in document["Statement"]:
        assert not any(a.endswith(":*") or a == "*" for a in statement["Action"]), statement["Sid"]


def test_parliament_does_flag_a_bad_policy() -> None:
    """The check above can fail: an action on a resource it cannot apply to is a MEDIUM finding."""
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket-only"}]}
    assert findings(bad)
