from __future__ import annotations

import pytest

from ansible_collections.ecsops.platform.plugins.modules import ecs_capacity_provider as mod

ASG = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1111:autoScalingGroupName/app"
OTHER_ASG = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:2222:autoScalingGroupName/other"


def base_args(**extra):
    args = dict(
        name="app-cp",
        auto_scaling_group_arn=ASG,
        managed_scaling=dict(
            status="ENABLED", target_capacity=90, minimum_scaling_step_size=1, maximum_scaling_step_size=4
        ),
        managed_termination_protection=False,
        managed_draining=True,
        tags={"env": "test"},
    )
    args.update(extra)
    return args


def describe(aws):
    providers = aws.ecs.describe_capacity_providers(capacityProviders=["app-cp"], include=["TAGS"])["capacityProviders"]
    return providers[0] if providers else None


def test_create_then_idempotent(aws):
    result = aws.run(mod, base_args())
    assert result["changed"] is True, result
    cp = result["capacity_provider"]
    assert cp["name"] == "app-cp"
    asg = cp["auto_scaling_group_provider"]
    assert asg["auto_scaling_group_arn"] == ASG
    assert asg["managed_scaling"]["target_capacity"] == 90
    assert asg["managed_scaling"]["maximum_scaling_step_size"] == 4
    assert asg["managed_termination_protection"] == "DISABLED"
    assert asg["managed_draining"] == "ENABLED"
    assert cp["tags"] == {"env": "test"}
    assert aws.mutating() == ["CreateCapacityProvider"]

    aws.reset()
    again = aws.run(mod, base_args())
    assert again["changed"] is False, again
    assert aws.mutating() == []


def test_update_changes_only_what_differs(aws):
    aws.run(mod, base_args())
    aws.reset()
    result = aws.run(mod, base_args(managed_scaling=dict(target_capacity=75)), diff=True)
    assert result["changed"] is True
    assert result["updated_fields"] == ["managedScaling.targetCapacity"]
    assert aws.mutating() == ["UpdateCapacityProvider"]
    sent = aws.params("UpdateCapacityProvider")[0]["autoScalingGroupProvider"]["managedScaling"]
    # unspecified settings are carried over, not reset to defaults
    assert sent["maximumScalingStepSize"] == 4 and sent["status"] == "ENABLED" and sent["targetCapacity"] == 75
    assert describe(aws)["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 75
    assert result["diff"]["before"]["managed_scaling"]["targetCapacity"] == 90
    assert result["diff"]["after"]["managed_scaling"]["targetCapacity"] == 75


def test_tags_update_and_purge(aws):
    aws.run(mod, base_args())
    aws.reset()
    result = aws.run(mod, base_args(tags={"team": "ops"}))
    assert result["changed"] is True
    assert sorted(aws.mutating()) == ["TagResource", "UntagResource"]
    assert result["capacity_provider"]["tags"] == {"team": "ops"}
    aws.reset()
    result = aws.run(mod, base_args(tags={"extra": "1"}, purge_tags=False))
    assert aws.mutating() == ["TagResource"]
    assert result["capacity_provider"]["tags"] == {"team": "ops", "extra": "1"}


def test_asg_arn_cannot_change(aws):
    aws.run(mod, base_args())
    result = aws.run(mod, base_args(auto_scaling_group_arn=OTHER_ASG))
    assert result["failed"] is True
    assert "auto_scaling_group_arn" in result["msg"] and "cannot be changed" in result["msg"]
    assert OTHER_ASG in result["msg"]


def test_check_mode_create_and_update(aws):
    result = aws.run(mod, base_args(), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["auto_scaling_group_arn"] == ASG
    assert aws.mutating() == []
    assert describe(aws) is None

    aws.run(mod, base_args())
    aws.reset()
    result = aws.run(mod, base_args(managed_draining=False), check_mode=True)
    assert result["changed"] is True
    assert result["capacity_provider"]["auto_scaling_group_provider"]["managed_draining"] == "DISABLED"
    assert aws.mutating() == []
    assert describe(aws)["autoScalingGroupProvider"]["managedDraining"] == "ENABLED"


def test_delete_and_idempotent(aws):
    aws.run(mod, base_args())
    result = aws.run(mod, dict(name="app-cp", state="absent"), check_mode=True)
    assert result["changed"] is True and describe(aws) is not None
    aws.reset()
    result = aws.run(mod, dict(name="app-cp", state="absent"))
    assert result["changed"] is True
    assert "DeleteCapacityProvider" in aws.mutating()
    assert describe(aws) is None
    aws.reset()
    result = aws.run(mod, dict(name="app-cp", state="absent"))
    assert result["changed"] is False
    assert aws.mutating() == []


def test_delete_attached_fails_or_force_detaches(aws):
    aws.run(mod, base_args())
    aws.ecs.put_cluster_capacity_providers(
        cluster="test",
        capacityProviders=["app-cp"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "app-cp", "weight": 1, "base": 0}],
    )
    result = aws.run(mod, dict(name="app-cp", state="absent"))
    assert result["failed"] is True
    assert "test" in result["msg"] and "force=true" in result["msg"]
    assert describe(aws) is not None

    result = aws.run(mod, dict(name="app-cp", state="absent", force=True))
    assert result["changed"] is True and result["detached_from"] == ["test"]
    cluster = aws.ecs.describe_clusters(clusters=["test"])["clusters"][0]
    assert "app-cp" not in (cluster.get("capacityProviders") or [])
    assert describe(aws) is None


@pytest.mark.parametrize(
    "scaling, fragment",
    [
        (dict(target_capacity=0), "managed_scaling.target_capacity must be between 1 and 100"),
        (dict(target_capacity=101), "managed_scaling.target_capacity must be between 1 and 100"),
        (dict(minimum_scaling_step_size=0), "managed_scaling.minimum_scaling_step_size must be between 1 and 10000"),
        (
            dict(maximum_scaling_step_size=10001),
            "managed_scaling.maximum_scaling_step_size must be between 1 and 10000",
        ),
        (dict(instance_warmup_period=-1), "managed_scaling.instance_warmup_period must be between 0 and 10000"),
        (
            dict(minimum_scaling_step_size=5, maximum_scaling_step_size=2),
            "managed_scaling.minimum_scaling_step_size (5) must not be greater than managed_scaling.maximum_scaling_step_size (2)",
        ),
    ],
)
def test_validation(aws, scaling, fragment):
    result = aws.run(mod, base_args(managed_scaling=scaling))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert aws.ops() == []


def test_step_sizes_validated_against_current(aws):
    aws.run(mod, base_args())
    result = aws.run(mod, base_args(managed_scaling=dict(minimum_scaling_step_size=10)))
    assert result["failed"] is True
    assert "minimum_scaling_step_size (10)" in result["msg"]


def test_asg_arn_required_for_present(aws):
    result = aws.run(mod, dict(name="app-cp"))
    assert result["failed"] is True
    assert "auto_scaling_group_arn" in result["msg"]
