# -*- coding: utf-8 -*-
"""Turn a service's inventory data into ECS API container definitions (pure, unit tested)."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.module_utils.names import log_group_name

_PASSTHROUGH = {
    "command": "command",
    "entry_point": "entryPoint",
    "working_directory": "workingDirectory",
    "links": "links",
    "depends_on": "dependsOn",
    "stop_timeout": "stopTimeout",
    "start_timeout": "startTimeout",
    "ulimits": "ulimits",
    "user": "user",
    "readonly_root_filesystem": "readonlyRootFilesystem",
    "mount_points": "mountPoints",
}


def container_definitions(service, containers, prefix, region, account_id, param_path, per_container_logs=False):
    """service_containers (inventory) -> ECS containerDefinitions.

    - image = image:tag (the tag a redeploy may override is applied later by ecs_deploy's `images`)
    - secrets: {ENV_NAME: parameter name under param_path} -> valueFrom SSM parameter ARNs (never `environment`)
    - awslogs into the service's log group, in the task definition's own region
    """
    result = []
    for c in containers:
        definition = {
            "name": c["name"],
            "image": f"{c['image']}:{c['tag']}",
            "essential": bool(c.get("essential", True)),
        }
        if c.get("cpu") is not None:
            definition["cpu"] = int(c["cpu"])
        if c.get("memory") is not None:
            definition["memory"] = int(c["memory"])
        if c.get("memory_reservation") is not None:
            definition["memoryReservation"] = int(c["memory_reservation"])
        if c.get("port") is not None:
            definition["portMappings"] = [{
                "containerPort": int(c["port"]),
                "hostPort": int(c.get("host_port", 0)),
                "protocol": "tcp",
            }]
        env = c.get("environment") or {}
        if env:
            definition["environment"] = [{"name": k, "value": str(v)} for k, v in sorted(env.items())]
        secrets = c.get("secrets") or {}
        if secrets:
            definition["secrets"] = [
                {"name": k, "valueFrom": _param_arn(v, region, account_id, param_path)}
                for k, v in sorted(secrets.items())
            ]
        if c.get("health_check"):
            hc = c["health_check"]
            definition["healthCheck"] = {
                "command": list(hc["command"]),
                "interval": int(hc.get("interval", 10)),
                "timeout": int(hc.get("timeout", 5)),
                "retries": int(hc.get("retries", 3)),
                "startPeriod": int(hc.get("start_period", 10)),
            }
        for key, api_key in _PASSTHROUGH.items():
            if c.get(key) is not None:
                definition[api_key] = c[key]
        definition["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group_name(prefix, service, c["name"], per_container_logs),
                "awslogs-region": region,
                "awslogs-stream-prefix": c["name"],
            },
        }
        result.append(definition)
    return result


def _param_arn(value, region, account_id, param_path):
    value = str(value)
    if value.startswith("arn:"):
        return value
    return f"arn:aws:ssm:{region}:{account_id}:parameter{param_path.rstrip('/')}/{value.lstrip('/')}"


def deploy_images(containers, tags):
    """Containers whose tag variable was given on this run -> {container: image:tag} for ecs_deploy `images`.

    `tags` maps a tag variable name (e.g. image_tag) to its value ('' when not given).
    """
    images = {}
    for c in containers:
        value = tags.get(c.get("tag_var", "image_tag")) or ""
        if value:
            images[c["name"]] = f"{c['image']}:{value}"
    return images


def scaling_drift(policies, current, policy_prefix, minimum, maximum, scale_out_cooldown, scale_in_cooldown):
    """The target-tracking policies to hand to community.aws.application_autoscaling_policy, each item of
    `policies` (`name`, `target`, `metric`) with the module's arguments added: `policy_name`
    (`<policy_prefix>-<name>`) and `config` (its TargetTrackingScalingPolicyConfiguration).

    Only those the module would change, given `current`, ecs_deploy's `autoscaling` result (the service's
    scalable target and policies, read earlier in the same run). The module compares the scalable target's
    MinCapacity/MaxCapacity and each policy's whole TargetTrackingScalingPolicyConfiguration; so does this, so a
    policy left out is one the module would have left alone. Unknown state (no `current`: the deploy play did
    not run or did not read it) or a missing or different scalable target: all of them."""
    items = []
    for item in policies:
        config = {
            "TargetValue": float(item["target"]),
            "PredefinedMetricSpecification": item["metric"],
            "ScaleOutCooldown": int(scale_out_cooldown),
            "ScaleInCooldown": int(scale_in_cooldown),
        }
        items.append(dict(item, policy_name=f"{policy_prefix}-{item['name']}", config=config))
    if not isinstance(current, dict) or "policies" not in current:
        return items
    target = current.get("scalable_target") or {}
    if target.get("MinCapacity") != int(minimum) or target.get("MaxCapacity") != int(maximum):
        return items
    by_name = {p.get("PolicyName"): p for p in current.get("policies") or []}
    drift = []
    for item in items:
        have = by_name.get(item["policy_name"])
        if (
            have is None
            or have.get("PolicyType") != "TargetTrackingScaling"
            or "StepScalingPolicyConfiguration" in have
            or have.get("TargetTrackingScalingPolicyConfiguration") != item["config"]
        ):
            drift.append(item)
    return drift


class FilterModule:
    def filters(self):
        return {
            "container_definitions": container_definitions,
            "deploy_images": deploy_images,
            "scaling_drift": scaling_drift,
        }
