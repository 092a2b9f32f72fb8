from __future__ import annotations

import copy

import boto3

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import PREVIOUS_TAG
from ansible_collections.ecsops.platform.plugins.modules import ecs_deploy as mod

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


def containers(image="repo/web:1", worker_image="repo/worker:1"):
    return [
        {
            "name": "web",
            "image": image,
            "memoryReservation": 128,
            "portMappings": [{"containerPort": 8080}],
            "environment": [{"name": "Z_LAST", "value": "1"}, {"name": "A_FIRST", "value": 2}],
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": SECRET_ARN},
                {"name": "API_KEY", "valueFrom": SECRET_ARN + ":api::"},
            ],
            "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "10m"}},
        },
        {"name": "worker", "image": worker_image, "memory": "64", "essential": False, "command": ["run"]},
    ]


def args(**extra):
    base = dict(
        cluster="test",
        name="web",
        containers=containers(),
        desired_count=2,
        task_cpu=256,
        task_memory="512",
        wait_delay=0,
    )
    base.update(extra)
    return base


def service(aws):
    found = aws.ecs.describe_services(cluster="test", services=["web"], include=["TAGS"])["services"]
    found = [s for s in found if s["status"] == "ACTIVE"]
    return found[0] if found else None


def active_revisions(aws):
    return sorted(
        int(a.rsplit(":", 1)[1])
        for a in aws.ecs.list_task_definitions(familyPrefix="web", status="ACTIVE")["taskDefinitionArns"]
    )


def images_of(aws, arn):
    td = aws.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return {c["name"]: c["image"] for c in td["containerDefinitions"]}


def test_create_service(aws):
    result = aws.run(mod, args())
    assert result["changed"] is True, result
    assert result["registered"] is True and result["service_updated"] is True
    assert result["revision"] == 1
    assert result["updated_fields"] == ["created"]
    assert result["rollout_state"] == "COMPLETED"
    assert result["images"] == {"web": "repo/web:1", "worker": "repo/worker:1"}
    svc = service(aws)
    assert svc["taskDefinition"].endswith("task-definition/web:1")
    assert svc["desiredCount"] == 2
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    sent = aws.params("RegisterTaskDefinition")[0]
    env = {e["name"]: e["value"] for e in sent["containerDefinitions"][0]["environment"]}
    assert env == {"A_FIRST": "2", "Z_LAST": "1"}
    assert sent["containerDefinitions"][1]["memory"] == 64
    assert sent["cpu"] == "256" and sent["memory"] == "512"


def test_second_run_is_idempotent_with_secrets_and_defaults(aws):
    """community.aws#45: secrets / AWS-filled defaults must not cause a new revision."""
    aws.run(mod, args())
    aws.reset()
    result = aws.run(mod, args())
    assert result["changed"] is False, result
    assert result["registered"] is False and result["would_register"] is False
    assert result["updated_fields"] == []
    assert aws.mutating() == []
    # one DescribeServices + one DescribeTaskDefinition, no listing of revisions, no waiting
    assert aws.ops() == ["DescribeServices", "DescribeTaskDefinition"]
    assert active_revisions(aws) == [1]


def test_explicit_aws_defaults_in_input_are_idempotent(aws):
    explicit = containers()
    explicit[0].update(essential=True, cpu=0, mountPoints=[], volumesFrom=[])
    explicit[0]["portMappings"] = [{"containerPort": 8080, "protocol": "tcp", "hostPort": 0}]
    aws.run(mod, args())
    aws.reset()
    result = aws.run(mod, args(containers=explicit))
    assert result["changed"] is False, result["task_definition_changes"]


def test_image_change_registers_exactly_one_revision(aws):
    aws.run(mod, args())
    aws.reset()
    result = aws.run(mod, args(images={"web": "repo/web:2"}))
    assert result["changed"] is True
    assert aws.ops().count("RegisterTaskDefinition") == 1
    assert result["revision"] == 2
    assert result["updated_fields"] == ["taskDefinition"]
    assert result["task_definition_changes"] == ["containerDefinitions[web].image"]
    assert result["images"] == {"web": "repo/web:2", "worker": "repo/worker:1"}
    assert result["previous_task_definition"].endswith("web:1")
    svc = service(aws)
    assert svc["taskDefinition"].endswith("web:2")
    assert {t["key"]: t["value"] for t in svc["tags"]}[PREVIOUS_TAG].endswith("web:1")
    # same request again: nothing
    aws.reset()
    again = aws.run(mod, args(images={"web": "repo/web:2"}))
    assert again["changed"] is False and aws.mutating() == []


def test_keep_running_images_without_images(aws):
    aws.run(mod, args())
    aws.run(mod, args(images={"web": "repo/web:7"}))
    aws.reset()
    # full converge with the playbook's default images keeps what the redeploy put in place
    result = aws.run(mod, args(containers=containers(image="repo/web:1", worker_image="repo/worker:1")))
    assert result["changed"] is False, result
    assert result["images"]["web"] == "repo/web:7"
    # other changes still apply, but keep the running image
    result = aws.run(mod, args(task_memory="1024"))
    assert result["changed"] is True and result["registered"] is True
    assert images_of(aws, result["task_definition_arn"])["web"] == "repo/web:7"


def test_keep_running_images_false_uses_containers(aws):
    aws.run(mod, args(images={"web": "repo/web:7"}))
    result = aws.run(mod, args(keep_running_images=False))
    assert result["changed"] is True
    assert result["images"]["web"] == "repo/web:1"


def test_images_override_and_unknown_container(aws):
    result = aws.run(mod, args(images={"worker": "repo/worker:9"}))
    assert result["images"] == {"web": "repo/web:1", "worker": "repo/worker:9"}
    bad = aws.run(mod, args(images={"nope": "x:1"}))
    assert bad["failed"] is True and "nope" in bad["msg"]


def test_desired_count_managed(aws):
    aws.run(mod, args(desired_count=2))
    aws.ecs.update_service(cluster="test", service="web", desiredCount=5)  # autoscaling
    aws.reset()
    result = aws.run(mod, args(desired_count=2, desired_count_managed=True))
    assert result["changed"] is False, result
    assert service(aws)["desiredCount"] == 5
    result = aws.run(mod, args(desired_count=2))
    assert result["updated_fields"] == ["desiredCount"]
    assert service(aws)["desiredCount"] == 2


def test_service_setting_change_single_update_call(aws):
    aws.run(mod, args())
    aws.reset()
    result = aws.run(
        mod,
        args(deployment_minimum_healthy_percent=50, health_check_grace_period_seconds=30, images={"web": "repo/web:3"}),
    )
    assert result["changed"] is True
    assert sorted(result["updated_fields"]) == [
        "deploymentConfiguration",
        "healthCheckGracePeriodSeconds",
        "taskDefinition",
    ]
    assert aws.ops().count("UpdateService") == 1
    sent = aws.params("UpdateService")[0]
    assert sent["deploymentConfiguration"]["minimumHealthyPercent"] == 50
    assert "desiredCount" not in sent
    aws.reset()
    again = aws.run(
        mod,
        args(deployment_minimum_healthy_percent=50, health_check_grace_period_seconds=30, images={"web": "repo/web:3"}),
    )
    assert again["changed"] is False and aws.mutating() == []


def test_check_mode_makes_no_mutating_call(aws):
    result = aws.run(mod, args(), check_mode=True, diff=True)
    assert result["changed"] is True and result["would_register"] is True
    assert result["would_update"] == ["created"]
    assert aws.mutating() == []
    assert service(aws) is None

    aws.run(mod, args())
    aws.reset()
    result = aws.run(mod, args(images={"web": "repo/web:2"}, desired_count=3), check_mode=True, diff=True)
    assert result["changed"] is True and result["would_register"] is True
    assert result["would_update"] == ["taskDefinition", "desiredCount"]
    assert result["registered"] is False and result["service_updated"] is False
    assert result["diff"]["before"]["images"]["web"] == "repo/web:1"
    assert result["diff"]["after"]["images"]["web"] == "repo/web:2"
    assert result["diff"]["before"]["service"]["desiredCount"] == 2
    assert result["diff"]["after"]["service"]["desiredCount"] == 3
    assert aws.mutating() == []
    assert active_revisions(aws) == [1]


def test_check_mode_absent(aws):
    aws.run(mod, args())
    aws.reset()
    result = aws.run(mod, dict(cluster="test", name="web", state="absent"), check_mode=True)
    assert result["changed"] is True
    assert aws.mutating() == []
    assert service(aws) is not None


def test_previous_rollback(aws):
    aws.run(mod, args())
    aws.run(mod, args(images={"web": "repo/web:2"}))
    aws.reset()
    result = aws.run(mod, args(task_definition="previous"))
    assert result["changed"] is True, result
    assert result["registered"] is False
    assert result["task_definition_arn"].endswith("web:1")
    assert result["previous_task_definition"].endswith("web:2")
    svc = service(aws)
    assert svc["taskDefinition"].endswith("web:1")
    assert {t["key"]: t["value"] for t in svc["tags"]}[PREVIOUS_TAG].endswith("web:2")
    assert "RegisterTaskDefinition" not in aws.ops()
    # a converge after the rollback keeps the rolled-back image
    again = aws.run(mod, args())
    assert again["changed"] is False
    # explicit family:revision
    result = aws.run(mod, args(task_definition="web:2"))
    assert result["task_definition_arn"].endswith("web:2") and result["changed"] is True


def test_previous_without_history_fails(aws):
    aws.run(mod, args())
    result = aws.run(mod, args(task_definition="previous"))
    assert result["failed"] is True and PREVIOUS_TAG in result["msg"]


def test_reuses_revision_left_by_interrupted_run(aws):
    aws.run(mod, args())
    # an interrupted run registered web:2 (image 2) but never updated the service
    first = aws.run(mod, args(images={"web": "repo/web:2"}), check_mode=True)
    assert first["would_register"] is True
    td = aws.ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]
    defs = copy.deepcopy(td["containerDefinitions"])
    defs[0]["image"] = "repo/web:2"
    aws.ecs.register_task_definition(
        family="web",
        containerDefinitions=defs,
        cpu="256",
        memory="512",
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
    )
    aws.reset()
    result = aws.run(mod, args(images={"web": "repo/web:2"}))
    assert result["changed"] is True and result["registered"] is False
    assert result["revision"] == 2
    assert "RegisterTaskDefinition" not in aws.ops()
    assert active_revisions(aws) == [1, 2]


def test_keep_revisions_deregisters_old(aws):
    for tag in range(1, 6):
        result = aws.run(mod, args(images={"web": f"repo/web:{tag}"}, keep_revisions=3))
        assert result["revision"] == tag
    assert active_revisions(aws) == [3, 4, 5]
    assert [a.rsplit("/", 1)[1] for a in result["deregistered"]] == ["web:2"]
    # a no-change redeploy never lists revisions
    aws.reset()
    aws.run(mod, args(images={"web": "repo/web:5"}, keep_revisions=3))
    assert "ListTaskDefinitions" not in aws.ops()


def test_keep_revisions_protects_previous(aws):
    aws.run(mod, args(images={"web": "repo/web:1"}, keep_revisions=1))
    aws.run(mod, args(images={"web": "repo/web:2"}, keep_revisions=1))
    # web:1 is the recorded previous revision: kept for rollback
    assert active_revisions(aws) == [1, 2]
    result = aws.run(mod, args(images={"web": "repo/web:3"}, keep_revisions=1))
    assert [a.rsplit("/", 1)[1] for a in result["deregistered"]] == ["web:1"]
    assert active_revisions(aws) == [2, 3]


def _stub_run_task(aws, exit_code, reason="Essential container in task exited", states=("RUNNING", "STOPPED")):
    task_arn = "arn:aws:ecs:us-east-1:123456789012:task/test/abc123"
    calls = {"describe": 0}

    def run_task(params, _original):
        return {"tasks": [{"taskArn": task_arn, "lastStatus": "PROVISIONING"}], "failures": []}

    def describe_tasks(params, _original):
        state = states[min(calls["describe"], len(states) - 1)]
        calls["describe"] += 1
        task = {"taskArn": task_arn, "lastStatus": state, "containers": [{"name": "web", "lastStatus": state}]}
        if state == "STOPPED":
            task["stoppedReason"] = reason
            task["containers"][0]["exitCode"] = exit_code
        return {"tasks": [task], "failures": []}

    aws.stubs["RunTask"] = run_task
    aws.stubs["DescribeTasks"] = describe_tasks
    return calls


RUN_BEFORE = {"container": "web", "command": ["./manage.py", "migrate"], "timeout": 60}


def test_run_before_failure_leaves_service_alone(aws):
    aws.run(mod, args())
    _stub_run_task(aws, exit_code=3)
    aws.reset()
    result = aws.run(mod, args(images={"web": "repo/web:2"}, run_before=RUN_BEFORE))
    assert result["failed"] is True
    msg = result["msg"]
    assert "web" in msg and "web:2" in msg and "code 3" in msg and "Essential container in task exited" in msg
    assert "UpdateService" not in aws.ops()
    assert service(aws)["taskDefinition"].endswith("web:1")
    sent = aws.params("RunTask")[0]
    assert sent["overrides"]["containerOverrides"] == [{"name": "web", "command": ["./manage.py", "migrate"]}]
    assert sent["taskDefinition"].endswith("web:2")


def test_run_before_success_then_rollout_and_not_run_without_change(aws):
    aws.run(mod, args())
    calls = _stub_run_task(aws, exit_code=0)
    result = aws.run(mod, args(images={"web": "repo/web:2"}, run_before=RUN_BEFORE))
    assert result["changed"] is True and result["run_before_task"].endswith("abc123")
    assert calls["describe"] == 2
    assert service(aws)["taskDefinition"].endswith("web:2")
    aws.reset()
    result = aws.run(mod, args(images={"web": "repo/web:2"}, run_before=RUN_BEFORE))
    assert result["changed"] is False and "RunTask" not in aws.ops()


def test_run_before_retry_after_failure_reuses_revision(aws):
    aws.run(mod, args())
    _stub_run_task(aws, exit_code=1)
    assert aws.run(mod, args(images={"web": "repo/web:2"}, run_before=RUN_BEFORE))["failed"] is True
    _stub_run_task(aws, exit_code=0)
    aws.reset()
    result = aws.run(mod, args(images={"web": "repo/web:2"}, run_before=RUN_BEFORE))
    assert result["changed"] is True and result["registered"] is False and result["revision"] == 2
    assert "RunTask" in aws.ops()


def _stub_rollout(aws, states, rollback_to=None, reason="tasks failed to start"):
    """Replace the deployments DescribeServices reports during the wait loop."""
    seen = {"n": 0}

    def describe_services(params, original):
        response = original()
        for svc in response.get("services", []):
            if svc.get("status") != "ACTIVE":
                continue
            target = svc["taskDefinition"]
            seen["n"] += 1
            # first DescribeServices is the module's initial read: leave it alone
            if seen["n"] == 1:
                continue
            state = states[min(seen["n"] - 2, len(states) - 1)]
            svc["deployments"] = [
                {
                    "id": "ecs-svc/1",
                    "status": "PRIMARY" if state != "FAILED" or not rollback_to else "ACTIVE",
                    "taskDefinition": target,
                    "rolloutState": state,
                    "rolloutStateReason": reason if state == "FAILED" else f"deployment {state}",
                }
            ]
            if state == "FAILED" and rollback_to:
                svc["taskDefinition"] = rollback_to
                svc["deployments"].insert(
                    0,
                    {
                        "id": "ecs-svc/2",
                        "status": "PRIMARY",
                        "taskDefinition": rollback_to,
                        "rolloutState": "IN_PROGRESS",
                    },
                )
        return response

    aws.stubs["DescribeServices"] = describe_services
    return seen


def test_wait_completed_after_polling(aws):
    aws.run(mod, args())
    seen = _stub_rollout(aws, ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"])
    result = aws.run(mod, args(images={"web": "repo/web:2"}))
    assert result["changed"] is True and result["rollout_state"] == "COMPLETED"
    assert seen["n"] == 4  # initial read + 3 polls


def test_wait_failed_with_circuit_breaker_rollback(aws):
    aws.run(mod, args())
    old = service(aws)["taskDefinition"]
    _stub_rollout(aws, ["IN_PROGRESS", "FAILED"], rollback_to=old)
    result = aws.run(mod, args(images={"web": "repo/web:2"}))
    assert result["failed"] is True
    assert result["rollout_state"] == "FAILED" and result["rolled_back"] is True
    msg = result["msg"]
    assert "web:2" in msg and "service web" in msg and "tasks failed to start" in msg
    assert "rolled the service back to web:1" in msg


def test_wait_failed_without_rollback(aws):
    aws.run(mod, args())
    _stub_rollout(aws, ["FAILED"])
    result = aws.run(mod, args(images={"web": "repo/web:2"}, circuit_breaker={"enable": True, "rollback": False}))
    assert result["failed"] is True and result["rolled_back"] is False
    assert "not rolled back" in result["msg"]


def test_wait_timeout(aws):
    aws.run(mod, args())
    _stub_rollout(aws, ["IN_PROGRESS"])
    result = aws.run(mod, args(images={"web": "repo/web:2"}, wait_timeout=0))
    assert result["failed"] is True and "timed out" in result["msg"] and "IN_PROGRESS" in result["msg"]


def test_no_wait_when_nothing_changed(aws):
    aws.run(mod, args())
    _stub_rollout(aws, ["IN_PROGRESS"])
    aws.reset()
    result = aws.run(mod, args())
    assert result["changed"] is False
    assert aws.ops().count("DescribeServices") == 1


def test_state_absent(aws):
    aws.run(mod, args())
    aws.run(mod, args(images={"web": "repo/web:2"}))
    aws.reset()
    result = aws.run(mod, dict(cluster="test", name="web", state="absent", wait_delay=0))
    assert result["changed"] is True, result
    ops = aws.ops()
    assert ops.index("UpdateService") < ops.index("DeleteService")
    assert aws.params("DeleteService")[0]["force"] is True
    assert service(aws) is None
    assert active_revisions(aws) == []
    assert len(result["deregistered"]) == 2
    aws.reset()
    again = aws.run(mod, dict(cluster="test", name="web", state="absent"))
    assert again["changed"] is False and aws.mutating() == []


def test_containers_required(aws):
    result = aws.run(mod, dict(cluster="test", name="web"))
    assert result["failed"] is True and "containers" in result["msg"]


def test_missing_cluster(aws):
    result = aws.run(mod, args(cluster="nope"))
    assert result["failed"] is True and "nope" in result["msg"]


# ---------------------------------------------------------------- load balancers named by target group
def _target_group(name="web-tg"):
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    return elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc,
                                     TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]


def test_load_balancer_by_target_group_name_is_resolved_and_idempotent(aws):
    arn = _target_group()
    lbs = [{"targetGroupName": "web-tg", "containerName": "web", "containerPort": 8080}]
    result = aws.run(mod, args(load_balancers=lbs))
    assert result["changed"] is True, result
    assert service(aws)["loadBalancers"] == [{"targetGroupArn": arn, "containerName": "web", "containerPort": 8080}]
    assert aws.params("CreateService")[0]["loadBalancers"][0]["targetGroupArn"] == arn
    aws.reset()
    again = aws.run(mod, args(load_balancers=lbs))
    assert again["changed"] is False, again
    assert [op for svc, op, _p in aws.calls if svc != "ecs"] == ["DescribeTargetGroups"]  # one lookup, same module call
    assert aws.mutating() == []


def test_load_balancer_by_name_and_by_arn_compare_equal(aws):
    arn = _target_group()
    aws.run(mod, args(load_balancers=[{"targetGroupArn": arn, "containerName": "web", "containerPort": 8080}]))
    aws.reset()
    result = aws.run(mod, args(load_balancers=[{"targetGroupName": "web-tg", "containerName": "web", "containerPort": "8080"}]))
    assert result["changed"] is False, result


def test_missing_target_group_fails_before_any_change(aws):
    result = aws.run(mod, args(load_balancers=[{"targetGroupName": "nope-tg", "containerName": "web", "containerPort": 8080}]))
    assert result["failed"] is True
    assert "target group nope-tg does not exist; converge the edge layer first" in result["msg"]
    assert aws.mutating() == [] and service(aws) is None


def test_missing_target_group_in_check_mode_is_left_out(aws):
    result = aws.run(mod, args(load_balancers=[{"targetGroupName": "nope-tg", "containerName": "web", "containerPort": 8080}]),
                     check_mode=True)
    assert result.get("failed") is not True, result
    assert result["unresolved_target_groups"] == ["nope-tg"]
    assert result["would_update"] == ["created"] and aws.mutating() == []


def test_expected_account_is_checked_before_any_other_call(aws):
    """A `--tags deploy` run checks the account here (expected_account_id) instead of in a module call of its own."""
    result = aws.run(mod, args(expected_account_id="111122223333"))
    assert result.get("failed") is True
    assert "aws_account_id" in result["msg"] and "111122223333" in result["msg"] and "123456789012" in result["msg"]
    assert [(svc, op) for svc, op, _ in aws.calls] == [("sts", "GetCallerIdentity")]
    assert service(aws) is None
    aws.reset()
    result = aws.run(mod, args(expected_account_id="123456789012"))
    assert result["changed"] is True and result["revision"] == 1
    assert (aws.calls[0][0], aws.calls[0][1]) == ("sts", "GetCallerIdentity")


def test_read_autoscaling_returns_the_target_and_policies_only_when_asked(aws):
    """The scaling play compares its policies with this read (ecsops.platform.scaling_drift) and skips the module."""
    result = aws.run(mod, args())
    assert "autoscaling" not in result
    assert not [op for svc, op, _ in aws.calls if svc == "application-autoscaling"]
    result = aws.run(mod, args(read_autoscaling=True))
    assert result["autoscaling"] == {"scalable_target": None, "policies": []}
    scaling = boto3.client("application-autoscaling", region_name=aws.ecs.meta.region_name)
    scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/test/web",
                                     ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=5)
    config = {"TargetValue": 60.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
              "ScaleOutCooldown": 60, "ScaleInCooldown": 300}
    scaling.put_scaling_policy(PolicyName="test-web-cpu", ServiceNamespace="ecs", ResourceId="service/test/web",
                               ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=config)
    result = aws.run(mod, args(read_autoscaling=True))
    assert result["changed"] is False
    assert result["autoscaling"]["scalable_target"] == {"MinCapacity": 2, "MaxCapacity": 5}
    assert result["autoscaling"]["policies"] == [
        {"PolicyName": "test-web-cpu", "PolicyType": "TargetTrackingScaling",
         "TargetTrackingScalingPolicyConfiguration": config}]


# ---------------------------------------------------------------- several services in one call (deployments)
def batch(**extra):
    """Two services, web and api, in one call (the deploy role's shape: cluster on top, one item per service)."""
    items = []
    for name in ("web", "api"):
        item = {k: v for k, v in args(name=name).items() if k != "cluster"}
        item.update(extra.get(name, {}))
        items.append(item)
    return dict(cluster="test", deployments=items, **{k: v for k, v in extra.items() if k not in ("web", "api")})


def test_deployments_roll_several_services_in_one_call_and_rerun_is_a_no_op(aws):
    result = aws.run(mod, batch())
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["failed_services"] == []
    assert set(result["services"]) == {"web", "api"}
    for name in ("web", "api"):
        entry = result["services"][name]
        assert entry["registered"] is True and entry["updated_fields"] == ["created"], entry
        assert entry["rollout_state"] == "COMPLETED"
        found = aws.ecs.describe_services(cluster="test", services=[name])["services"][0]
        assert found["taskDefinition"].endswith(f"task-definition/{name}:1")
    aws.reset()
    again = aws.run(mod, batch())
    assert again["changed"] is False and all(not r["changed"] for r in again["services"].values())
    assert aws.mutating() == []


def test_deployments_one_failure_does_not_stop_the_others(aws):
    missing = {"load_balancers": [{"targetGroupName": "nope-tg", "containerName": "web", "containerPort": 8080}]}
    result = aws.run(mod, batch(api=missing))
    assert result.get("failed") is not True, result
    assert result["failed_services"] == ["api"]
    api = result["services"]["api"]
    assert api["failed"] is True and "target group nope-tg does not exist" in api["msg"]
    assert result["services"]["web"]["registered"] is True and result["changed"] is True
    found = aws.ecs.describe_services(cluster="test", services=["web", "api"])["services"]
    assert [s["serviceName"] for s in found if s["status"] == "ACTIVE"] == ["web"]


def test_deployments_invalid_item_fails_before_any_api_call(aws):
    result = aws.run(mod, batch(api={"desired_count": "many"}))
    assert result["failed"] is True
    assert "deployments[1] (api)" in result["msg"] and "desired_count" in result["msg"]
    result = aws.run(mod, batch(web={"deployment_maximum_percent": 50}))
    assert result["failed"] is True and "deployments[0] (web)" in result["msg"]
    assert "deployment_maximum_percent (50) must not be lower" in result["msg"]
    result = aws.run(mod, batch(api={"name": "web"}))
    assert result["failed"] is True and "web is listed more than once" in result["msg"]
    result = aws.run(mod, dict(batch(), name="web"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    assert aws.calls == []


def test_deployments_check_the_account_once_before_any_service(aws):
    result = aws.run(mod, batch(expected_account_id="111122223333"))
    assert result["failed"] is True and "111122223333" in result["msg"]
    assert [(svc, op) for svc, op, _ in aws.calls] == [("sts", "GetCallerIdentity")]
    aws.reset()
    result = aws.run(mod, batch(expected_account_id="123456789012"))
    assert result["changed"] is True and result["failed_services"] == []
    assert [op for svc, op, _ in aws.calls if svc == "sts"] == ["GetCallerIdentity"]
    assert (aws.calls[0][0], aws.calls[0][1]) == ("sts", "GetCallerIdentity")


def test_deployments_check_mode_diff_names_each_service(aws):
    result = aws.run(mod, batch(), check_mode=True, diff=True)
    assert aws.mutating() == []
    assert [d["before_header"] for d in result["diff"]] == ["service web", "service api"]
    assert all("diff" not in entry for entry in result["services"].values())
    assert result["services"]["api"]["would_update"] == ["created"]


def test_deployments_failed_rollout_keeps_what_the_deploy_changed(aws):
    """A service whose rollout failed after a revision was registered and the service updated reports changed, as
    the module's own failure does (the playbook's per-host report counts it)."""
    aws.run(mod, args())
    old = service(aws)["taskDefinition"]
    _stub_rollout(aws, ["IN_PROGRESS", "FAILED"], rollback_to=old)
    item = {k: v for k, v in args(images={"web": "repo/web:2"}).items() if k != "cluster"}
    result = aws.run(mod, dict(cluster="test", deployments=[item]))
    assert result.get("failed") is not True and result["failed_services"] == ["web"], result
    web = result["services"]["web"]
    assert web["failed"] is True and web["changed"] is True and web["registered"] is True, web
    assert web["rollout_state"] == "FAILED" and "rolled the service back to web:1" in web["msg"]
    assert result["changed"] is True
