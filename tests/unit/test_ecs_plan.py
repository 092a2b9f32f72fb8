"""ecs_deploy's plan and rollout helpers (module_utils/ecs_plan.py, module_utils/ecs_rollout.py), without AWS."""

from __future__ import annotations

import pytest

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import PREVIOUS_TAG
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_plan import (
    DeployPlan,
    desired_task_definition,
    interrupted_revision,
    same_definition,
    service_differences,
)
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import DeployError, rollout_state

ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:{}"


def params(**extra):
    base = dict(
        containers=[{"name": "web", "image": "repo/web:1", "memory": 128}], images=None, keep_running_images=True,
        network_mode="bridge", requires_compatibilities=["EC2"], task_cpu=None, task_memory=None,
        execution_role_arn=None, task_role_arn=None, volumes=None, desired_count=2, desired_count_managed=False,
        deployment_minimum_healthy_percent=100, deployment_maximum_percent=200, circuit_breaker={},
        load_balancers=None, capacity_provider_strategy=None, placement_strategy=None, network_configuration=None,
        health_check_grace_period_seconds=None, enable_execute_command=None, propagate_tags=None,
        tags={"team": "web"}, purge_tags=True,
    )
    base.update(extra)
    return base


def revision(n, image="repo/web:1", status="ACTIVE"):
    return {"taskDefinitionArn": ARN.format(n), "revision": n, "status": status, "family": "web",
            "networkMode": "bridge", "requiresCompatibilities": ["EC2"],
            "containerDefinitions": [{"name": "web", "image": image, "memory": 128}]}


def service(n, **extra):
    svc = {"serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/c/web", "taskDefinition": ARN.format(n),
           "desiredCount": 2, "tags": [{"key": "team", "value": "web"}],
           "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200,
                                       "deploymentCircuitBreaker": {"enable": True, "rollback": True}}}
    svc.update(extra)
    return svc


def test_desired_task_definition_keeps_running_images_unless_overridden():
    running = revision(3, image="repo/web:7")
    td = desired_task_definition(params(), "web", service(3), running)
    assert td["containerDefinitions"][0]["image"] == "repo/web:7"
    td = desired_task_definition(params(images={"web": "repo/web:8"}), "web", service(3), running)
    assert td["containerDefinitions"][0]["image"] == "repo/web:8"
    td = desired_task_definition(params(keep_running_images=False), "web", service(3), running)
    assert td["containerDefinitions"][0]["image"] == "repo/web:1"


@pytest.mark.parametrize("extra, message", [
    ({"containers": []}, "containers must list at least one container"),
    ({"containers": [{"image": "x"}]}, "every entry of containers needs a name"),
    ({"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}, "duplicate names: a"),
    ({"images": {"api": "repo/api:1"}}, "images names container(s) not in containers: api"),
    ({"containers": [{"name": "web"}]}, "container web has no image"),
])
def test_desired_task_definition_refuses_bad_input(extra, message):
    with pytest.raises(DeployError) as error:
        desired_task_definition(params(**extra), "web", None, None)
    assert message in error.value.msg


def test_revision_reuse():
    wanted = desired_task_definition(params(), "web", None, None)
    assert same_definition(wanted, revision(2)) and not same_definition(wanted, revision(2, image="repo/web:2"))
    assert not same_definition(wanted, None)
    # An interrupted run left revision 4 (the wanted one) while the service still runs 3: reuse it.
    assert interrupted_revision(wanted, revision(4), ARN.format(3))["revision"] == 4
    assert interrupted_revision(wanted, revision(3), ARN.format(3)) is None  # not newer
    assert interrupted_revision(wanted, revision(4, status="INACTIVE"), ARN.format(3)) is None
    assert interrupted_revision(wanted, revision(4, image="repo/web:9"), ARN.format(3)) is None
    assert interrupted_revision(wanted, None, ARN.format(3)) is None


def test_plan_of_an_unchanged_service_changes_nothing():
    current = revision(3)
    plan = DeployPlan(params(), "web", service(3), current, None, current, [], explicit=False)
    assert plan.updated_fields == [] and not plan.td_changed and not plan.would_register
    result = plan.result()
    assert result["changed"] is False and result["task_definition_arn"] == ARN.format(3)
    assert result["previous_task_definition"] is None


def test_plan_of_a_new_image_registers_and_records_the_replaced_revision():
    wanted = desired_task_definition(params(images={"web": "repo/web:2"}), "web", service(3), revision(3))
    plan = DeployPlan(params(desired_count=3), "web", service(3, tags=[]), revision(3), wanted, None,
                      ["containerDefinitions[web].image"], explicit=False)
    assert plan.would_register and plan.td_changed
    assert plan.updated_fields == ["taskDefinition", "desiredCount", "tags"]
    assert plan.to_set == {"team": "web"}
    assert plan.service_tags_after == {"team": "web", PREVIOUS_TAG: ARN.format(3)}
    assert plan.result()["previous_task_definition"] == ARN.format(3)
    diff = plan.diff()
    assert diff["before"]["task_definition"] == "web:3" and diff["after"]["task_definition"] == "web:(new revision)"
    assert diff["before"]["images"] == {"web": "repo/web:1"} and diff["after"]["images"] == {"web": "repo/web:2"}
    assert diff["before"]["service"]["desiredCount"] == 2 and diff["after"]["service"]["desiredCount"] == 3


def test_plan_of_a_service_to_create():
    plan = DeployPlan(params(), "web", None, None, {"containerDefinitions": []}, None, [], explicit=False)
    assert plan.updated_fields == ["created"] and plan.diff()["before"] == {}
    assert plan.service_tags_after == {"team": "web"}


def test_desired_count_left_to_autoscaling_once_the_service_exists():
    settings = DeployPlan(params(desired_count=9, desired_count_managed=True), "web", service(3), revision(3), None,
                          revision(3), [], explicit=False).settings
    assert "desiredCount" not in settings
    assert service_differences(service(3), {"loadBalancers": []}) == []  # none wanted, none there


def test_rollout_state():
    target = ARN.format(4)
    ours = {"taskDefinition": target, "status": "PRIMARY", "rolloutState": "IN_PROGRESS", "rolloutStateReason": "r"}
    assert rollout_state({"taskDefinition": target, "deployments": [ours]}, target) == ("IN_PROGRESS", "r")
    done = dict(ours, rolloutState="COMPLETED")
    assert rollout_state({"taskDefinition": target, "deployments": [done]}, target)[0] == "COMPLETED"
    # No rolloutState (ECS omits it behind a Classic Load Balancer): steady when alone at its desired count.
    bare = {"taskDefinition": target, "status": "PRIMARY", "desiredCount": 2, "runningCount": 2}
    assert rollout_state({"taskDefinition": target, "deployments": [bare]}, target)[0] == "COMPLETED"
    assert rollout_state({"taskDefinition": target, "deployments": [dict(bare, runningCount=1)]}, target)[0] == "IN_PROGRESS"
    # Rolled back: no deployment of the target left, the service runs another revision.
    state, reason = rollout_state({"taskDefinition": ARN.format(3), "deployments": []}, target)
    assert state == "FAILED" and "web:4" in reason and "web:3" in reason
    # The service points at the target but ECS lists no deployment of it yet: keep waiting.
    assert rollout_state({"taskDefinition": target, "deployments": []}, target) == ("IN_PROGRESS", None)
