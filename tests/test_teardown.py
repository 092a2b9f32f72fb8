"""Guarded teardown of the shared environment (runs after the tests that read or change it), then
the plan of an empty account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support import RECORDED_ACTIONS, ROOT, Emulator, playbook, tagged_resources


def test_platform_refuses_to_start_instances_without_a_nat_gateway(converged: dict[str, Any], emulator: Emulator) -> None:
    """The NAT wait sits in ecs_capacity, before the Auto Scaling group: without an available NAT gateway the
    private subnets have no way out, so it stops before the group (or a refresh) could start instances."""
    ec2 = emulator.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["ecsops-local"]}])["Vpcs"][0]["VpcId"]
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "state", "Values": ["available"]}])["NatGateways"]
    assert nats
    for nat in nats:
        ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
        for address in nat["NatGatewayAddresses"]:
            ec2.release_address(AllocationId=address["AllocationId"])
    run = playbook(emulator, "site.yml", "--tags", "platform")
    assert run.rc != 0
    assert "vpc_nat_mode: no available NAT gateway in the VPC" in run.output, run.tail()
    assert [c for c in run.mutating if c.service == "autoscaling"] == []
    # the network play puts it back, and the platform converges again
    assert playbook(emulator, "site.yml", "--tags", "network").rc == 0
    again = playbook(emulator, "site.yml", "--tags", "platform")
    assert again.rc == 0, again.tail()
    assert again.changed == 0, again.recap


def test_teardown_refuses_without_confirmation(converged: dict[str, Any], emulator: Emulator) -> None:
    for extra in ([], ["-e", "confirm_teardown=prod"]):
        run = playbook(emulator, "playbooks/teardown.yml", *extra)
        assert run.rc != 0
        assert "confirm_teardown" in run.output
        assert run.calls == [], "nothing is asked of AWS before the confirmation"
    assert tagged_resources(emulator), "the environment is still there"


@pytest.fixture(scope="module")
def torn_down(converged: dict[str, Any], emulator: Emulator) -> Any:
    # Protect every instance from scale-in first: the teardown must not hang on it.
    asg = emulator.client("autoscaling")
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["ecsops-local-ecs"])["AutoScalingGroups"][0]
    asg.set_instance_protection(AutoScalingGroupName="ecsops-local-ecs", ProtectedFromScaleIn=True,
                                InstanceIds=[i["InstanceId"] for i in group["Instances"]])
    # Protect the load balancer and the database from deletion too (prod's settings): a confirmed teardown lifts both.
    elb = emulator.client("elbv2")
    balancer = elb.describe_load_balancers(Names=["ecsops-local"])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.modify_load_balancer_attributes(LoadBalancerArn=balancer,
                                        Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
    emulator.client("rds").modify_db_instance(DBInstanceIdentifier="ecsops-local", DeletionProtection=True,
                                              ApplyImmediately=True)
    run = playbook(emulator, "playbooks/teardown.yml", "-e", "confirm_teardown=local", timeout=600)
    assert run.rc == 0, run.tail()
    return run


def test_teardown_leaves_nothing_of_the_environment(torn_down: Any, emulator: Emulator) -> None:
    assert tagged_resources(emulator) == []
    assert torn_down.seconds < 300


def test_second_teardown_is_a_no_op(torn_down: Any, emulator: Emulator) -> None:
    run = playbook(emulator, "playbooks/teardown.yml", "-e", "confirm_teardown=local")
    assert run.rc == 0, run.tail()
    assert run.changed == 0, run.recap
    assert run.mutating == []


def test_plan_on_an_empty_account_reports_changes_and_creates_nothing(torn_down: Any, emulator: Emulator) -> None:
    run = playbook(emulator, "site.yml", "--check", "--diff")
    assert run.rc == 0, run.tail()
    assert run.changed > 0
    assert run.mutating == [], run.mutating
    assert tagged_resources(emulator) == []


def test_deployer_policy_allows_exactly_what_the_runs_used(torn_down: Any) -> None:
    """docs/deployer-policy.json against the IAM actions of every run this session recorded: converge,
    re-run, plans, redeploys, rollback and teardown (tests/support.py collects them)."""
    import deployer_policy

    document = json.loads((ROOT / "docs" / "deployer-policy.json").read_text())
    allowed = deployer_policy.allowed_actions(document)
    used = set().union(*RECORDED_ACTIONS.values())
    assert used - allowed == set(), "calls the deployer policy does not allow"
    kinds = {"site", "plan", "deploy", "rollback", "teardown"}
    if not kinds <= set(RECORDED_ACTIONS):
        pytest.skip(f"only {sorted(RECORDED_ACTIONS)} ran in this session; unused actions need all of {sorted(kinds)}")
    # Beyond what the runs used, only the two documented lists: actions authorised without a call of their own
    # name, and update paths these runs do not take (each names the module that needs it).
    unused = allowed - used - set(deployer_policy.EXTRA_ACTIONS) - set(deployer_policy.CONDITIONAL_ACTIONS)
    assert unused == set(), "the deployer policy allows actions no run used and no list documents"
