"""Rolling deploys on the converged local environment: idempotent task definitions, redeploy
isolation (recorder), failed rollouts and the circuit breaker, rollback, autoscaling."""

from __future__ import annotations

from typing import Any

import pytest

from support import LOCAL_NAMES, Emulator, playbook

PREFIX = LOCAL_NAMES["prefix"]
ALLOWED_DEPLOY_WRITES = {"RegisterTaskDefinition", "DeregisterTaskDefinition", "UpdateService", "CreateService",
                         "RunTask", "TagResource", "UntagResource"}


def _service(emulator: Emulator, name: str) -> dict[str, Any]:
    return emulator.client("ecs").describe_services(cluster=PREFIX, services=[name], include=["TAGS"])["services"][0]


def _images(emulator: Emulator, task_definition: str) -> dict[str, str]:
    td = emulator.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return {c["name"]: c["image"] for c in td["containerDefinitions"]}


def _revisions(emulator: Emulator, service: str) -> list[str]:
    return emulator.client("ecs").list_task_definitions(familyPrefix=f"{PREFIX}-{service}", status="ACTIVE")["taskDefinitionArns"]


def test_first_converge_registered_one_revision_per_service(converged: dict[str, Any], emulator: Emulator) -> None:
    for service in ("web", "worker"):
        assert len(_revisions(emulator, service)) == 1
        svc = _service(emulator, service)
        assert svc["deployments"][0]["rolloutState"] == "COMPLETED"
        assert svc["runningCount"] == svc["desiredCount"]
    web = _service(emulator, "web")
    assert web["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert web["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert web["deploymentConfiguration"]["maximumPercent"] == 200
    assert web["healthCheckGracePeriodSeconds"] == 30
    assert web["loadBalancers"][0]["containerName"] == "nginx" and web["loadBalancers"][0]["containerPort"] == 80
    assert web["capacityProviderStrategy"][0]["capacityProvider"] == f"{PREFIX}-ecs"


def test_task_definition_uses_secrets_logs_and_roles(converged: dict[str, Any], emulator: Emulator) -> None:
    web = _service(emulator, "web")
    td = emulator.client("ecs").describe_task_definition(taskDefinition=web["taskDefinition"])["taskDefinition"]
    assert td["executionRoleArn"].endswith(f":role/{PREFIX}-ecs-execution")
    assert td["taskRoleArn"].endswith(f":role/{PREFIX}-task-web")
    app = next(c for c in td["containerDefinitions"] if c["name"] == "app")
    secrets = {s["name"]: s["valueFrom"] for s in app["secrets"]}
    assert secrets["DB_PASSWORD"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/ecsops/local/db/password"
    assert not [e for e in app.get("environment", []) if "PASSWORD" in e["name"]]
    for container in td["containerDefinitions"]:
        options = container["logConfiguration"]["options"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert options["awslogs-region"] == "eu-west-1"
        assert options["awslogs-group"] == f"/ecs/{PREFIX}/web"


def test_autoscaling_target_and_policies(converged: dict[str, Any], emulator: Emulator) -> None:
    aas = emulator.client("application-autoscaling")
    targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[f"service/{PREFIX}/web"])["ScalableTargets"]
    assert len(targets) == 1 and (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) == (2, 6)
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=f"service/{PREFIX}/web")["ScalingPolicies"]
    metrics = {p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]: p
               for p in policies}
    assert metrics["ECSServiceAverageCPUUtilization"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60
    label = metrics["ALBRequestCountPerTarget"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["ResourceLabel"]
    assert label.startswith(f"app/{PREFIX}/") and f"/targetgroup/{PREFIX}-web/" in label


@pytest.fixture(scope="module")
def redeployed(converged: dict[str, Any], emulator: Emulator) -> dict[str, Any]:
    before = {s: _service(emulator, s)["taskDefinition"] for s in ("web", "worker")}
    run = playbook(emulator, "site.yml", "--tags", "deploy", "--limit", "web", "-e", "image_tag=1.1.0")
    assert run.rc == 0, run.tail()
    return {"before": before, "run": run}


def test_redeploy_registers_exactly_one_revision_and_rolls_only_that_service(redeployed: dict[str, Any], emulator: Emulator) -> None:
    web = _service(emulator, "web")
    assert web["taskDefinition"] != redeployed["before"]["web"]
    assert _images(emulator, web["taskDefinition"])["app"].endswith("/ecsops/app:1.1.0")
    assert _images(emulator, web["taskDefinition"])["nginx"].endswith("/ecsops/nginx:1.27.3")
    assert len(_revisions(emulator, "web")) == 2
    assert web["deployments"][0]["rolloutState"] == "COMPLETED"
    assert _service(emulator, "worker")["taskDefinition"] == redeployed["before"]["worker"]
    assert len(_revisions(emulator, "worker")) == 1
    tags = {t["key"]: t["value"] for t in web.get("tags", [])}
    assert tags["ecsops:previous-task-definition"] == redeployed["before"]["web"]


def test_redeploy_touches_only_task_definitions_and_services(redeployed: dict[str, Any]) -> None:
    writes = {(c.service, c.action) for c in redeployed["run"].mutating}
    assert writes, "the redeploy made no write at all"
    assert {s for s, _ in writes} == {"ecs"}, writes
    assert {a for _, a in writes} <= ALLOWED_DEPLOY_WRITES, writes
    assert ("ecs", "RegisterTaskDefinition") in writes and ("ecs", "UpdateService") in writes


def test_migration_ran_as_a_one_off_task_before_the_rollout(redeployed: dict[str, Any], emulator: Emulator) -> None:
    ecs = emulator.client("ecs")
    arns = ecs.list_tasks(cluster=PREFIX, desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster=PREFIX, tasks=arns)["tasks"] if arns else []
    web_td = _service(emulator, "web")["taskDefinition"]
    migrations = [t for t in tasks if t["taskDefinitionArn"] == web_td]
    assert migrations, "no one-off task ran with the new revision"
    override = migrations[0]["overrides"]["containerOverrides"][0]
    assert override["name"] == "app" and override["command"] == ["python", "-m", "ecsapp.migrate"]
    assert [c["exitCode"] for c in migrations[0]["containers"] if c["name"] == "app"] == [0]
    actions = [c.action for c in redeployed["run"].calls if c.service == "ecs"]
    assert actions.index("RunTask") < actions.index("UpdateService")


def test_full_converge_keeps_the_deployed_image(redeployed: dict[str, Any], emulator: Emulator) -> None:
    run = playbook(emulator, "site.yml")
    assert run.rc == 0, run.tail()
    assert run.changed == 0, run.recap
    web = _service(emulator, "web")
    assert _images(emulator, web["taskDefinition"])["app"].endswith(":1.1.0")
    assert len(_revisions(emulator, "web")) == 2
    # preflight checks the account; the deploy does not ask again (the other sts calls are amazon.aws's
    # ec2_security_group in the network play, before any ECS call)
    sts = [i for i, c in enumerate(run.calls) if c.action == "GetCallerIdentity"]
    ecs = [i for i, c in enumerate(run.calls) if c.service == "ecs"]
    assert sts and ecs and sts[-1] < ecs[0], [(c.service, c.action) for c in run.calls]


def test_deploy_only_run_checks_the_account_in_ecs_deploy_before_any_other_call(redeployed: dict[str, Any], emulator: Emulator) -> None:
    run = playbook(emulator, "site.yml", "--tags", "deploy", "--limit", "web", "-e", "aws_account_id=111122223333",
                   "-e", "image_tag=7.7.7")
    assert run.rc != 0
    assert "the credentials belong to account 123456789012, but the deploy expects 111122223333" in run.output, run.tail()
    assert [c.action for c in run.calls] == ["GetCallerIdentity"]


def test_redeploy_again_is_a_no_op(redeployed: dict[str, Any], emulator: Emulator) -> None:
    run = playbook(emulator, "site.yml", "--tags", "deploy", "--limit", "web", "-e", "image_tag=1.1.0")
    assert run.rc == 0, run.tail()
    assert run.changed == 0 and run.mutating == []


def test_failed_migration_stops_the_rollout_before_the_service_changes(redeployed: dict[str, Any], emulator: Emulator) -> None:
    good = _service(emulator, "web")["taskDefinition"]
    run = playbook(emulator, "site.yml", "--tags", "deploy", "--limit", "web", "-e", "image_tag=broken-2")
    assert run.rc != 0
    assert "run_before for service web failed" in run.output and "exited with code 1" in run.output, run.tail()
    assert _service(emulator, "web")["taskDefinition"] == good
    assert not [c for c in run.calls if c.action == "UpdateService"]


def test_failed_rollout_is_reported_and_rolled_back_by_the_circuit_breaker(redeployed: dict[str, Any], emulator: Emulator) -> None:
    good = _service(emulator, "worker")["taskDefinition"]
    run = playbook(emulator, "site.yml", "--tags", "deploy", "--limit", "worker", "-e", "image_tag=broken-3")
    assert run.rc != 0
    assert "worker" in run.output and "circuit breaker" in run.output.lower(), run.tail()
    worker = _service(emulator, "worker")
    assert worker["taskDefinition"] == good, "the circuit breaker put the service back on the last good revision"
    assert _images(emulator, worker["taskDefinition"])["worker"].endswith(":1.0.0")


def test_rollback_playbook_returns_to_the_previous_revision(redeployed: dict[str, Any], emulator: Emulator) -> None:
    current = _service(emulator, "web")["taskDefinition"]
    run = playbook(emulator, "playbooks/rollback.yml", "--limit", "web")
    assert run.rc == 0, run.tail()
    web = _service(emulator, "web")
    assert web["taskDefinition"] != current
    assert _images(emulator, web["taskDefinition"])["app"].endswith(":1.0.0")
    assert web["deployments"][0]["rolloutState"] == "COMPLETED"


def test_one_failed_rollout_fails_its_own_host_and_the_other_services_roll(redeployed: dict[str, Any], emulator: Emulator) -> None:
    """Both services go to the one ecs_deploy call (deployments): web's nginx image is broken, so its rollout fails
    and the circuit breaker puts it back; worker rolls in the same call. Only web's host fails."""
    good_web = _service(emulator, "web")["taskDefinition"]
    run = playbook(emulator, "site.yml", "--tags", "deploy", "-e", "image_tag=1.3.0", "-e", "nginx_image_tag=broken-5")
    assert run.rc != 0
    assert run.recap["web"]["failed"] == 1 and run.recap["worker"]["failed"] == 0, run.recap
    assert run.recap["worker"]["changed"] == 1, run.recap
    assert "fatal: [web]" in run.output and "circuit breaker" in run.output.lower(), run.tail()
    assert "fatal: [worker]" not in run.output
    worker = _service(emulator, "worker")
    assert _images(emulator, worker["taskDefinition"])["worker"].endswith(":1.3.0")
    assert worker["deployments"][0]["rolloutState"] == "COMPLETED"
    assert _service(emulator, "web")["taskDefinition"] == good_web, "the circuit breaker put web back"
    assert len([c for c in run.calls if c.action == "RegisterTaskDefinition"]) == 2
