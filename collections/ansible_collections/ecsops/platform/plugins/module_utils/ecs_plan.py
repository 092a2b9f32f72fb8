# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ecs_deploy's plan: from what the module read (the service, its revision, the family's latest revision) and its
parameters, the task definition and service settings wanted, what differs, and what a run would change.

No AWS call in here: the module reads, hands the results to DeployPlan, and applies the plan (or, in check mode,
reports it). Unit tested through the module (tests/unit/test_ecs_deploy.py) and directly
(tests/unit/test_ecs_module_utils.py).
"""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import PREVIOUS_TAG
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import boto3_tags_to_dict
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import container_images
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import normalize_load_balancers
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import normalize_network_configuration
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import normalize_strategy
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import normalize_task_definition
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import prepare_container
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import tag_changes
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import td_family_revision
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import td_label
from ansible_collections.ecsops.platform.plugins.module_utils.ecs_rollout import DeployError

SERVICE_FIELD_NORMALISERS = {
    "loadBalancers": normalize_load_balancers,
    "capacityProviderStrategy": normalize_strategy,
    "networkConfiguration": normalize_network_configuration,
}


def norm_field(field, value):
    normaliser = SERVICE_FIELD_NORMALISERS.get(field)
    return normaliser(value) if normaliser else value


def desired_task_definition(params, family, service, current_td):
    """The task definition to run (RegisterTaskDefinition arguments): params' containers with the `images`
    overrides, else (keep_running_images) the images the service runs now. Raises DeployError on bad input."""
    containers = [prepare_container(c) for c in params["containers"] or []]
    names = [c.get("name") for c in containers]
    if not containers:
        raise DeployError("containers must list at least one container definition when task_definition is not given")
    if any(not n for n in names):
        raise DeployError("every entry of containers needs a name")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DeployError(f"containers has duplicate names: {', '.join(duplicates)}")
    overrides = params["images"] or {}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise DeployError(f"images names container(s) not in containers: {', '.join(unknown)} (containers: {', '.join(names)})")
    running = container_images(current_td) if service and params["keep_running_images"] else {}
    for container in containers:
        name = container["name"]
        if name in overrides:
            container["image"] = overrides[name]
        elif running.get(name):
            container["image"] = running[name]
        if not container.get("image"):
            raise DeployError(f"container {name} has no image (set containers[].image or images.{name})")
    td = dict(
        family=family,
        containerDefinitions=containers,
        networkMode=params["network_mode"],
        requiresCompatibilities=params["requires_compatibilities"],
    )
    if params["task_cpu"] is not None:
        td["cpu"] = str(params["task_cpu"])
    if params["task_memory"] is not None:
        td["memory"] = str(params["task_memory"])
    if params["execution_role_arn"]:
        td["executionRoleArn"] = params["execution_role_arn"]
    if params["task_role_arn"]:
        td["taskRoleArn"] = params["task_role_arn"]
    if params["volumes"]:
        td["volumes"] = params["volumes"]
    return td


def same_definition(desired_td, td):
    """Whether the described revision `td` is the wanted task definition (compared normalised)."""
    return bool(td) and normalize_task_definition(td) == normalize_task_definition(desired_td)


def interrupted_revision(desired_td, latest_td, current_arn):
    """The family's latest revision `latest_td` when it is ACTIVE, newer than the service's `current_arn` and the
    wanted definition: registered by a run interrupted before it updated the service, so the rerun deploys it
    instead of registering another. Else None."""
    current_rev = td_family_revision(current_arn)[1] or 0
    if (latest_td and latest_td.get("status", "ACTIVE") == "ACTIVE" and latest_td.get("revision", 0) > current_rev
            and same_definition(desired_td, latest_td)):
        return latest_td
    return None


def desired_service_settings(params, service):
    """The CreateService/UpdateService settings the parameters ask for (desiredCount left out once
    desired_count_managed and the service exists: autoscaling owns it)."""
    settings = {}
    if params["desired_count"] is not None and not (service and params["desired_count_managed"]):
        settings["desiredCount"] = params["desired_count"]
    breaker = params["circuit_breaker"] or {}
    settings["deploymentConfiguration"] = {
        "minimumHealthyPercent": params["deployment_minimum_healthy_percent"],
        "maximumPercent": params["deployment_maximum_percent"],
        "deploymentCircuitBreaker": {
            "enable": breaker.get("enable", True) is not False,
            "rollback": breaker.get("rollback", True) is not False,
        },
    }
    optional = {
        "loadBalancers": params["load_balancers"],
        "capacityProviderStrategy": params["capacity_provider_strategy"],
        "placementStrategy": params["placement_strategy"],
        "networkConfiguration": params["network_configuration"],
        "healthCheckGracePeriodSeconds": params["health_check_grace_period_seconds"],
        "enableExecuteCommand": params["enable_execute_command"],
        "propagateTags": params["propagate_tags"],
    }
    settings.update({k: v for k, v in optional.items() if v is not None})
    return settings


def service_differences(service, desired):
    """The fields of `desired` (desired_service_settings) in which the described service differs."""
    diffs = []
    for field, value in desired.items():
        current = service.get(field)
        if field == "deploymentConfiguration":
            current = current or {}
            if any(current.get(k) != v for k, v in value.items()):
                diffs.append(field)
        elif norm_field(field, current) != norm_field(field, value):
            if field in ("loadBalancers", "capacityProviderStrategy", "placementStrategy") and not value and not current:
                continue
            diffs.append(field)
    return diffs


class DeployPlan:
    """What a present run would do, from what was read. `target_td` is the revision to run when one exists
    (None: `desired_td` is registered); `updated_fields` is empty when nothing changes."""

    def __init__(self, params, family, service, current_td, desired_td, target_td, td_changes, explicit):
        self.family = family
        self.service = service
        self.old_arn = service.get("taskDefinition") if service else None
        self.current_td = current_td
        self.desired_td = desired_td
        self.target_td = target_td
        self.td_changes = td_changes
        self.explicit = explicit
        self.service_tags = boto3_tags_to_dict(service.get("tags")) if service else {}
        self.recorded_previous = self.service_tags.get(PREVIOUS_TAG)
        self.settings = desired_service_settings(params, service)
        self.service_diffs = service_differences(service, self.settings) if service else []
        self.tags = params["tags"]
        if service:
            self.to_set, self.to_remove = tag_changes(self.service_tags, params["tags"], params["purge_tags"])
        else:
            self.to_set, self.to_remove = {}, []
        if not service:
            self.updated_fields = ["created"]
        else:
            self.updated_fields = (["taskDefinition"] if self.td_changed else []) + list(self.service_diffs)
            if self.to_set or self.to_remove:
                self.updated_fields.append("tags")

    @property
    def would_register(self):
        return self.target_td is None

    @property
    def target_arn(self):
        return self.target_td["taskDefinitionArn"] if self.target_td else None

    @property
    def td_changed(self):
        return self.would_register or not self.service or self.target_arn != self.old_arn

    @property
    def service_tags_after(self):
        """The service's tags once applied: the wanted ones, and `previous` naming the replaced revision."""
        tags = dict(self.service_tags)
        tags.update(self.to_set if self.service else {str(k): str(v) for k, v in (self.tags or {}).items()})
        for key in self.to_remove:
            tags.pop(key, None)
        if self.service and self.td_changed:
            tags[PREVIOUS_TAG] = self.old_arn
        return tags

    def result(self):
        """The module result keys of the plan (a check-mode run returns these)."""
        return dict(
            changed=bool(self.updated_fields),
            would_register=self.would_register,
            would_update=list(self.updated_fields),
            updated_fields=list(self.updated_fields),
            task_definition_changes=self.td_changes,
            task_definition_arn=self.target_arn,
            revision=self.target_td.get("revision") if self.target_td else None,
            images=container_images(self.target_td or self.desired_td),
            previous_task_definition=(self.old_arn if self.service and self.td_changed else self.recorded_previous),
            rollout_state=None,
            rollout_reason=None,
        )

    def diff(self):
        """--diff: the service's revision, images, settings and tags before and after."""
        before = {}
        if self.service:
            before = dict(
                task_definition=td_label(self.old_arn),
                images=container_images(self.current_td),
                service={field: norm_field(field, self.service.get(field)) for field in self.settings},
                tags=self.service_tags,
            )
        after = dict(
            task_definition=td_label(self.target_arn) if self.target_arn else f"{self.family}:(new revision)",
            images=container_images(self.target_td or self.desired_td),
            service={f: norm_field(f, v) for f, v in self.settings.items()},
            tags=self.service_tags_after,
        )
        if self.service:
            after["service"] = dict(before["service"], **after["service"])
        return dict(before=before, after=after)
