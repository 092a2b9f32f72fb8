"""The simulation: the one explicit place where the emulator plays what moto does not model.

moto stores AWS resources but runs nothing: no EC2 instance boots, no ECS agent joins a
cluster, no container starts, no deployment ever finishes. This module runs a background
thread in the server process (a tick about every 0.1 s) that manipulates moto's in-process
backends directly, plus a few synchronous hooks on moto's ECS backend, to play:

* **The ECS agent** on every running EC2 instance (Auto Scaling or not): it decodes the
  instance's user data, takes ``ECS_CLUSTER=<name>`` from it (a shell script writing
  /etc/ecs/ecs.config, e.g. ``echo ECS_CLUSTER=x >> /etc/ecs/ecs.config`` or a heredoc)
  and, if an ACTIVE cluster of that name exists in the same account and region, registers
  the instance as a container instance (resources from the instance type). Instances that
  stop running are deregistered. A user data naming a missing cluster registers nothing.
* **The ECS service scheduler**: every change of a service's task definition (create,
  update, forceNewDeployment) makes a new PRIMARY deployment (older ones become ACTIVE).
  After ``ROLLOUT_SECONDS`` (env ``EMULATOR_ROLLOUT_SECONDS``, default 0.5), if the cluster
  has an ACTIVE container instance, the PRIMARY completes (rolloutState COMPLETED,
  runningCount = desiredCount, ACTIVE deployments drained, "has reached a steady state."
  event). Without container instances it stays IN_PROGRESS, like AWS. If an image of the
  task definition has a tag starting with ``broken``, its tasks fail: with the deployment
  circuit breaker enabled the deployment becomes FAILED ("ECS deployment circuit breaker:
  tasks failed to start."), and with rollback the service returns to the task definition
  of its last COMPLETED deployment through a new PRIMARY deployment (the failed one stays
  visible as ACTIVE/FAILED until the rollback completes, then it is drained, as on AWS);
  without the circuit breaker ECS retries forever (IN_PROGRESS, failedTasks growing).
* **One-off tasks** (RunTask/StartTask): PENDING, then RUNNING after half of
  ``ROLLOUT_SECONDS``, then STOPPED after ``ROLLOUT_SECONDS`` with stoppedReason
  "Essential container in task exited" and exit code 0, or 1 if an image tag starts with
  ``broken``.

* **Service tasks**: once a service's PRIMARY deployment is COMPLETED, the service has
  ``runningCount`` RUNNING tasks of that task definition (startedBy the deployment id, group
  ``service:<name>``, no container instance); tasks of older task definitions, of a lower
  desired count and of deleted services are STOPPED. ``ListTasks`` honours ``serviceName``
  (moto ignores it): RUNNING tasks of that service unless ``desiredStatus`` says otherwise, as
  on AWS. This is what a waiter that counts tasks (ecs-deploy's) needs to see a rollout end.

Not modelled: service tasks before their deployment completes (no task is PENDING during a
rollout), placement of service tasks on container instances, target group health, load balancer registration, placement constraints/strategies, instance
profiles (moto's ASG instances have none; the agent joins anyway), capacity provider
managed scaling, daemon services beyond desiredCount.

Every access to moto state happens under the server-wide lock that also serialises
requests (see :mod:`emulator.server`), so the simulation never observes half-done requests.
"""

from __future__ import annotations

import base64
import os
import random
import re
import threading
import time
import uuid
from typing import Any

ROLLOUT_SECONDS = float(os.environ.get("EMULATOR_ROLLOUT_SECONDS", "0.5"))
TICK_SECONDS = 0.1
BROKEN_TAG_PREFIX = "broken"
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
MAX_EVENTS = 100

_ECS_CLUSTER_RE = re.compile(r"ECS_CLUSTER=[\"']?([A-Za-z0-9_-]+)")


def decode_user_data(raw: Any) -> str:
    """Return user data as text, whatever shape moto stored it in (base64 str/bytes/object)."""
    if raw is None:
        return ""
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else None
        return decode_user_data(raw)
    if hasattr(raw, "decode") and not isinstance(raw, (bytes, str)):
        try:
            return raw.decode()  # moto.core.types.Base64EncodedString
        except Exception:  # noqa: BLE001 - fall through to the generic path
            raw = str(raw)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - not base64: already plain text
        return str(raw)


def ecs_cluster_from_user_data(text: str) -> str | None:
    """Return the cluster an ECS agent would join, from a shell-script user data.

    The agent reads ``ECS_CLUSTER`` from /etc/ecs/ecs.config; the script writes it with
    ``echo``/``printf`` or a heredoc. Comment lines are ignored; the last value wins.
    """
    cluster = None
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ECS_CLUSTER_RE.search(line)
        if match:
            cluster = match.group(1)
    return cluster


def image_is_broken(image: str | None) -> bool:
    """True if the image's tag starts with ``broken`` (e.g. ``repo:broken-1``)."""
    if not image:
        return False
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return ":" in name and name.split(":", 1)[1].startswith(BROKEN_TAG_PREFIX)


def instance_resources(instance_type: str) -> tuple[int, int]:
    """(CPU units, MEMORY MiB) an ECS agent registers for ``instance_type``.

    CPU is 1024 per vCPU; memory is about 92.8 % of the instance's (what the kernel and
    agent leave; t3.medium -> 3801 MiB). Unknown types fall back to 2048/3800.
    """
    try:
        from moto.ec2.models.instance_types import INSTANCE_TYPES

        info = INSTANCE_TYPES[instance_type]
        cpu = int(info["VCpuInfo"]["DefaultVCpus"]) * 1024
        memory = int(round(int(info["MemoryInfo"]["SizeInMiB"]) * 0.928))
        return cpu, memory
    except Exception:  # noqa: BLE001
        return 2048, 3800


def _now() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


def _deployment_id() -> str:
    return "ecs-svc/" + "".join(random.choice("0123456789") for _ in range(19))


def _containers(task: Any, task_definition: Any, status: str) -> list[Any]:
    """One moto Container per container definition of the task's revision, in `status`."""
    from moto.ecs.models import Container

    containers = []
    for definition in task_definition.container_definitions:
        container = Container(task_definition)
        container.task_arn = task.task_arn
        container.name = definition.get("name")
        container.image = definition.get("image")
        container.last_status = status
        container.exitCode = None
        containers.append(container)
    return containers


def _add_event(service: Any, message: str) -> None:
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": _now(), "message": message})
    del service.events[MAX_EVENTS:]


def _backends(backend_dict: Any) -> list[tuple[str, str, Any]]:
    """(account, region, backend) for every *instantiated* backend, without creating any."""
    out = []
    for account_id, per_region in list(dict.items(backend_dict)):
        for region, backend in list(dict.items(per_region)):
            out.append((account_id, region, backend))
    return out


def _existing_backend(backend_dict: Any, account_id: str, region: str) -> Any:
    per_region = dict.get(backend_dict, account_id)
    return dict.get(per_region, region) if per_region is not None else None


class Simulation:
    """State and behaviour of the simulation; one instance per server process."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.enabled = True
        self.ticks = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset_state()

    # ------------------------------------------------------------------ lifecycle
    def _reset_state(self) -> None:
        #: (account, region, instance id) -> registration record
        self.registered: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: deployment id -> bookkeeping (service, start time, outcome ...)
        self.deployments: dict[str, dict[str, Any]] = {}
        #: service ARN -> (task definition ARN, deployment id) of its last COMPLETED deployment
        self.last_completed: dict[str, tuple[str, str]] = {}
        #: task ARN -> bookkeeping for one-off tasks
        self.tasks: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget everything (moto's backends were reset) and resume."""
        with self.lock:
            self._reset_state()
            self.enabled = True
            self.last_error = None

    def start(self) -> None:
        """Start the tick thread (daemon)."""
        self._thread = threading.Thread(target=self._run, name="emulator-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            if not self.enabled:
                continue
            try:
                with self.lock:
                    self.tick()
            except Exception as exc:  # noqa: BLE001 - never let the thread die
                self.last_error = f"{type(exc).__name__}: {exc}"

    def status(self) -> dict[str, Any]:
        """JSON-able summary for ``GET /_emulator/sim``."""
        with self.lock:
            return {
                "enabled": self.enabled,
                "ticks": self.ticks,
                "rollout_seconds": ROLLOUT_SECONDS,
                "last_error": self.last_error,
                "registered_instances": [
                    {"account": a, "region": r, "instanceId": i, **rec}
                    for (a, r, i), rec in self.registered.items()
                ],
                "deployments": [
                    {
                        "id": dep_id,
                        "service": meta["service_arn"],
                        "taskDefinition": meta["task_definition"],
                        "broken": meta["broken"],
                        "rollbackOf": meta["rollback_of"],
                        "outcome": meta["outcome"],
                    }
                    for dep_id, meta in self.deployments.items()
                ],
                "tasks": [
                    {"taskArn": arn, "exitCode": meta["exit_code"], "status": meta["status"]}
                    for arn, meta in self.tasks.items()
                ],
            }

    # ------------------------------------------------------------------ hooks
    def install_hooks(self) -> None:
        """Wrap moto's ECS backend so service/task changes are seen synchronously.

        A rollout waiter calls DescribeServices right after UpdateService; the new PRIMARY
        deployment must already be there, so it is created inside the request.
        """
        from moto.ecs.models import EC2ContainerServiceBackend as Backend

        if getattr(Backend.create_service, "_emulator_sim", False):
            return
        sim = self
        create_service, update_service = Backend.create_service, Backend.update_service
        run_task, start_task = Backend.run_task, Backend.start_task
        list_tasks = Backend.list_tasks

        def create_service_hook(backend: Any, *args: Any, **kwargs: Any) -> Any:
            service = create_service(backend, *args, **kwargs)
            if sim._is_simulated(service):
                service.deployments = []
                sim._new_deployment(service, service.task_definition)
                sim._sync_counts(backend)
            return service

        def update_service_hook(backend: Any, props: dict[str, Any]) -> Any:
            cluster = props.get("cluster", "default")
            before = backend._get_service(cluster, props["service"].split("/")[-1])
            previous_td = before.task_definition
            force = bool(props.get("force_new_deployment"))
            service = update_service(backend, props)
            if sim._is_simulated(service):
                if force or service.task_definition != previous_td or not service.deployments:
                    sim._new_deployment(service, service.task_definition)
                else:
                    primary = service.deployments[0]
                    primary["desiredCount"] = service.desired_count
                    primary["updatedAt"] = _now()
                sim._sync_counts(backend)
            return service

        def run_task_hook(backend: Any, *args: Any, **kwargs: Any) -> Any:
            tasks = run_task(backend, *args, **kwargs)
            for task in tasks:
                sim._adopt_task(backend, task)
            return tasks

        def start_task_hook(backend: Any, *args: Any, **kwargs: Any) -> Any:
            tasks = start_task(backend, *args, **kwargs)
            for task in tasks:
                sim._adopt_task(backend, task)
            return tasks

        def list_tasks_hook(backend: Any, cluster_str: Any = None, container_instance: Any = None, family: Any = None,
                            started_by: Any = None, service_name: Any = None, desired_status: Any = None) -> Any:
            tasks = list_tasks(backend, cluster_str, container_instance, family, started_by, None, desired_status)
            if not service_name:
                return tasks
            group = f"service:{str(service_name).split('/')[-1]}"
            return [t for t in tasks if t.group == group and (desired_status or t.desired_status == "RUNNING")]

        for hook in (create_service_hook, update_service_hook, run_task_hook, start_task_hook, list_tasks_hook):
            hook._emulator_sim = True  # type: ignore[attr-defined]
        Backend.list_tasks = list_tasks_hook
        Backend.create_service = create_service_hook
        Backend.update_service = update_service_hook
        Backend.run_task = run_task_hook
        Backend.start_task = start_task_hook

    # ------------------------------------------------------------------ tick
    def tick(self) -> None:
        """One step of the simulation (caller holds the lock)."""
        from moto.ec2.models import ec2_backends
        from moto.ecs.models import ecs_backends

        self.ticks += 1
        self._agent(ec2_backends, ecs_backends)
        for _account, _region, backend in _backends(ecs_backends):
            for service in list(backend.services.values()):
                if service.status == "ACTIVE" and self._is_simulated(service):
                    self._advance_service(backend, service)
            self._stop_orphaned_service_tasks(backend)
            self._advance_tasks(backend)
            self._sync_counts(backend)

    # ------------------------------------------------------------------ ECS agent
    def _agent(self, ec2_backends: Any, ecs_backends: Any) -> None:
        for account_id, region, ec2 in _backends(ec2_backends):
            for instance in ec2.all_instances():
                key = (account_id, region, instance.id)
                if key in self.registered:
                    if instance.state != "running":
                        self._deregister(ecs_backends, key)
                    continue
                if instance.state != "running":
                    continue
                ecs = _existing_backend(ecs_backends, account_id, region)
                if ecs is None:
                    continue
                if "_cluster" not in instance.__dict__:
                    # cache the parse: user data of an instance never changes here
                    instance.__dict__["_cluster"] = ecs_cluster_from_user_data(
                        decode_user_data(getattr(instance, "user_data", None))
                    )
                cluster_name = instance.__dict__["_cluster"]
                cluster = ecs.clusters.get(cluster_name) if cluster_name else None
                if cluster is None or cluster.status != "ACTIVE":
                    continue
                known = ecs.container_instances.get(cluster_name, {}).values()
                if any(ci.ec2_instance_id == instance.id for ci in known):
                    continue
                self._register(ecs, key, cluster_name, instance)
        # instances that vanished altogether (moto reset keeps us in sync via reset())
        for key in list(self.registered):
            account_id, region, instance_id = key
            ec2 = _existing_backend(ec2_backends, account_id, region)
            if ec2 is None or not any(i.id == instance_id for i in ec2.all_instances()):
                self._deregister(ecs_backends, key)

    def _register(self, ecs: Any, key: tuple[str, str, str], cluster_name: str, instance: Any) -> None:
        container_instance = ecs.register_container_instance(cluster_name, instance.id)
        cpu, memory = instance_resources(instance.instance_type)
        for resources in (container_instance.registered_resources, container_instance.remaining_resources):
            for resource in resources:
                if resource["name"] == "CPU":
                    resource["integerValue"] = cpu
                elif resource["name"] == "MEMORY":
                    resource["integerValue"] = memory
        container_instance.version_info = {
            "agentVersion": "1.89.0",
            "agentHash": "emulator",
            "dockerVersion": "DockerVersion: 25.0.8",
        }
        self.registered[key] = {
            "cluster": cluster_name,
            "containerInstanceArn": container_instance.container_instance_arn,
            "instanceType": instance.instance_type,
        }

    def _deregister(self, ecs_backends: Any, key: tuple[str, str, str]) -> None:
        record = self.registered.pop(key)
        ecs = _existing_backend(ecs_backends, key[0], key[1])
        if ecs is None:
            return
        cluster_name = record["cluster"]
        ci_id = record["containerInstanceArn"].split("/")[-1]
        if ci_id in ecs.container_instances.get(cluster_name, {}):
            ecs.deregister_container_instance(cluster_name, ci_id, force=True)
            cluster = ecs.clusters.get(cluster_name)
            if cluster is not None and cluster.registered_container_instances_count > 0:
                cluster.registered_container_instances_count -= 1

    # ------------------------------------------------------------------ scheduler
    @staticmethod
    def _is_simulated(service: Any) -> bool:
        return (service.deployment_controller or {}).get("type", "ECS") == "ECS"

    @staticmethod
    def _has_capacity(backend: Any, cluster_name: str) -> bool:
        return any(
            ci.status == "ACTIVE" for ci in backend.container_instances.get(cluster_name, {}).values()
        )

    def _task_definition_broken(self, backend: Any, td_arn: str | None) -> bool:
        if not td_arn:
            return False
        try:
            task_definition = backend.describe_task_definition(td_arn)
        except Exception:  # noqa: BLE001 - deleted task definition: treat as fine
            return False
        return any(image_is_broken(c.get("image")) for c in task_definition.container_definitions)

    def _new_deployment(self, service: Any, td_arn: str | None, rollback_of: str | None = None) -> dict[str, Any]:
        """Add a PRIMARY deployment for ``td_arn``; the previous PRIMARY becomes ACTIVE."""
        now = _now()
        for deployment in service.deployments:
            if deployment["status"] == "PRIMARY":
                deployment["status"] = "ACTIVE"
                deployment["updatedAt"] = now
        dep_id = _deployment_id()
        deployment: dict[str, Any] = {
            "id": dep_id,
            "status": "PRIMARY",
            "taskDefinition": td_arn,
            "desiredCount": service.desired_count,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment {dep_id} in progress.",
        }
        strategy = getattr(service, "capacity_provider_strategy", None)
        if strategy:
            deployment["capacityProviderStrategy"] = strategy
        else:
            deployment["launchType"] = service.launch_type
        if service.network_configuration:
            deployment["networkConfiguration"] = service.network_configuration
        service.deployments.insert(0, deployment)
        self.deployments[dep_id] = {
            "service_arn": service.arn,
            "task_definition": td_arn,
            "started": time.monotonic(),
            "broken": self._task_definition_broken(service._backend, td_arn),
            "rollback_of": rollback_of,
            "outcome": "IN_PROGRESS",
            "no_capacity_event": False,
            "retry_event": False,
        }
        return deployment

    def _advance_service(self, backend: Any, service: Any) -> None:
        primary = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
        if primary is None:
            return
        meta = self.deployments.get(primary["id"])
        if meta is None:  # a deployment made before the simulation knew the service
            service.deployments.remove(primary)
            self._new_deployment(service, service.task_definition)
            return
        if primary["desiredCount"] != service.desired_count:
            primary["desiredCount"] = service.desired_count
            primary["updatedAt"] = _now()
        desired = primary["desiredCount"]
        capacity = self._has_capacity(backend, service.cluster_name)
        state = primary["rolloutState"]
        if state == "COMPLETED":
            running = desired if capacity else 0
            if primary["runningCount"] != running:
                primary["runningCount"], primary["pendingCount"] = running, 0
                primary["updatedAt"] = _now()
                self._sync_service_tasks(backend, service, primary)
            return
        if state != "IN_PROGRESS":
            return
        if desired > 0 and not capacity:
            primary["pendingCount"] = 0
            if not meta["no_capacity_event"]:
                meta["no_capacity_event"] = True
                _add_event(
                    service,
                    f"(service {service.name}) was unable to place a task because no container "
                    "instance met all of its requirements. Reason: No Container Instances were "
                    "found in your cluster.",
                )
            meta["started"] = time.monotonic()  # the clock starts once capacity exists
            return
        if time.monotonic() - meta["started"] < ROLLOUT_SECONDS:
            primary["pendingCount"] = desired
            return
        if meta["broken"] and desired > 0:
            self._fail(service, primary, meta)
        else:
            self._complete(service, primary, meta)

    def _complete(self, service: Any, primary: dict[str, Any], meta: dict[str, Any]) -> None:
        primary.update(
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {primary['id']} completed.",
            runningCount=primary["desiredCount"],
            pendingCount=0,
            updatedAt=_now(),
        )
        for deployment in service.deployments:
            if deployment is not primary:
                gone = self.deployments.get(deployment["id"])
                if gone is not None and gone["outcome"] == "IN_PROGRESS":
                    gone["outcome"] = "SUPERSEDED"
        service.deployments[:] = [primary]
        meta["outcome"] = "COMPLETED"
        self.last_completed[service.arn] = (primary["taskDefinition"], primary["id"])
        _add_event(service, f"(service {service.name}) (deployment {primary['id']}) deployment completed.")
        _add_event(service, f"(service {service.name}) has reached a steady state.")
        self._sync_service_tasks(service._backend, service, primary)

    def _fail(self, service: Any, primary: dict[str, Any], meta: dict[str, Any]) -> None:
        desired = max(primary["desiredCount"], 1)
        primary.update(failedTasks=primary["failedTasks"] + desired, runningCount=0, pendingCount=0, updatedAt=_now())
        config = getattr(service, "deployment_configuration", None) or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable"):
            # No circuit breaker: ECS keeps launching replacement tasks for ever.
            meta["started"] = time.monotonic()
            if not meta["retry_event"]:
                meta["retry_event"] = True
                _add_event(service, f"(service {service.name}) is unable to consistently start tasks successfully.")
            return
        primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON)
        meta["outcome"] = "FAILED"
        _add_event(
            service,
            f"(service {service.name}) (deployment {primary['id']}) deployment failed: tasks failed to start.",
        )
        previous = self.last_completed.get(service.arn)
        if not breaker.get("rollback") or previous is None:
            return
        previous_td, previous_id = previous
        _add_event(service, f"(service {service.name}) rolling back to deployment {previous_id}.")
        meta["outcome"] = "ROLLED_BACK"
        service.task_definition = previous_td
        self._new_deployment(service, previous_td, rollback_of=primary["id"])

    # ------------------------------------------------------------------ service tasks
    def _sync_service_tasks(self, backend: Any, service: Any, primary: dict[str, Any]) -> None:
        """Make the service's RUNNING tasks `runningCount` tasks of the PRIMARY's task definition."""
        from moto.ecs.models import Task

        group = f"service:{service.name}"
        cluster_tasks = backend.tasks.setdefault(service.cluster_name, {})
        running = [t for t in cluster_tasks.values() if t.group == group and t.desired_status == "RUNNING"]
        current = [t for t in running if t.task_definition_arn == primary["taskDefinition"]]
        for task in running:
            if task not in current:
                self._stop_service_task(task, f"Task stopped by deployment {primary['id']}.")
        while len(current) > primary["runningCount"]:
            self._stop_service_task(current.pop(), f"Scaling activity initiated by (deployment {primary['id']})")
        missing = primary["runningCount"] - len(current)
        if missing <= 0:
            return
        cluster = backend.clusters.get(service.cluster_name)
        try:
            task_definition = backend.describe_task_definition(primary["taskDefinition"])
        except Exception:  # noqa: BLE001 - a deleted revision: no tasks to show, the rollout itself is done
            return
        if cluster is None:
            return
        for _ in range(missing):
            task = Task(cluster, task_definition, None, None, backend, group, launch_type="EC2",
                        started_by=primary["id"])
            task._transitions = []  # stays RUNNING until the simulation stops it
            task.last_status = "RUNNING"
            task.created_at = task.started_at = task.pull_stopped_at = _now()
            task.containers = _containers(task, task_definition, "RUNNING")
            cluster_tasks[task.task_arn] = task

    @staticmethod
    def _stop_service_task(task: Any, reason: str) -> None:
        now = _now()
        task.last_status = task.desired_status = "STOPPED"
        task.stopped_reason = reason
        task.stop_code = "ServiceSchedulerInitiated"
        task.stopping_at = task.execution_stopped_at = task.stopped_at = now
        for container in task.containers:
            container.last_status = "STOPPED"

    def _stop_orphaned_service_tasks(self, backend: Any) -> None:
        """Tasks of a service that was deleted (or is no longer ACTIVE) stop, as they do on AWS."""
        active = {f"service:{s.name}": s.cluster_name for s in backend.services.values() if s.status == "ACTIVE"}
        for cluster_name, cluster_tasks in backend.tasks.items():
            for task in cluster_tasks.values():
                group = task.group or ""
                if (group.startswith("service:") and task.desired_status == "RUNNING"
                        and active.get(group) != cluster_name):
                    self._stop_service_task(task, "Service was deleted.")

    # ------------------------------------------------------------------ one-off tasks
    def _adopt_task(self, backend: Any, task: Any) -> None:
        task_definition = backend.describe_task_definition(task.task_definition_arn)
        task._transitions = []  # stop moto's describe-driven state machine; we drive it
        task.last_status = "PENDING"
        task.desired_status = "RUNNING"
        task.created_at = _now()
        task.containers = _containers(task, task_definition, "PENDING")
        broken = any(image_is_broken(container.image) for container in task.containers)
        self.tasks[task.task_arn] = {
            "started": time.monotonic(),
            "exit_code": 1 if broken else 0,
            "status": "PENDING",
            "cluster": task.cluster_name,
        }

    def _advance_tasks(self, backend: Any) -> None:
        for cluster_tasks in list(backend.tasks.values()):
            for task in list(cluster_tasks.values()):
                meta = self.tasks.get(task.task_arn)
                if meta is None or meta["status"] == "STOPPED":
                    continue
                if task.desired_status == "STOPPED" or task._status == "STOPPED":  # StopTask
                    meta["status"] = "STOPPED"
                    continue
                elapsed = time.monotonic() - meta["started"]
                if meta["status"] == "PENDING" and elapsed >= ROLLOUT_SECONDS / 2:
                    meta["status"] = task.last_status = "RUNNING"
                    task.started_at = task.pull_stopped_at = _now()
                    for container in task.containers:
                        container.last_status = "RUNNING"
                if meta["status"] == "RUNNING" and elapsed >= ROLLOUT_SECONDS:
                    self._stop_task(backend, task, meta)

    @staticmethod
    def _stop_task(backend: Any, task: Any, meta: dict[str, Any]) -> None:
        now = _now()
        meta["status"] = task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stopped_reason = "Essential container in task exited"
        task.stop_code = "EssentialContainerExited"
        task.stopping_at = task.execution_stopped_at = task.stopped_at = now
        for container in task.containers:
            container.last_status = "STOPPED"
            container.exitCode = 1 if image_is_broken(container.image) else 0
        if task.container_instance_arn:
            instances = backend.container_instances.get(task.cluster_name, {})
            container_instance = instances.get(task.container_instance_arn.split("/")[-1])
            if container_instance is not None and task.resource_requirements:
                backend.update_container_instance_resources(
                    container_instance, task.resource_requirements, removing=True
                )

    # ------------------------------------------------------------------ counters
    def _sync_counts(self, backend: Any) -> None:
        """Derive service and cluster task counters from deployments and tasks."""
        per_cluster: dict[str, list[int]] = {}
        for service in backend.services.values():
            if service.status != "ACTIVE" or not self._is_simulated(service):
                continue
            service.running_count = sum(d.get("runningCount", 0) for d in service.deployments)
            service.pending_count = sum(d.get("pendingCount", 0) for d in service.deployments)
            counts = per_cluster.setdefault(service.cluster_name, [0, 0, 0])
            counts[0] += service.running_count
            counts[1] += service.pending_count
            counts[2] += 1
        for cluster_tasks in backend.tasks.values():
            for task in cluster_tasks.values():
                meta = self.tasks.get(task.task_arn)
                if meta is None:
                    continue
                counts = per_cluster.setdefault(meta["cluster"], [0, 0, 0])
                if meta["status"] == "RUNNING":
                    counts[0] += 1
                elif meta["status"] == "PENDING":
                    counts[1] += 1
        for name, cluster in backend.clusters.items():
            running, pending, services = per_cluster.get(name, [0, 0, 0])
            cluster.running_tasks_count = running
            cluster.pending_tasks_count = pending
            cluster.active_services_count = services
