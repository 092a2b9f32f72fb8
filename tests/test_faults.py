"""Fault mode (emulator/faults.py): a converge under AWS throttling errors and 5xx answers succeeds through
retries and leaves nothing half-made that a re-run duplicates. Own emulator; the baseline is the session's
uninterrupted converge (read only)."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from inventory_counts import difference, duplicates, inventory
from support import Emulator, REGION, http, playbook, private_emulator

RATE = 0.08
SEED = 7


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with private_emulator(tmp_path_factory, "faults-emulator") as emulator:
        yield emulator


def faults(emu: Emulator, **settings: Any) -> dict[str, Any]:
    if settings:
        return json.loads(http("POST", f"{emu.url}/_emulator/faults", settings))
    return json.loads(http("GET", f"{emu.url}/_emulator/faults"))


def test_cli_switches_fault_mode(emu: Emulator) -> None:
    shown = emu.cli("faults", "--faults", "0.5", "--fault-seed", "3", "--fault-kinds", "throttle,503")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["rate"] == 0.5 and json.loads(shown.stdout)["kinds"] == ["throttle", "503"]
    bad = emu.cli("faults", "--fault-kinds", "slow")
    assert bad.returncode == 2 and "unknown fault kinds" in bad.stderr
    assert json.loads(emu.cli("faults", "--faults", "0").stdout)["enabled"] is False


def test_converge_survives_faults_and_a_rerun_changes_nothing(emu: Emulator, emulator: Emulator,
                                                               converged: dict[str, Any]) -> None:
    emu.reset()
    faults(emu, rate=RATE, seed=SEED, kinds=["throttle", "500", "503"], actions="", max_faults=None)
    first = playbook(emu, "site.yml")
    injected = faults(emu)
    faults(emu, rate=0)
    assert first.rc == 0, first.tail()
    # the faults really happened, of every kind, across services
    assert injected["faults"] >= 15, injected
    assert set(injected["by_kind"]) == {"throttle", "500", "503"}, injected["by_kind"]
    assert len({f["service"] for f in injected["injected"]}) >= 5
    assert any(f["action"].startswith("Create") for f in injected["injected"]), "no create call was faulted"

    # nothing was left half-made: a run without faults has nothing to do
    second = playbook(emu, "site.yml")
    assert second.rc == 0, second.tail()
    assert second.changed == 0, second.tail(80)
    assert second.mutating == [], second.mutating

    found = inventory(emu)
    assert duplicates(found) == {}
    assert found["vpcs"] and len(found["vpcs"]) == 1 and len(found["eips"]) == len(found["nat_gateways"]) == 1
    assert difference(found, inventory(emulator)) == {}, "differs from the uninterrupted converge"


def _client(emu: Emulator, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=emu.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing",  # noqa: S106 (moto's dummy credentials)
                        config=Config(retries={"mode": "standard", "max_attempts": 3}))


def test_faults_after_the_backend_show_which_creates_are_idempotent(emu: Emulator) -> None:
    """A 5xx on the response of a create that DID happen: botocore retries the call. APIs unique by name
    answer the retry with 'already exists' (the modules then look the resource up); CreateVpc has no name
    and no client token, so the retry makes a second VPC: the hazard documented in emulator/README.md."""
    emu.reset()

    def once(action: str) -> None:  # the next call of ``action`` runs, then answers 500; its retry runs clean
        faults(emu, rate=1.0, seed=1, kinds=["after"], actions=f"^{action}$", max_faults=1)

    try:
        ec2 = _client(emu, "ec2")
        once("CreateVpc")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        assert len(ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.9.0.0/16"]}])["Vpcs"]) == 2
        once("CreateSecurityGroup")
        with pytest.raises(ClientError, match="InvalidGroup.Duplicate"):
            ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)
        assert len(ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["g"]}])["SecurityGroups"]) == 1
        once("CreateLogGroup")
        with pytest.raises(ClientError, match="ResourceAlreadyExistsException"):
            _client(emu, "logs").create_log_group(logGroupName="/x")
        assert faults(emu)["by_kind"] == {"after": 1}
    finally:
        faults(emu, rate=0, actions="", max_faults=None)


# Each lookup a teardown makes before it deletes (one per layer): AccessDenied on it stops the teardown, rather than
# reading as "nothing to delete" and leaving the resource behind with a green run.
DENIED_LOOKUPS = {
    "DescribeLoadBalancers": "alb : Does the load balancer exist?",
    "DescribeDBInstances": "rds : Look up the database",
    "GetParametersByPath": "app_config : Find the SSM parameters",
    "DescribeVpcs": "security_groups : Look up the VPC",
}


@pytest.mark.parametrize("action", sorted(DENIED_LOOKUPS))
def test_teardown_stops_on_access_denied_to_a_lookup(emu: Emulator, action: str) -> None:
    emu.reset()
    faults(emu, rate=1.0, seed=1, kinds=["denied"], actions=f"^{action}$", max_faults=None)
    try:
        run = playbook(emu, "playbooks/teardown.yml", "-e", "confirm_teardown=local")
        injected = faults(emu)
    finally:
        faults(emu, rate=0, actions="", max_faults=None)
    assert injected["by_kind"].get("denied", 0) >= 1, injected
    assert {f["action"] for f in injected["injected"]} == {action}
    assert run.rc != 0, f"a teardown denied {action} passed\n{run.tail()}"
    failed = run.output.split("fatal: [account]", 1)[0].rsplit("TASK [", 1)[-1]
    assert failed.startswith(DENIED_LOOKUPS[action]), run.tail()
