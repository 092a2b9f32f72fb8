#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_deploy
version_added: 1.0.0
short_description: Idempotent one-call rolling deploy of an ECS service (task definition + service + wait)
description:
  - Registers a task definition revision only when it differs from the one the service runs,
    creates or updates the ECS service in a single call, optionally runs a one-off task
    (for example a database migration) first, waits for the rollout to finish and prunes old revisions.
  - Fills these gaps in C(amazon.aws) / C(community.aws)
  - M(community.aws.ecs_taskdefinition) lists and describes every revision of the family on each run
    (cost grows with the number of revisions) and always reports C(changed) for definitions with
    secrets or AWS-filled defaults (community.aws issue 45). This module makes at most two
    C(DescribeTaskDefinition) calls and compares normalised definitions.
  - No module waits for an ECS rollout to complete (community.aws PR 1209); botocore's
    C(ServicesStable) waiter ignores the deployment's rollout state and load balancer registration.
    This module polls the deployment's C(rolloutState) and reports circuit breaker rollbacks.
  - One module call per service, because every module call costs about a second; or one call for several
    services (O(deployments)), which rolls them in parallel threads and pays the process, the boto3 import and the
    account check once.
  - Supports check mode (no mutating API call is made) and diff mode.
author:
  - ecsops maintainers (@ecsops)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  name:
    description:
      - Name of the ECS service.
      - Required unless O(deployments) is given (then it must not be).
    type: str
    aliases: ['service']
  deployments:
    description:
      - Deploy several services of O(cluster) in one call. Each item takes the options of one service as the
        module itself does (every option except O(cluster), O(expected_account_id), O(deployments) and
        O(parallel)), with the same defaults and checks; O(name) is required in each.
      - The services are planned and rolled in parallel threads (at most O(parallel) at a time); the account check
        runs once, before any of them.
      - The module fails when an item is invalid (before any API call) or the account check fails. A service whose
        deploy fails does not stop the others; its entry in RV(services) has C(failed=true) and C(msg), and its name
        is listed in RV(failed_services), so the caller decides (roles/service fails that service's host).
    type: list
    elements: dict
  parallel:
    description: With O(deployments), how many services are deployed at the same time.
    type: int
    default: 10
  family:
    description: Task definition family. Defaults to O(name).
    type: str
  state:
    description:
      - V(present) deploys the service.
      - V(absent) scales the service to 0, deletes it (force), waits until it is gone (when O(wait=true))
        and deregisters all ACTIVE revisions of O(family).
    type: str
    choices: ['present', 'absent']
    default: present
  containers:
    description:
      - Container definitions, in the ECS API's own camelCase shape (C(name), C(image), C(cpu), C(memory),
        C(memoryReservation), C(essential), C(portMappings), C(environment), C(secrets), C(logConfiguration),
        C(healthCheck), C(command), C(links), C(dependsOn), C(stopTimeout), ...). They are passed through to
        C(RegisterTaskDefinition); integer fields given as strings are converted and environment values are
        converted to strings.
      - Required with O(state=present) unless O(task_definition) is given (then it is ignored).
    type: list
    elements: dict
  images:
    description:
      - Container name to full image reference, for example set from a deploy run's extra vars.
        These containers get that image whatever O(keep_running_images) says.
      - Every key must name a container in O(containers).
    type: dict
  keep_running_images:
    description:
      - When the service exists, each container keeps the image of the same-named container in the
        service's current task definition (unless listed in O(images)), so a full converge never reverts
        an image a redeploy put in place.
      - When the service does not exist yet the images in O(containers) are used.
    type: bool
    default: true
  task_cpu:
    description: Task level CPU units (string or integer, for example V(256) or V(1 vCPU)).
    type: raw
  task_memory:
    description: Task level memory (string or integer, for example V(512) or V(1 GB)).
    type: raw
  network_mode:
    description: Docker network mode of the task.
    type: str
    choices: ['bridge', 'host', 'awsvpc']
    default: bridge
  execution_role_arn:
    description: Task execution role ARN (used by the agent to pull images and read secrets).
    type: str
  task_role_arn:
    description: Task role ARN (used by the containers).
    type: str
  requires_compatibilities:
    description: Launch types the task definition is validated for.
    type: list
    elements: str
    default: ['EC2']
  volumes:
    description: Task definition volumes in the API's camelCase shape, passed through.
    type: list
    elements: dict
  task_tags:
    description:
      - Tags set on newly registered task definition revisions.
      - Tags are not part of the comparison; changing them alone does not register a new revision.
    type: dict
  task_definition:
    description:
      - Deploy this existing revision instead of building one from O(containers), for example to roll back.
      - A task definition ARN, C(family:revision), or the word V(previous) for the revision the last rollout
        replaced (recorded in the service tag C(ecsops:previous-task-definition) by every rollout).
      - O(run_before) is not run for an explicit revision.
    type: str
  desired_count:
    description:
      - Number of tasks. Defaults to V(1) when the service is created; when unset, an existing service's count is left alone.
    type: int
  desired_count_managed:
    description:
      - When V(true) and the service exists, its desired count is left alone (Application Auto Scaling owns it).
        O(desired_count) is then only used when the service is created.
    type: bool
    default: false
  deployment_minimum_healthy_percent:
    description: Lower limit (percent of desired count) of running tasks during a deployment.
    type: int
    default: 100
  deployment_maximum_percent:
    description: Upper limit (percent of desired count) of running tasks during a deployment.
    type: int
    default: 200
  circuit_breaker:
    description: ECS deployment circuit breaker settings.
    type: dict
    default: {}
    suboptions:
      enable:
        description: Whether the circuit breaker is enabled.
        type: bool
        default: true
      rollback:
        description: Whether a failed deployment is rolled back to the last completed one.
        type: bool
        default: true
  load_balancers:
    description:
      - Load balancer target groups, list of C({targetGroupArn, containerName, containerPort}).
      - An item may name its target group with C(targetGroupName) instead of C(targetGroupArn); the module
        resolves the names with one C(DescribeTargetGroups) call per name, which saves the caller a lookup task
        (a module call, about a second). A name that does not exist fails the module before any change, naming
        it; in check mode such an item is left out (a plan on an account without the load balancer layer).
      - When unset the service's load balancers are not managed.
    type: list
    elements: dict
  capacity_provider_strategy:
    description:
      - Capacity provider strategy, list of C({capacityProvider, weight, base}). When unset the cluster's
        default strategy applies on creation and an existing service's strategy is left alone.
    type: list
    elements: dict
  placement_strategy:
    description: Task placement strategy, list of C({type, field}). Not managed when unset.
    type: list
    elements: dict
  network_configuration:
    description:
      - Network configuration in the API's shape (C({awsvpcConfiguration - {subnets, securityGroups, assignPublicIp}}));
        needed for O(network_mode=awsvpc). Also used for O(run_before). Not managed when unset.
    type: dict
  health_check_grace_period_seconds:
    description: Seconds to ignore failing load balancer health checks after a task starts. Not managed when unset.
    type: int
  enable_execute_command:
    description: Whether ECS Exec is enabled. Not managed when unset.
    type: bool
  propagate_tags:
    description: Propagate tags to tasks from the service or the task definition. Not managed when unset.
    type: str
    choices: ['SERVICE', 'TASK_DEFINITION', 'NONE']
  run_before:
    description:
      - One-off task to run (for example a database migration) when, and only when, a new task definition
        revision is going to be deployed (not for an explicit O(task_definition)).
      - It runs the new revision with a command override, waits until the task is STOPPED and fails the
        module without touching the service unless the container named in O(run_before.container) exited 0.
    type: dict
    suboptions:
      container:
        description: Container to override the command of; its exit code decides success.
        type: str
        required: true
      command:
        description: Command to run.
        type: list
        elements: str
        required: true
      timeout:
        description: Seconds to wait for the task to stop. The task is not stopped on timeout.
        type: int
        default: 600
  wait:
    description:
      - After a change, wait until the deployment of the new revision has rolloutState C(COMPLETED)
        (success) or C(FAILED) (module fails). Nothing is waited for when nothing changed.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout (and for deletion with O(state=absent)).
    type: int
    default: 600
  wait_delay:
    description: Seconds between polls.
    type: float
    default: 5
  keep_revisions:
    description:
      - After a successful rollout that registered a new revision, deregister ACTIVE revisions of the family
        older than the newest O(keep_revisions). The revision in use and the recorded previous revision are
        always kept. V(0) keeps everything.
      - Only done when a revision was registered, so redeploys that change nothing never list revisions.
      - With O(wait=false) pruning happens right after the service update, without knowing the rollout outcome.
    type: int
    default: 10
  expected_account_id:
    description:
      - When set, the module first asks C(sts:GetCallerIdentity) which account the credentials belong to and
        fails, before any other API call, when it is not this one. A C(--tags deploy) run of the playbooks checks
        the account here instead of in a module call of its own (about a second per run).
    type: str
  read_autoscaling:
    description:
      - Also read the service's Application Auto Scaling target and scaling policies (two describe calls) and
        return them as RV(autoscaling), so the playbook can call the policy module only for what differs.
    type: bool
    default: false
  tags:
    description:
      - Tags of the service. Not managed when unset.
      - Keys starting with C(ecsops:) or C(aws:) are never purged.
    type: dict
    aliases: ['resource_tags']
  purge_tags:
    description: Remove service tags not in O(tags) (when O(tags) is set).
    type: bool
    default: true
notes:
  - Service settings left unset are not compared, except the deployment configuration, which has defaults.
  - Settings only C(CreateService) accepts (launch type, scheduling strategy, service registries) are not supported.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deploy the web service (full converge keeps the running image)
  ecsops.platform.ecs_deploy:
    cluster: prod
    name: web
    containers:
      - name: web
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:{{ default_tag }}"
        memoryReservation: 256
        portMappings:
          - containerPort: 8080
        environment:
          - name: PORT
            value: "8080"
        secrets:
          - name: DB_PASSWORD
            valueFrom: arn:aws:secretsmanager:us-east-1:123456789012:secret:db
    images: "{{ deploy_images | default({}) }}"
    desired_count: 2
    load_balancers:
      - targetGroupArn: "{{ tg_arn }}"
        containerName: web
        containerPort: 8080
    capacity_provider_strategy:
      - capacityProvider: app-cp
        weight: 1
    run_before:
      container: web
      command: ["./manage.py", "migrate"]
      timeout: 900

- name: Roll back to the revision the last rollout replaced
  ecsops.platform.ecs_deploy:
    cluster: prod
    name: web
    task_definition: previous

- name: Remove the service and its revisions
  ecsops.platform.ecs_deploy:
    cluster: prod
    name: web
    state: absent
"""

RETURN = r"""
services:
  description:
    - With O(deployments), the result of each service by name, with the keys below (and C(failed), C(msg) for a
      service whose deploy failed). Without it, the keys below are the module's own result.
  returned: O(deployments) given
  type: dict
failed_services:
  description: With O(deployments), the names of the services whose deploy failed.
  returned: O(deployments) given
  type: list
  elements: str
task_definition_arn:
  description: Task definition the service runs (or would run, in check mode) after the call.
  returned: state=present
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/web:12
revision:
  description: Revision number of RV(task_definition_arn).
  returned: state=present
  type: int
registered:
  description: Whether a new revision was registered.
  returned: always
  type: bool
would_register:
  description: Whether the desired definition differs from every reusable revision (a new one is or would be registered).
  returned: state=present
  type: bool
service_updated:
  description: Whether the service was created or updated (C(CreateService)/C(UpdateService) called).
  returned: always
  type: bool
updated_fields:
  description: Service fields that differed (C(taskDefinition) included), or C(created).
  returned: state=present
  type: list
  elements: str
would_update:
  description: Same as RV(updated_fields); named for check mode.
  returned: state=present
  type: list
  elements: str
task_definition_changes:
  description: Task definition fields that differ from the current revision, for example C(containerDefinitions[web].image).
  returned: state=present
  type: list
  elements: str
rollout_state:
  description: rolloutState of the deployment of the revision (C(COMPLETED), C(FAILED), C(IN_PROGRESS)) or null.
  returned: state=present
  type: str
rollout_reason:
  description: rolloutStateReason of that deployment.
  returned: state=present
  type: str
rolled_back:
  description: Whether the circuit breaker put the service back on the old revision after a failed rollout.
  returned: when a rollout failed
  type: bool
previous_task_definition:
  description: The revision the last rollout replaced (value of the C(ecsops:previous-task-definition) service tag).
  returned: state=present
  type: str
images:
  description: Container name to image of the deployed revision.
  returned: state=present
  type: dict
  sample: {"web": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"}
deregistered:
  description: Task definition ARNs deregistered by this call.
  returned: always
  type: list
  elements: str
run_before_task:
  description: ARN of the one-off task started by O(run_before).
  returned: when run_before ran
  type: str
unresolved_target_groups:
  description: Target group names of O(load_balancers) that do not exist (check mode only; otherwise the module fails).
  returned: when some were not found in check mode
  type: list
  elements: str
autoscaling:
  description:
    - The service's scalable target (V(null) when it has none) and its scaling policies as Application Auto
      Scaling describes them, read before the module returns.
  returned: when O(read_autoscaling=true)
  type: dict
  sample: {"scalable_target": {"MinCapacity": 2, "MaxCapacity": 6}, "policies": [{"PolicyName": "web-cpu"}]}
"""

# The module reads, plans (module_utils/ecs_plan.py: no AWS call), then applies; the migration task and the
# rollout wait are module_utils/ecs_rollout.py. Every failure below the module is a DeployError.

import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import PREVIOUS_TAG
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import boto3_tags_to_dict
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import container_images
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import dict_to_boto3_tags
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import task_definition_differences
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import td_family_revision
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import td_label
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_plan import DeployPlan
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_plan import desired_task_definition
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_plan import interrupted_revision
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_plan import same_definition
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import AWS_ERRORS
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import DeployError
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import rollout_state
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import run_migration
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import sleep_until
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import wait_for_rollout

SCALABLE_DIMENSION = "ecs:service:DesiredCount"


class Clients:
    """The boto3 clients of one module run, made once and shared by the services' threads (clients are thread-safe)."""

    def __init__(self, module):
        self.module = module
        self._lock = threading.Lock()
        self._made = {}

    def get(self, name):
        with self._lock:
            if name not in self._made:
                extra = ["ThrottlingException"] if name == "ecs" else None
                self._made[name] = self.module.client(
                    name, retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=extra)
                )
            return self._made[name]


class EcsDeployer:
    """One service's deploy (or teardown): present() and absent() return its result or raise DeployError."""

    def __init__(self, module, params, clients):
        self.module = module
        self.params = params
        self.clients = clients
        self.cluster = self.params["cluster"]
        self.name = self.params["name"]
        self.family = self.params["family"] or self.name
        self.client = clients.get("ecs")
        self.result = dict(
            changed=False,
            registered=False,
            service_updated=False,
            deregistered=[],
        )

    # ------------------------------------------------------------------ helpers
    def finish(self):
        if self.params["read_autoscaling"]:
            self.result["autoscaling"] = self.read_autoscaling()
        return self.result

    # ------------------------------------------------------------------ reads
    def describe_service(self):
        try:
            response = self.client.describe_services(
                cluster=self.cluster, services=[self.name], include=["TAGS"], aws_retry=True
            )
        except is_boto3_error_code("ClusterNotFoundException") as e:
            if self.module.check_mode or self.params["state"] == "absent":
                # A plan on an empty account, or a teardown after the cluster went: no service.
                return None
            raise DeployError(f"ECS cluster {self.cluster} not found", exception=e) from e
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            raise DeployError(f"Failed to describe service {self.name} in cluster {self.cluster}", exception=e) from e
        services = [s for s in response.get("services", []) if s.get("status") in ("ACTIVE", "DRAINING")]
        return services[0] if services else None

    def describe_task_definition(self, ref):
        try:
            return self.client.describe_task_definition(taskDefinition=ref, aws_retry=True)["taskDefinition"]
        except is_boto3_error_code("ClientException"):
            return None
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            raise DeployError(f"Failed to describe task definition {ref}", exception=e) from e

    def list_active_revisions(self):
        """ARNs of the family's ACTIVE revisions, newest first (exact family match)."""
        try:
            paginator = self.client.get_paginator("list_task_definitions")
            arns = paginator.paginate(familyPrefix=self.family, status="ACTIVE", sort="DESC").build_full_result()
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to list task definitions of family {self.family}", exception=e) from e
        revisions = []
        for arn in arns.get("taskDefinitionArns", []):
            family, revision = td_family_revision(arn)
            if family == self.family and revision is not None:
                revisions.append((revision, arn))
        return [arn for _rev, arn in sorted(revisions, reverse=True)]

    def resolve_target_groups(self):
        """Replace C(targetGroupName) in O(load_balancers) items by the target group's ARN."""
        items = self.params["load_balancers"]
        names = [i["targetGroupName"] for i in items or [] if i.get("targetGroupName") and not i.get("targetGroupArn")]
        if not names:
            return
        elbv2 = self.clients.get("elbv2")
        arns = {}
        for name in dict.fromkeys(names):
            try:
                groups = elbv2.describe_target_groups(Names=[name], aws_retry=True)["TargetGroups"]
            except is_boto3_error_code("TargetGroupNotFound"):
                groups = []
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                raise DeployError(f"Failed to look up target group {name}", exception=e) from e
            if groups:
                arns[name] = groups[0]["TargetGroupArn"]
        missing = [n for n in dict.fromkeys(names) if n not in arns]
        if missing and not self.module.check_mode:
            raise DeployError(
                f"service {self.name}: target group {', '.join(missing)} does not exist; converge the edge layer "
                "first (ansible-playbook site.yml, or --tags edge)."
            )
        resolved = []
        for item in items:
            item = dict(item)
            name = item.pop("targetGroupName", None)
            if name and not item.get("targetGroupArn"):
                if name not in arns:
                    continue  # check mode: the plan shows the service without it
                item["targetGroupArn"] = arns[name]
            resolved.append(item)
        self.params["load_balancers"] = resolved
        if missing:
            self.result["unresolved_target_groups"] = missing

    def resolve_explicit(self, service):
        ref = self.params["task_definition"]
        if ref == "previous":
            if not service:
                raise DeployError(
                    f"task_definition=previous needs an existing service; service {self.name} does not exist in cluster {self.cluster}"
                )
            ref = boto3_tags_to_dict(service.get("tags")).get(PREVIOUS_TAG)
            if not ref:
                raise DeployError(
                    f"task_definition=previous: service {self.name} has no {PREVIOUS_TAG} tag "
                    "(no rollout by this module has replaced a revision yet)"
                )
        td = self.describe_task_definition(ref)
        if not td:
            raise DeployError(f"task definition {ref} not found")
        return td

    def scaling_client(self):
        """The Application Auto Scaling client and this service's resource id (service/<cluster>/<name>)."""
        resource = f"service/{self.cluster.split('/')[-1]}/{self.name}"
        return self.clients.get("application-autoscaling"), resource

    def scalable_targets(self, scaling, resource):
        """This service's Application Auto Scaling targets (none or one)."""
        try:
            return scaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[resource], ScalableDimension=SCALABLE_DIMENSION, aws_retry=True
            )["ScalableTargets"]
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to describe the scalable target of service {self.name}", exception=e) from e

    def read_autoscaling(self):
        """The scalable target and scaling policies of this service (what the scaling layer compares)."""
        scaling, resource = self.scaling_client()
        targets = self.scalable_targets(scaling, resource)
        try:
            policies = scaling.describe_scaling_policies(
                ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=SCALABLE_DIMENSION, aws_retry=True
            )["ScalingPolicies"]
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to read the autoscaling of service {self.name}", exception=e) from e
        target = targets[0] if targets else None
        return {
            "scalable_target": (
                {"MinCapacity": target["MinCapacity"], "MaxCapacity": target["MaxCapacity"]} if target else None
            ),
            "policies": [
                {k: p[k] for k in ("PolicyName", "PolicyType", "TargetTrackingScalingPolicyConfiguration",
                                   "StepScalingPolicyConfiguration") if k in p}
                for p in policies
            ],
        }

    # ------------------------------------------------------------------ plan
    def plan(self):
        """Read the service, its revision and (when needed) the family's latest one; no mutating call."""
        params = self.params
        self.resolve_target_groups()
        service = self.describe_service()
        if service and service.get("status") == "DRAINING":
            raise DeployError(
                f"service {self.name} in cluster {self.cluster} is being deleted (DRAINING); try again when it is gone"
            )
        old_arn = service.get("taskDefinition") if service else None
        current_td = self.describe_task_definition(old_arn) if old_arn else None
        desired_td = None
        if params["task_definition"]:
            target_td = self.resolve_explicit(service)
            td_changes = task_definition_differences(target_td, current_td) if current_td else []
        else:
            desired_td = desired_task_definition(params, self.family, service, current_td)
            # A service to create compares with the family's latest revision (a rerun after an interrupted create).
            base = current_td if service else self.describe_task_definition(self.family)
            target_td = None
            if same_definition(desired_td, base):
                target_td = base
            elif service:
                target_td = interrupted_revision(desired_td, self.describe_task_definition(self.family), old_arn)
            td_changes = task_definition_differences(desired_td, base) if base else []
        return DeployPlan(params, self.family, service, current_td, desired_td, target_td, td_changes,
                          explicit=bool(params["task_definition"]))

    # ------------------------------------------------------------------ present
    def present(self):
        plan = self.plan()
        self.result.update(plan.result())
        if plan.service and not plan.td_changed:
            state, reason = rollout_state(plan.service, plan.old_arn)
            self.result.update(rollout_state=state, rollout_reason=reason)
        if self.module._diff:
            self.result["diff"] = plan.diff()
        if not self.module.check_mode and plan.updated_fields:
            self.apply(plan)
        return self.finish()

    def apply(self, plan):
        """The mutations: register, migrate, create or update the service and its tags, wait, prune."""
        params = self.params
        service = plan.service
        target_td = plan.target_td
        if plan.would_register:
            target_td = self.register(plan.desired_td)
            self.result.update(
                task_definition_arn=target_td["taskDefinitionArn"],
                revision=target_td.get("revision"),
                images=container_images(target_td),
            )
        target_arn = target_td["taskDefinitionArn"]
        if plan.td_changed and not plan.explicit and params["run_before"]:
            run_migration(self.client, self.cluster, self.name, target_td, params["run_before"], params["wait_delay"],
                          self.result, params["capacity_provider_strategy"], params["network_configuration"])
        if not service:
            self.create_service(target_arn, plan.settings)
        else:
            if plan.td_changed or plan.service_diffs:
                self.update_service(service, target_arn if plan.td_changed else None, plan.settings, plan.service_diffs)
            tags_to_set = dict(plan.to_set)
            if plan.td_changed:
                tags_to_set[PREVIOUS_TAG] = plan.old_arn
            self.update_tags(service["serviceArn"], tags_to_set, plan.to_remove)
        if params["wait"] and (not service or plan.td_changed or plan.service_diffs):
            wait_for_rollout(self.describe_service, target_arn, plan.old_arn, self.name, self.cluster,
                             params["wait_timeout"], params["wait_delay"], self.result,
                             lambda svc, now_on: self.restore_previous_tag(svc, now_on, plan.recorded_previous))
        if self.result["registered"] and params["keep_revisions"] > 0:
            self.prune(target_arn, self.result["previous_task_definition"])

    def register(self, desired):
        kwargs = dict(desired)
        if self.params["task_tags"]:
            kwargs["tags"] = dict_to_boto3_tags(self.params["task_tags"])
        try:
            td = self.client.register_task_definition(aws_retry=True, **kwargs)["taskDefinition"]
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to register a task definition for family {self.family}", exception=e) from e
        self.result["registered"] = True
        return td

    def restore_previous_tag(self, service, now_on, recorded):
        """After a rolled-back rollout the service runs the revision it ran before, so `previous` must
        again name the revision recorded before this run (not the one the service is back on)."""
        try:
            if recorded and recorded != now_on:
                self.client.tag_resource(resourceArn=service["serviceArn"],
                                         tags=[{"key": PREVIOUS_TAG, "value": recorded}], aws_retry=True)
            else:
                self.client.untag_resource(resourceArn=service["serviceArn"], tagKeys=[PREVIOUS_TAG], aws_retry=True)
        except AWS_ERRORS as e:
            self.module.warn(f"could not restore the {PREVIOUS_TAG} tag of service {self.name}: {e}")

    def create_service(self, target_arn, settings):
        kwargs = dict(settings)
        kwargs.setdefault(
            "desiredCount", self.params["desired_count"] if self.params["desired_count"] is not None else 1
        )
        if self.params["tags"]:
            kwargs["tags"] = dict_to_boto3_tags(self.params["tags"])
        try:
            self.client.create_service(
                cluster=self.cluster, serviceName=self.name, taskDefinition=target_arn, aws_retry=True, **kwargs
            )
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to create service {self.name} in cluster {self.cluster}", exception=e) from e
        self.result["service_updated"] = True

    def update_service(self, service, target_arn, settings, diffs):
        kwargs = dict(cluster=self.cluster, service=self.name)
        if target_arn:
            kwargs["taskDefinition"] = target_arn
        for field in diffs:
            value = settings[field]
            if field == "deploymentConfiguration":
                value = dict(service.get("deploymentConfiguration") or {}, **value)
            kwargs[field] = value
        try:
            self.client.update_service(aws_retry=True, **kwargs)
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to update service {self.name} in cluster {self.cluster}", exception=e) from e
        self.result["service_updated"] = True

    def update_tags(self, arn, to_set, to_remove):
        try:
            if to_set:
                self.client.tag_resource(resourceArn=arn, tags=dict_to_boto3_tags(to_set), aws_retry=True)
            if to_remove:
                self.client.untag_resource(resourceArn=arn, tagKeys=to_remove, aws_retry=True)
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to tag service {self.name}", exception=e) from e

    def deregister(self, arns):
        for arn in arns:
            try:
                self.client.deregister_task_definition(taskDefinition=arn, aws_retry=True)
            except AWS_ERRORS as e:
                raise DeployError(f"Failed to deregister task definition {td_label(arn)}", exception=e) from e
            self.result["deregistered"].append(arn)

    def prune(self, target_arn, previous_arn):
        keep = self.params["keep_revisions"]
        arns = self.list_active_revisions()
        protected = {target_arn, previous_arn}
        self.deregister([arn for arn in arns[keep:] if arn not in protected])

    # ------------------------------------------------------------------ absent
    def deregister_scalable_target(self):
        """A deleted service's Application Auto Scaling target would otherwise stay behind."""
        scaling, resource = self.scaling_client()
        if not self.scalable_targets(scaling, resource):
            return
        self.result["changed"] = True
        self.result["scalable_target_deregistered"] = resource
        if self.module.check_mode:
            return
        try:
            scaling.deregister_scalable_target(
                ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=SCALABLE_DIMENSION, aws_retry=True
            )
        except AWS_ERRORS as e:
            raise DeployError(f"Failed to deregister the scalable target of service {self.name}", exception=e) from e

    def absent(self):
        service = self.describe_service()
        if service and service.get("status") == "ACTIVE":
            self.result["changed"] = True
            if not self.module.check_mode:
                try:
                    if service.get("desiredCount", 0) > 0:
                        self.client.update_service(
                            cluster=self.cluster, service=self.name, desiredCount=0, aws_retry=True
                        )
                    self.client.delete_service(cluster=self.cluster, service=self.name, force=True, aws_retry=True)
                except AWS_ERRORS as e:
                    raise DeployError(f"Failed to delete service {self.name} in cluster {self.cluster}", exception=e) from e
                self.result["service_updated"] = True
        if service and self.params["wait"] and not self.module.check_mode:
            deadline = time.monotonic() + self.params["wait_timeout"]
            while True:
                current = self.describe_service()
                if not current:
                    break
                if time.monotonic() >= deadline:
                    raise DeployError(
                        f"timed out after {self.params['wait_timeout']}s waiting for service {self.name} "
                        f"(cluster {self.cluster}) to be deleted; it is still {current.get('status')}"
                    )
                sleep_until(deadline, self.params["wait_delay"])
        self.deregister_scalable_target()
        arns = self.list_active_revisions()
        if arns:
            self.result["changed"] = True
            if self.module.check_mode:
                self.result["would_deregister"] = arns
            else:
                self.deregister(arns)
        if self.module._diff:
            self.result["diff"] = dict(
                before=dict(service=self.name if service else None, active_revisions=[td_label(a) for a in arns]),
                after=dict(service=None, active_revisions=[]),
            )
        return self.result


def check_account(module, clients, expected):
    """Fail, before any other call, when the credentials belong to another account than `expected`."""
    try:
        account = clients.get("sts").get_caller_identity(aws_retry=True)["Account"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="could not ask sts:GetCallerIdentity which account the credentials belong to")
    if account != expected:
        module.fail_json(
            msg=(
                f"aws_account_id: the credentials belong to account {account}, but the deploy expects {expected}; "
                "nothing was changed"
            )
        )


def service_spec():
    """The options of one service: the module's own, and each item of deployments."""
    return dict(
        name=dict(type="str", aliases=["service"]),
        family=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        containers=dict(type="list", elements="dict"),
        images=dict(type="dict"),
        keep_running_images=dict(type="bool", default=True),
        task_cpu=dict(type="raw"),
        task_memory=dict(type="raw"),
        network_mode=dict(type="str", default="bridge", choices=["bridge", "host", "awsvpc"]),
        execution_role_arn=dict(type="str"),
        task_role_arn=dict(type="str"),
        requires_compatibilities=dict(type="list", elements="str", default=["EC2"]),
        volumes=dict(type="list", elements="dict"),
        task_tags=dict(type="dict"),
        task_definition=dict(type="str"),
        desired_count=dict(type="int"),
        desired_count_managed=dict(type="bool", default=False),
        deployment_minimum_healthy_percent=dict(type="int", default=100),
        deployment_maximum_percent=dict(type="int", default=200),
        circuit_breaker=dict(
            type="dict",
            default={},
            options=dict(
                enable=dict(type="bool", default=True),
                rollback=dict(type="bool", default=True),
            ),
        ),
        load_balancers=dict(type="list", elements="dict"),
        capacity_provider_strategy=dict(type="list", elements="dict"),
        placement_strategy=dict(type="list", elements="dict"),
        network_configuration=dict(type="dict"),
        health_check_grace_period_seconds=dict(type="int"),
        enable_execute_command=dict(type="bool"),
        propagate_tags=dict(type="str", choices=["SERVICE", "TASK_DEFINITION", "NONE"]),
        run_before=dict(
            type="dict",
            options=dict(
                container=dict(type="str", required=True),
                command=dict(type="list", elements="str", required=True),
                timeout=dict(type="int", default=600),
            ),
        ),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_delay=dict(type="float", default=5),
        keep_revisions=dict(type="int", default=10),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        read_autoscaling=dict(type="bool", default=False),
    )


def params_error(params):
    """What is wrong with one service's validated options (None when nothing)."""
    if params["state"] == "present" and not params["containers"] and not params["task_definition"]:
        return "state=present needs containers (or task_definition to deploy an existing revision)"
    for key in ("deployment_minimum_healthy_percent", "deployment_maximum_percent", "wait_timeout", "keep_revisions"):
        if params[key] < 0:
            return f"{key} must not be negative, got {params[key]}"
    if params["deployment_maximum_percent"] < params["deployment_minimum_healthy_percent"]:
        return (
            f"deployment_maximum_percent ({params['deployment_maximum_percent']}) must not be lower than "
            f"deployment_minimum_healthy_percent ({params['deployment_minimum_healthy_percent']})"
        )
    if params["desired_count"] is not None and params["desired_count"] < 0:
        return f"desired_count must not be negative, got {params['desired_count']}"
    if params["wait_delay"] < 0:
        return f"wait_delay must not be negative, got {params['wait_delay']}"
    return None


def run_one(module, params, clients):
    """One service: its result, or raise DeployError (carrying what the deploy did before it failed)."""
    deployer = EcsDeployer(module, params, clients)
    try:
        if params["state"] == "absent":
            return deployer.absent()
        return deployer.present()
    except DeployError as e:
        e.extra = dict(deployer.result, **e.extra)
        raise


def failure(error):
    """A service's DeployError as a result entry, worded as fail_json_aws words it."""
    # What the deploy did before it failed (a registered revision, an updated service) stays in: changed as it was.
    entry = dict(error.extra, failed=True)
    entry.setdefault("changed", False)
    msg = error.msg
    if error.exception is not None:
        detail = getattr(error.exception, "message", None) or str(error.exception)
        msg = f"{msg}: {detail}"
        response = getattr(error.exception, "response", None)
        if response:
            entry.update(camel_dict_to_snake_dict(response))
    entry["msg"] = msg
    return entry


def deploy_many(module, items, clients):
    """Validate every item (before any API call), then deploy them in threads; one failure does not stop the others."""
    spec = service_spec()
    wanted = []
    for index, item in enumerate(items):
        validated = ArgumentSpecValidator(spec).validate(item)
        label = item.get("name") or item.get("service") or f"#{index}"
        if validated.error_messages:
            module.fail_json(msg=f"deployments[{index}] ({label}): {'; '.join(validated.error_messages)}")
        params = dict(validated.validated_parameters, cluster=module.params["cluster"])
        if not params["name"]:
            module.fail_json(msg=f"deployments[{index}]: name is required")
        error = params_error(params)
        if error:
            module.fail_json(msg=f"deployments[{index}] ({label}): {error}")
        wanted.append(params)
    names = [p["name"] for p in wanted]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        module.fail_json(msg=f"deployments: service {', '.join(repeated)} is listed more than once")
    if module.params["expected_account_id"]:
        check_account(module, clients, module.params["expected_account_id"])

    def one(params):
        try:
            return run_one(module, params, clients)
        except DeployError as e:
            return failure(e)
        except Exception as e:  # pylint: disable=broad-except  # a bug in one service's deploy must not hide the others
            return dict(failed=True, changed=False, msg=f"service {params['name']}: {e}", exception=traceback.format_exc())

    with ThreadPoolExecutor(max_workers=max(1, min(module.params["parallel"], len(wanted) or 1))) as pool:
        results = dict(pool.map(lambda params: (params["name"], one(params)), wanted))
    diffs = []
    for name, entry in results.items():
        diff = entry.pop("diff", None)
        if diff:
            diffs.append(dict(diff, before_header=f"service {name}", after_header=f"service {name}"))
    outcome = dict(
        changed=any(r.get("changed") for r in results.values()),
        services=results,
        failed_services=[n for n, r in results.items() if r.get("failed")],
    )
    if diffs:
        outcome["diff"] = diffs
    module.exit_json(**outcome)


def main():
    argument_spec = service_spec()
    argument_spec.update(
        cluster=dict(type="str", required=True),
        expected_account_id=dict(type="str"),
        deployments=dict(type="list", elements="dict"),
        parallel=dict(type="int", default=10),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["name", "deployments"]],
        mutually_exclusive=[["name", "deployments"]],
    )
    params = module.params
    clients = Clients(module)
    if params["deployments"] is not None:
        if params["parallel"] < 1:
            module.fail_json(msg=f"parallel must be at least 1, got {params['parallel']}")
        deploy_many(module, params["deployments"], clients)
    error = params_error(params)
    if error:
        module.fail_json(msg=error)
    if params["expected_account_id"]:
        check_account(module, clients, params["expected_account_id"])
    try:
        result = run_one(module, params, clients)
    except DeployError as e:
        if e.exception is not None:
            module.fail_json_aws(e.exception, msg=e.msg, **e.extra)
        module.fail_json(msg=e.msg, **e.extra)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
