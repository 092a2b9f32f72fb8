#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_capacity_provider
version_added: 1.0.0
short_description: Create, update or delete an ECS Auto Scaling group capacity provider
description:
  - Manages an Amazon ECS capacity provider backed by an EC2 Auto Scaling group.
  - Fills a gap in C(amazon.aws) / C(community.aws) - no module there creates capacity providers;
    M(community.aws.ecs_cluster) can only attach existing ones to a cluster.
  - Idempotent - the current provider is compared with the requested settings and
    C(UpdateCapacityProvider) is only called for settings that differ. Options left unset
    are not managed.
  - Supports check mode and diff mode.
author:
  - ecsops maintainers (@ecsops)
options:
  name:
    description:
      - Name of the capacity provider.
    required: true
    type: str
  state:
    description:
      - Whether the capacity provider should exist.
    type: str
    choices: ['present', 'absent']
    default: present
  auto_scaling_group_arn:
    description:
      - ARN of the Auto Scaling group that provides the capacity.
      - Required when O(state=present).
      - ECS cannot change the Auto Scaling group of an existing capacity provider; asking for a
        different one fails with an explanatory message (delete and re-create the provider instead).
    type: str
  managed_scaling:
    description:
      - Managed scaling settings. Suboptions left unset keep their current (or AWS default) value.
    type: dict
    suboptions:
      status:
        description: Whether ECS managed scaling is enabled.
        type: str
        choices: ['ENABLED', 'DISABLED']
      target_capacity:
        description: Target cluster utilisation in percent, 1 to 100.
        type: int
      minimum_scaling_step_size:
        description: Minimum number of instances to scale by at once, 1 to 10000.
        type: int
      maximum_scaling_step_size:
        description: Maximum number of instances to scale by at once, 1 to 10000; not below O(managed_scaling.minimum_scaling_step_size).
        type: int
      instance_warmup_period:
        description: Seconds a new instance needs before it counts towards CloudWatch metrics, 0 to 10000.
        type: int
  managed_termination_protection:
    description:
      - Whether ECS managed termination protection is enabled.
      - AWS requires managed scaling to be enabled and the Auto Scaling group to have
        instance scale-in protection for this to be enabled.
    type: bool
  managed_draining:
    description:
      - Whether ECS managed instance draining is enabled.
    type: bool
  force:
    description:
      - Only used with O(state=absent).
      - ECS refuses to delete a capacity provider that is still associated with a cluster.
        With O(force=false) the module fails with a message naming those clusters.
        With O(force=true) the provider is first removed from each such cluster's capacity
        providers and default capacity provider strategy (C(PutClusterCapacityProviders)).
      - Services whose own capacity provider strategy still uses the provider still block
        the deletion; update them first.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Capacity provider for the app Auto Scaling group
  ecsops.platform.ecs_capacity_provider:
    name: app-cp
    auto_scaling_group_arn: "{{ asg.auto_scaling_group_arn }}"
    managed_scaling:
      status: ENABLED
      target_capacity: 90
      minimum_scaling_step_size: 1
      maximum_scaling_step_size: 4
    managed_termination_protection: false
    managed_draining: true
    tags:
      env: prod

- name: Remove it, detaching it from clusters first
  ecsops.platform.ecs_capacity_provider:
    name: app-cp
    state: absent
    force: true
"""

RETURN = r"""
capacity_provider:
  description: The capacity provider (as after the change; before it for O(state=absent)), keys in snake_case, tags as a dict.
  returned: when the capacity provider exists or existed
  type: dict
  contains:
    capacity_provider_arn:
      description: ARN of the capacity provider.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:capacity-provider/app-cp
    name:
      description: Name of the capacity provider.
      type: str
    status:
      description: ACTIVE or INACTIVE.
      type: str
    auto_scaling_group_provider:
      description: Auto Scaling group settings.
      type: dict
      sample:
        auto_scaling_group_arn: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:...
        managed_scaling:
          status: ENABLED
          target_capacity: 90
          minimum_scaling_step_size: 1
          maximum_scaling_step_size: 4
          instance_warmup_period: 300
        managed_termination_protection: DISABLED
        managed_draining: ENABLED
    tags:
      description: Tags of the capacity provider.
      type: dict
detached_from:
  description: Clusters the capacity provider was removed from before deletion (O(force=true)).
  returned: when O(state=absent)
  type: list
  elements: str
"""

import copy

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import boto3_tags_to_dict
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import dict_to_boto3_tags
from ansible_collections.ecsops.platform.plugins.module_utils.ecs import tag_changes

SCALING_KEYS = {
    "status": "status",
    "target_capacity": "targetCapacity",
    "minimum_scaling_step_size": "minimumScalingStepSize",
    "maximum_scaling_step_size": "maximumScalingStepSize",
    "instance_warmup_period": "instanceWarmupPeriod",
}
SCALING_RANGES = {
    "target_capacity": (1, 100),
    "minimum_scaling_step_size": (1, 10000),
    "maximum_scaling_step_size": (1, 10000),
    "instance_warmup_period": (0, 10000),
}


def _flag(value):
    return None if value is None else ("ENABLED" if value else "DISABLED")


def validate_params(module):
    scaling = module.params.get("managed_scaling") or {}
    for key, (low, high) in SCALING_RANGES.items():
        value = scaling.get(key)
        if value is not None and not low <= value <= high:
            module.fail_json(msg=f"managed_scaling.{key} must be between {low} and {high}, got {value}")
    low, high = scaling.get("minimum_scaling_step_size"), scaling.get("maximum_scaling_step_size")
    if low is not None and high is not None and low > high:
        module.fail_json(
            msg=(
                f"managed_scaling.minimum_scaling_step_size ({low}) must not be greater than "
                f"managed_scaling.maximum_scaling_step_size ({high})"
            )
        )


def desired_provider_settings(params):
    """The parts of autoScalingGroupProvider the user asked to manage (camelCase)."""
    desired = {}
    scaling = params.get("managed_scaling")
    if scaling:
        ms = {api: scaling[key] for key, api in SCALING_KEYS.items() if scaling.get(key) is not None}
        if ms:
            desired["managedScaling"] = ms
    if params.get("managed_termination_protection") is not None:
        desired["managedTerminationProtection"] = _flag(params["managed_termination_protection"])
    if params.get("managed_draining") is not None:
        desired["managedDraining"] = _flag(params["managed_draining"])
    return desired


def describe_provider(module, client, name):
    try:
        result = client.describe_capacity_providers(capacityProviders=[name], include=["TAGS"], aws_retry=True)
    except is_boto3_error_code("ClientException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe capacity provider {name}")
    for provider in result.get("capacityProviders", []):
        if provider.get("name") == name and provider.get("status") != "INACTIVE":
            return provider
    return None


def settings_view(provider):
    """Comparable / diffable view of a provider."""
    if not provider:
        return {}
    asg = copy.deepcopy(provider.get("autoScalingGroupProvider") or {})
    return {
        "auto_scaling_group_arn": asg.get("autoScalingGroupArn"),
        "managed_scaling": asg.get("managedScaling") or {},
        "managed_termination_protection": asg.get("managedTerminationProtection"),
        "managed_draining": asg.get("managedDraining"),
        "tags": boto3_tags_to_dict(provider.get("tags")),
    }


def merge_settings(current_asg, desired):
    """Apply the desired subset onto the current autoScalingGroupProvider; return (merged, changed_keys)."""
    merged = copy.deepcopy(current_asg)
    changed = []
    for key, value in desired.items():
        if key == "managedScaling":
            current_ms = merged.get("managedScaling") or {}
            for mkey, mval in value.items():
                if current_ms.get(mkey) != mval:
                    changed.append(f"managedScaling.{mkey}")
                    current_ms[mkey] = mval
            merged["managedScaling"] = current_ms
        elif merged.get(key) != value:
            changed.append(key)
            merged[key] = value
    return merged, changed


def format_result(provider):
    if not provider:
        return {}
    tags = boto3_tags_to_dict(provider.get("tags"))
    result = camel_dict_to_snake_dict({k: v for k, v in provider.items() if k != "tags"})
    result["tags"] = tags
    return result


def clusters_using(module, client, name, arn):
    clusters = []
    try:
        arns = client.get_paginator("list_clusters").paginate().build_full_result().get("clusterArns", [])
        for start in range(0, len(arns), 100):
            described = client.describe_clusters(clusters=arns[start : start + 100], aws_retry=True)
            for cluster in described.get("clusters", []):
                providers = cluster.get("capacityProviders") or []
                strategy = cluster.get("defaultCapacityProviderStrategy") or []
                if (
                    name in providers
                    or arn in providers
                    or any(s.get("capacityProvider") in (name, arn) for s in strategy)
                ):
                    clusters.append(cluster)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list the clusters using the capacity provider")
    return clusters


def ensure_absent(module, client, current):
    name = module.params["name"]
    result = dict(changed=False, capacity_provider={}, detached_from=[])
    if not current:
        module.exit_json(**result)
    result["capacity_provider"] = format_result(current)
    if module._diff:
        result["diff"] = dict(before=settings_view(current), after={})

    clusters = clusters_using(module, client, name, current.get("capacityProviderArn"))
    cluster_names = [c["clusterName"] for c in clusters]
    if clusters and not module.params["force"]:
        module.fail_json(
            msg=(
                f"Capacity provider {name} is still attached to cluster(s) {', '.join(cluster_names)}; "
                "remove it from those clusters first (for example with community.aws.ecs_cluster "
                "capacity_providers) or set force=true to detach it automatically"
            ),
            clusters=cluster_names,
            **result,
        )
    result["changed"] = True
    result["detached_from"] = cluster_names
    if module.check_mode:
        module.exit_json(**result)

    try:
        for cluster in clusters:
            providers = [
                p for p in cluster.get("capacityProviders") or [] if p not in (name, current["capacityProviderArn"])
            ]
            strategy = [
                s
                for s in cluster.get("defaultCapacityProviderStrategy") or []
                if s.get("capacityProvider") not in (name, current["capacityProviderArn"])
            ]
            client.put_cluster_capacity_providers(
                cluster=cluster["clusterArn"],
                capacityProviders=providers,
                defaultCapacityProviderStrategy=strategy,
                aws_retry=True,
            )
        client.delete_capacity_provider(capacityProvider=name, aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to delete capacity provider {name}")
    module.exit_json(**result)


def ensure_present(module, client, current):
    params = module.params
    name = params["name"]
    desired = desired_provider_settings(params)
    result = dict(changed=False)

    if not current:
        asg_provider = dict(autoScalingGroupArn=params["auto_scaling_group_arn"], **desired)
        request = dict(name=name, autoScalingGroupProvider=asg_provider)
        if params.get("tags"):
            request["tags"] = dict_to_boto3_tags(params["tags"])
        result["changed"] = True
        after = {"name": name, "autoScalingGroupProvider": asg_provider, "tags": request.get("tags", [])}
        if module._diff:
            result["diff"] = dict(before={}, after=settings_view(after))
        if module.check_mode:
            result["capacity_provider"] = format_result(after)
            module.exit_json(**result)
        try:
            created = client.create_capacity_provider(**request, aws_retry=True)["capacityProvider"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to create capacity provider {name}")
        result["capacity_provider"] = format_result(describe_provider(module, client, name) or created)
        module.exit_json(**result)

    asg = current.get("autoScalingGroupProvider") or {}
    if asg.get("autoScalingGroupArn") != params["auto_scaling_group_arn"]:
        module.fail_json(
            msg=(
                f"auto_scaling_group_arn of capacity provider {name} cannot be changed "
                f"(current: {asg.get('autoScalingGroupArn')}, requested: {params['auto_scaling_group_arn']}); "
                "ECS does not support it - delete the capacity provider and create it again"
            )
        )

    merged, changed_keys = merge_settings(asg, desired)
    # Re-validate the step sizes against the merged view (one of them may be unset here).
    merged_ms = merged.get("managedScaling") or {}
    low, high = merged_ms.get("minimumScalingStepSize"), merged_ms.get("maximumScalingStepSize")
    if changed_keys and low is not None and high is not None and low > high:
        module.fail_json(
            msg=(
                f"managed_scaling.minimum_scaling_step_size ({low}) must not be greater than "
                f"managed_scaling.maximum_scaling_step_size ({high}) (values merged with the current settings)"
            )
        )

    current_tags = boto3_tags_to_dict(current.get("tags"))
    to_set, to_remove = tag_changes(
        current_tags, params.get("tags"), params["purge_tags"], protected_prefixes=("aws:",)
    )

    after = copy.deepcopy(current)
    after["autoScalingGroupProvider"] = merged
    new_tags = dict(current_tags)
    new_tags.update(to_set)
    for key in to_remove:
        new_tags.pop(key, None)
    after["tags"] = dict_to_boto3_tags(new_tags)

    result["changed"] = bool(changed_keys or to_set or to_remove)
    result["updated_fields"] = changed_keys + (["tags"] if to_set or to_remove else [])
    if module._diff:
        result["diff"] = dict(before=settings_view(current), after=settings_view(after))
    if module.check_mode or not result["changed"]:
        result["capacity_provider"] = format_result(after)
        module.exit_json(**result)

    try:
        if changed_keys:
            update = {
                k: v
                for k, v in merged.items()
                if k in ("managedScaling", "managedTerminationProtection", "managedDraining")
            }
            client.update_capacity_provider(name=name, autoScalingGroupProvider=update, aws_retry=True)
        arn = current["capacityProviderArn"]
        if to_set:
            client.tag_resource(resourceArn=arn, tags=dict_to_boto3_tags(to_set), aws_retry=True)
        if to_remove:
            client.untag_resource(resourceArn=arn, tagKeys=to_remove, aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to update capacity provider {name}")
    result["capacity_provider"] = format_result(describe_provider(module, client, name) or after)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        auto_scaling_group_arn=dict(type="str"),
        managed_scaling=dict(
            type="dict",
            options=dict(
                status=dict(type="str", choices=["ENABLED", "DISABLED"]),
                target_capacity=dict(type="int"),
                minimum_scaling_step_size=dict(type="int"),
                maximum_scaling_step_size=dict(type="int"),
                instance_warmup_period=dict(type="int"),
            ),
        ),
        managed_termination_protection=dict(type="bool"),
        managed_draining=dict(type="bool"),
        force=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["auto_scaling_group_arn"])],
    )
    validate_params(module)
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    current = describe_provider(module, client, module.params["name"])
    if module.params["state"] == "absent":
        ensure_absent(module, client, current)
    ensure_present(module, client, current)


if __name__ == "__main__":
    main()
