"""ecsops.platform.scaling_drift: which target-tracking policies the service role must hand to
community.aws.application_autoscaling_policy. The current state is what moto's Application Auto Scaling returns
after the calls that module makes, read and shaped as ecs_deploy's read_autoscaling returns it."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))
from ansible_collections.ecsops.platform.plugins.filter.ecs_service import scaling_drift  # noqa: E402

RESOURCE = "service/ecsops-local/web"
PREFIX = "ecsops-local-web"
LABEL = "app/ecsops-local/0123/targetgroup/ecsops-local-web/4567"
POLICIES = [
    {"name": "cpu", "target": 70, "metric": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}},
    {"name": "memory", "target": "80", "metric": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}},
    {"name": "requests", "target": 500,
     "metric": {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": LABEL}},
]


def _client():
    """Application Auto Scaling, with the ECS service it scales (moto checks that it exists)."""
    ecs = boto3.client("ecs", region_name="eu-west-1")
    ecs.create_cluster(clusterName="ecsops-local")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "web:1", "memory": 64}])
    ecs.create_service(cluster="ecsops-local", serviceName="web", taskDefinition="web:1", desiredCount=2)
    return boto3.client("application-autoscaling", region_name="eu-west-1")


def _converge(client, minimum=2, maximum=6, out=60, scale_in=300) -> None:
    """RegisterScalableTarget and PutScalingPolicy as application_autoscaling_policy calls them."""
    client.register_scalable_target(ServiceNamespace="ecs", ResourceId=RESOURCE,
                                    ScalableDimension="ecs:service:DesiredCount", MinCapacity=minimum, MaxCapacity=maximum)
    for item in POLICIES:
        client.put_scaling_policy(
            PolicyName=f"{PREFIX}-{item['name']}", ServiceNamespace="ecs", ResourceId=RESOURCE,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(item["target"]), "PredefinedMetricSpecification": item["metric"],
                "ScaleOutCooldown": out, "ScaleInCooldown": scale_in})


def _read(client) -> dict:
    """The shape ecs_deploy's read_autoscaling returns."""
    targets = client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RESOURCE],
                                               ScalableDimension="ecs:service:DesiredCount")["ScalableTargets"]
    policies = client.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=RESOURCE,
                                                ScalableDimension="ecs:service:DesiredCount")["ScalingPolicies"]
    return {
        "scalable_target": ({"MinCapacity": targets[0]["MinCapacity"], "MaxCapacity": targets[0]["MaxCapacity"]}
                            if targets else None),
        "policies": [{k: p[k] for k in ("PolicyName", "PolicyType", "TargetTrackingScalingPolicyConfiguration",
                                        "StepScalingPolicyConfiguration") if k in p} for p in policies],
    }


def _drift(current, minimum=2, maximum=6, out=60, scale_in=300) -> list[str]:
    return [i["name"] for i in scaling_drift(POLICIES, current, PREFIX, minimum, maximum, out, scale_in)]


@mock_aws
def test_converged_policies_need_no_call_and_each_difference_is_noticed() -> None:
    client = _client()
    _converge(client)
    current = _read(client)
    assert _drift(current) == []
    assert _drift(current, minimum="2", maximum="6", out="60", scale_in="300") == [], "templated strings compare too"
    assert _drift(current, maximum=8) == ["cpu", "memory", "requests"], "a different scalable target: all"
    assert _drift(current, out=120) == ["cpu", "memory", "requests"]
    changed = [dict(p, target=75) if p["name"] == "cpu" else p for p in POLICIES]
    assert [i["name"] for i in scaling_drift(changed, current, PREFIX, 2, 6, 60, 300)] == ["cpu"]


@mock_aws
def test_changes_made_outside_ansible_are_noticed() -> None:
    client = _client()
    _converge(client)
    client.put_scaling_policy(
        PolicyName=f"{PREFIX}-memory", ServiceNamespace="ecs", ResourceId=RESOURCE,
        ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 80.0, "PredefinedMetricSpecification": POLICIES[1]["metric"],
            "ScaleOutCooldown": 60, "ScaleInCooldown": 300, "DisableScaleIn": True})
    client.delete_scaling_policy(PolicyName=f"{PREFIX}-requests", ServiceNamespace="ecs", ResourceId=RESOURCE,
                                 ScalableDimension="ecs:service:DesiredCount")
    assert _drift(_read(client)) == ["memory", "requests"]


@mock_aws
def test_unknown_or_missing_state_means_every_policy_with_the_module_arguments() -> None:
    client = _client()
    assert _drift(_read(client)) == ["cpu", "memory", "requests"], "no scalable target yet"
    items = scaling_drift(POLICIES, None, PREFIX, 2, 6, 60, 300)
    assert [i["policy_name"] for i in items] == [f"{PREFIX}-cpu", f"{PREFIX}-memory", f"{PREFIX}-requests"]
    assert items[1]["config"] == {"TargetValue": 80.0, "PredefinedMetricSpecification": POLICIES[1]["metric"],
                                  "ScaleOutCooldown": 60, "ScaleInCooldown": 300}
    assert _drift({}) == ["cpu", "memory", "requests"]
