"""Changes made outside Ansible are repaired by the next converge, although the no-change converge skips the
lookups that an earlier role of the same run already answered (vpc_network_ids, security_groups_ids,
alb_load_balancer, rds_database) and calls the Auto Scaling group, alarm and scaling-policy modules only on a
difference.

Runs on the shared converge after the tests that only read it (tests/conftest.py) and leaves it converged."""

from __future__ import annotations

import re
from typing import Any

from support import LOCAL_NAMES, Emulator, playbook

PREFIX = LOCAL_NAMES["prefix"]


def _skipped(output: str, task: str, host: str = "account") -> bool:
    """The task (its name up to the first parenthesis) ran in the run and was skipped on the host."""
    match = re.search(r"TASK \[" + re.escape(task) + r"[^\]\n]*\][^\n]*\n(.*?)(?=\nTASK \[|\nPLAY )", output, re.S)
    assert match, f"task {task!r} not in the run's output"
    return f"skipping: [{host}]" in match.group(1) and f"ok: [{host}]" not in match.group(1)


def test_no_change_converge_skips_the_lookups_earlier_roles_answered(converged: dict[str, Any]) -> None:
    output = converged["second"].output
    for task in ["security_groups : Look up the VPC",
                 "rds : Look up the VPC",
                 "rds : Look up the private subnets",
                 "rds : Look up the database security group",
                 "alb : Look up the VPC, the public subnets and the ALB security group",
                 "alb : Look up the ALB security group",
                 "ecs_capacity : Look up the private subnets, the instance security group and the current Auto Scaling group",
                 "ecs_capacity : Look up the instance security group",
                 "alarms : Look up the database",
                 "alarms : Look up the load balancer",
                 "alarms : Look up the target groups of the load balancer"]:
        assert _skipped(output, task), task
    # the web service's requests-per-target scaling reads the alb role's target group (another host's fact)
    assert _skipped(output, "service : Look up the target group", host="web")
    # and its policies, as ecs_deploy read them in the deploy play, all match: no policy module call
    assert _skipped(output, "service : Target tracking on CPU", host="web")


def _rds_sg(ec2: Any) -> dict[str, Any]:
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{PREFIX}-rds"]}])
    assert len(groups["SecurityGroups"]) == 1, groups
    return groups["SecurityGroups"][0]


def _route_table(ec2: Any, name: str) -> dict[str, Any]:
    [table] = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [name]}])["RouteTables"]
    return table


def _idle_timeout(elbv2: Any, arn: str) -> str:
    attrs = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return {a["Key"]: a["Value"] for a in attrs}["idle_timeout.timeout_seconds"]


def test_hand_made_drift_is_repaired_by_the_next_converge(converged: dict[str, Any], emulator: Emulator) -> None:
    ec2, elbv2 = emulator.client("ec2"), emulator.client("elbv2")
    asg, cloudwatch = emulator.client("autoscaling"), emulator.client("cloudwatch")

    rds_sg = _rds_sg(ec2)
    assert rds_sg["IpPermissions"], "the converge gave the database group its ingress rule"
    lb_arn = elbv2.describe_load_balancers(Names=[PREFIX])["LoadBalancers"][0]["LoadBalancerArn"]
    timeout = _idle_timeout(elbv2, lb_arn)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{PREFIX}-ecs"])["AutoScalingGroups"][0]
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=f"{PREFIX}-")["MetricAlarms"]
    assert alarms, "the converge made the environment's alarms"
    alarm = alarms[0]
    scaling = emulator.client("application-autoscaling")
    web = f"service/{PREFIX}/web"
    cpu = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=web,
                                            PolicyNames=[f"{PREFIX}-web-cpu"])["ScalingPolicies"]
    assert cpu, "the converge made web's CPU target-tracking policy"
    cpu_config = cpu[0]["TargetTrackingScalingPolicyConfiguration"]

    # By hand, outside Ansible: one change per layer whose lookups the no-change run skips or whose module it
    # calls only on a difference.
    ec2.revoke_security_group_ingress(GroupId=rds_sg["GroupId"], IpPermissions=rds_sg["IpPermissions"])
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": str(int(timeout) + 240)}])
    asg.update_auto_scaling_group(AutoScalingGroupName=group["AutoScalingGroupName"], MaxSize=group["MaxSize"] + 3)
    drifted = {k: v for k, v in alarm.items() if k in {
        "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "MetricName", "Namespace",
        "Statistic", "Dimensions", "Period", "EvaluationPeriods", "ComparisonOperator", "TreatMissingData"}}
    cloudwatch.put_metric_alarm(**drifted, Threshold=alarm["Threshold"] + 1000)
    scaling.put_scaling_policy(PolicyName=f"{PREFIX}-web-cpu", ServiceNamespace="ecs", ResourceId=web,
                               ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=dict(cpu_config, TargetValue=95.0))
    assert not _rds_sg(ec2)["IpPermissions"]
    # The route tables: the no-change run reads them once and calls ec2_vpc_route_table only for one that differs.
    public, private = _route_table(ec2, f"{PREFIX}-public"), _route_table(ec2, f"{PREFIX}-private-eu-west-1a")
    [association] = [a for a in private["Associations"] if not a.get("Main")]
    ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    ec2.create_route(RouteTableId=public["RouteTableId"], DestinationCidrBlock="192.0.2.0/24",
                     GatewayId=next(r["GatewayId"] for r in public["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"))

    repair = playbook(emulator, "site.yml")
    assert repair.rc == 0, repair.tail()
    assert repair.changed >= 5, repair.recap
    actions = {c.action for c in repair.mutating}
    assert {"AuthorizeSecurityGroupIngress", "ModifyLoadBalancerAttributes", "UpdateAutoScalingGroup",
            "PutMetricAlarm", "PutScalingPolicy", "AssociateRouteTable", "DeleteRoute"} <= actions, sorted(actions)
    assert [a["SubnetId"] for a in _route_table(ec2, f"{PREFIX}-private-eu-west-1a")["Associations"]
            if not a.get("Main")] == [association["SubnetId"]]
    assert "192.0.2.0/24" not in {r.get("DestinationCidrBlock") for r in _route_table(ec2, f"{PREFIX}-public")["Routes"]}

    assert _rds_sg(ec2)["IpPermissions"] == rds_sg["IpPermissions"]
    assert _idle_timeout(elbv2, lb_arn) == timeout
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{PREFIX}-ecs"])["AutoScalingGroups"][0][
        "MaxSize"] == group["MaxSize"]
    now = cloudwatch.describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"][0]
    assert now["Threshold"] == alarm["Threshold"]
    repaired = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=web,
                                                 PolicyNames=[f"{PREFIX}-web-cpu"])["ScalingPolicies"][0]
    assert repaired["TargetTrackingScalingPolicyConfiguration"] == cpu_config
