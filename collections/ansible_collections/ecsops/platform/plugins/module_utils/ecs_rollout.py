# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ecs_deploy does after it has a revision to run: the one-off migration task before the service rolls
(run_migration), and the wait for the rollout (rollout_state, wait_for_rollout).

They take the ECS client (or a describe function) and report a failure by raising DeployError, which the module
turns into fail_json; they are unit tested through the module (tests/unit/test_ecs_deploy.py) and rollout_state
directly (tests/unit/test_ecs_module_utils.py).
"""

from __future__ import annotations

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:  # the module reports the missing botocore (AnsibleAWSModule)
    AWS_ERRORS = ()

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import container_images
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import td_label

MIGRATION_STARTED_BY = "ecsops-run-before"


class DeployError(Exception):
    """A deploy that must stop: `msg` for the user, the AWS `exception` behind it if any, and `extra` result keys."""

    def __init__(self, msg, exception=None, **extra):
        super().__init__(msg)
        self.msg = msg
        self.exception = exception
        self.extra = extra


def sleep_until(deadline, delay):
    """Sleep `delay` seconds, but not past `deadline` (time.monotonic())."""
    remaining = min(float(delay), max(deadline - time.monotonic(), 0))
    if remaining > 0:
        time.sleep(remaining)


def run_migration(client, cluster, service_name, td, spec, delay, result, capacity_provider_strategy=None,
                  network_configuration=None):
    """Run `spec` (run_before: container, command, timeout) as a one-off task of revision `td` and wait for it to
    stop. Returns when its container exited 0; raises DeployError otherwise, before the service is touched.
    `result` gets run_before_task (and, on a failed exit, run_before_exit_code and run_before_stopped_reason)."""
    label = td_label(td["taskDefinitionArn"])
    if spec["container"] not in container_images(td):
        raise DeployError(f"run_before.container {spec['container']} is not a container of {label}")
    kwargs = dict(
        cluster=cluster,
        taskDefinition=td["taskDefinitionArn"],
        count=1,
        startedBy=MIGRATION_STARTED_BY,
        overrides={"containerOverrides": [{"name": spec["container"], "command": spec["command"]}]},
    )
    if capacity_provider_strategy:
        kwargs["capacityProviderStrategy"] = capacity_provider_strategy
    if network_configuration:
        kwargs["networkConfiguration"] = network_configuration
    try:
        response = client.run_task(aws_retry=True, **kwargs)
    except AWS_ERRORS as e:
        raise DeployError(f"run_before for service {service_name}: RunTask of {label} failed", exception=e) from e
    tasks = response.get("tasks") or []
    if not tasks:
        reasons = "; ".join(
            f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip()
            for f in response.get("failures") or []
        )
        raise DeployError(
            f"run_before for service {service_name}: RunTask of {label} started no task ({reasons or 'no reason given'})"
        )
    task_arn = tasks[0]["taskArn"]
    result["run_before_task"] = task_arn
    deadline = time.monotonic() + spec["timeout"]
    while True:
        try:
            described = client.describe_tasks(cluster=cluster, tasks=[task_arn], aws_retry=True)
        except AWS_ERRORS as e:
            raise DeployError(f"run_before for service {service_name}: DescribeTasks failed", exception=e) from e
        task = (described.get("tasks") or [{}])[0]
        if task.get("lastStatus") == "STOPPED":
            break
        if time.monotonic() >= deadline:
            raise DeployError(
                f"run_before for service {service_name}: task {task_arn} of {label} did not stop within "
                f"{spec['timeout']} seconds (last status {task.get('lastStatus')}); the service was not changed "
                "and the task was left running"
            )
        sleep_until(deadline, delay)
    container = next((c for c in task.get("containers") or [] if c.get("name") == spec["container"]), {})
    exit_code = container.get("exitCode")
    if exit_code != 0:
        raise DeployError(
            f"run_before for service {service_name} failed: container {spec['container']} of revision {label} "
            f"exited with code {exit_code} (stoppedReason: {task.get('stoppedReason')}; "
            f"container reason: {container.get('reason')}); the service was not changed",
            run_before_exit_code=exit_code,
            run_before_stopped_reason=task.get("stoppedReason"),
        )


def rollout_state(service, target_arn):
    """(state, reason) of the rollout of `target_arn` in a DescribeServices `service`: its deployment's
    rolloutState (COMPLETED, IN_PROGRESS, FAILED); FAILED when no deployment of it is left and the service runs
    another revision (the circuit breaker rolled back); IN_PROGRESS while ECS has not listed its deployment yet.
    A deployment without rolloutState (ECS omits it behind a Classic Load Balancer) is COMPLETED once it is the
    only one and runs its desired count."""
    deployments = service.get("deployments") or []
    ours = [d for d in deployments if d.get("taskDefinition") == target_arn]
    if ours:
        ours.sort(key=lambda d: d.get("status") != "PRIMARY")
        deployment = ours[0]
        state = deployment.get("rolloutState")
        if state is None:
            steady = len(deployments) == 1 and deployment.get("runningCount", 0) >= deployment.get("desiredCount", 0)
            state = "COMPLETED" if steady else "IN_PROGRESS"
        return state, deployment.get("rolloutStateReason")
    if service.get("taskDefinition") != target_arn:
        return "FAILED", (
            f"no deployment of {td_label(target_arn)} is left and the service runs {td_label(service.get('taskDefinition'))}"
        )
    return "IN_PROGRESS", None


def wait_for_rollout(describe_service, target_arn, old_arn, name, cluster, timeout, delay, result, on_rolled_back):
    """Poll `describe_service()` until the rollout of `target_arn` is COMPLETED. Raises DeployError when it
    FAILED (after `on_rolled_back(service, now_on)` if the circuit breaker put the service back on another
    revision), when the service disappeared, or after `timeout` seconds. `result` gets rollout_state,
    rollout_reason and, on failure, rolled_back."""
    deadline = time.monotonic() + timeout
    label = td_label(target_arn)
    while True:
        service = describe_service()
        if not service:
            raise DeployError(f"service {name} disappeared from cluster {cluster} while waiting for {label}")
        state, reason = rollout_state(service, target_arn)
        result["rollout_state"] = state
        result["rollout_reason"] = reason
        if state == "COMPLETED":
            return
        if state == "FAILED":
            now_on = service.get("taskDefinition")
            rolled_back = now_on != target_arn
            result["rolled_back"] = rolled_back
            if rolled_back:
                tail = f"the circuit breaker rolled the service back to {td_label(now_on)}"
                if old_arn and now_on != old_arn:
                    tail = f"the service now runs {td_label(now_on)}"
                on_rolled_back(service, now_on)
            else:
                tail = f"the service was not rolled back and still points at {label}"
            raise DeployError(
                f"rollout of {label} to service {name} (cluster {cluster}) FAILED: {reason}; {tail}",
                task_definition_arn=target_arn,
            )
        if time.monotonic() >= deadline:
            raise DeployError(
                f"timed out after {timeout}s waiting for the rollout of {label} to service "
                f"{name} (cluster {cluster}); last rollout state {state}: {reason}",
                task_definition_arn=target_arn,
            )
        sleep_until(deadline, delay)
