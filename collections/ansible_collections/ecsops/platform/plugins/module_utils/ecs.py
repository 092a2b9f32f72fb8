# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers shared by the ecsops.platform ECS modules.

Nothing in here talks to AWS: these functions build, normalise and compare
ECS task definitions and services so the modules can decide whether an API
call is needed at all.  They are unit tested directly.
"""

from __future__ import annotations

import copy

# Container definition fields the ECS API types as integers.  Values coming
# from Jinja may be strings ("256"), so they are coerced before sending and
# before comparing.
CONTAINER_INT_FIELDS = (
    "cpu",
    "memory",
    "memoryReservation",
    "stopTimeout",
    "startTimeout",
)
PORT_INT_FIELDS = ("containerPort", "hostPort")
HEALTHCHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}

# Task definition keys that describe the definition itself.  Everything else
# a DescribeTaskDefinition returns (taskDefinitionArn, revision, status,
# compatibilities, requiresAttributes, registeredAt, registeredBy,
# deregisteredAt, ...) is filled in by AWS and ignored when comparing.
TASK_DEFINITION_KEYS = (
    "family",
    "containerDefinitions",
    "cpu",
    "memory",
    "networkMode",
    "executionRoleArn",
    "taskRoleArn",
    "requiresCompatibilities",
    "volumes",
    "placementConstraints",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "runtimePlatform",
    "ephemeralStorage",
    "inferenceAccelerators",
)

# Tag this collection keeps on a service: the task definition the last
# rollout replaced, so ``task_definition: previous`` can roll back to it.
PREVIOUS_TAG = "ecsops:previous-task-definition"
RESERVED_TAG_PREFIXES = ("ecsops:", "aws:")


def _to_int(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_empty(value):
    return value is None or value == [] or value == {}


def _drop_empty(value):
    """Recursively drop None, empty lists and empty dicts from dicts."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            item = _drop_empty(item)
            if not _is_empty(item):
                result[key] = item
        return result
    if isinstance(value, list):
        return [_drop_empty(item) for item in value]
    return value


def _name_value_list(items):
    """environment-style lists: values as strings, sorted by name."""
    result = []
    for item in items or []:
        item = dict(item)
        if "value" in item and item["value"] is not None and not isinstance(item["value"], str):
            value = item["value"]
            item["value"] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        result.append(item)
    return sorted(result, key=lambda i: str(i.get("name", "")))


def prepare_container(container):
    """Return a copy of a user supplied container definition fit for RegisterTaskDefinition.

    Coerces integer fields that arrived as strings, stringifies environment
    values and log option values (the API only accepts strings there) and
    removes keys whose value is None.
    """
    result = {}
    for key, value in (container or {}).items():
        if value is None:
            continue
        if key in CONTAINER_INT_FIELDS:
            value = _to_int(value)
        elif key == "portMappings":
            value = [
                {k: (_to_int(v) if k in PORT_INT_FIELDS else v) for k, v in pm.items() if v is not None} for pm in value
            ]
        elif key in ("environment",):
            value = _name_value_list(value)
        elif key == "logConfiguration" and isinstance(value, dict):
            value = copy.deepcopy(value)
            options = value.get("options")
            if isinstance(options, dict):
                value["options"] = {k: str(v) if not isinstance(v, str) else v for k, v in options.items()}
        elif key == "healthCheck" and isinstance(value, dict):
            value = {k: (_to_int(v) if k != "command" else v) for k, v in value.items() if v is not None}
        else:
            value = copy.deepcopy(value)
        result[key] = value
    return result


def normalize_container(container, network_mode="bridge"):
    """Normalise one container definition so AWS-filled defaults compare equal to omissions."""
    c = _drop_empty(prepare_container(container))

    if c.get("essential", True) is True:
        c.pop("essential", None)
    if c.get("cpu") == 0:
        c.pop("cpu")
    if c.get("versionConsistency") == "enabled":
        c.pop("versionConsistency")
    if c.get("readonlyRootFilesystem") is False:
        c.pop("readonlyRootFilesystem")
    if c.get("privileged") is False:
        c.pop("privileged")
    if c.get("interactive") is False:
        c.pop("interactive")
    if c.get("pseudoTerminal") is False:
        c.pop("pseudoTerminal")
    if c.get("disableNetworking") is False:
        c.pop("disableNetworking")

    if "portMappings" in c:
        mappings = []
        for pm in c["portMappings"]:
            pm = dict(pm)
            if pm.get("protocol", "tcp") == "tcp":
                pm.pop("protocol", None)
            host_port = pm.get("hostPort")
            if network_mode in ("awsvpc", "host"):
                # AWS fills hostPort with containerPort in these modes.
                if host_port is None or host_port == pm.get("containerPort"):
                    pm.pop("hostPort", None)
            elif host_port in (0, None):
                # bridge: 0 / omitted both mean a dynamic host port.
                pm.pop("hostPort", None)
            mappings.append(pm)
        c["portMappings"] = sorted(
            mappings,
            key=lambda p: (
                p.get("containerPort", -1),
                p.get("protocol", "tcp"),
                p.get("hostPort", -1),
                str(p.get("name", "")),
            ),
        )

    for key in ("environment", "secrets", "ulimits", "systemControls", "extraHosts"):
        if key in c:
            c[key] = sorted(c[key], key=lambda i: str(i.get("name", i.get("namespace", i.get("hostname", "")))))

    if "healthCheck" in c:
        hc = dict(c["healthCheck"])
        for key, default in HEALTHCHECK_DEFAULTS.items():
            if hc.get(key) == default:
                hc.pop(key)
        if hc.get("startPeriod") == 0:
            hc.pop("startPeriod")
        c["healthCheck"] = hc

    if "logConfiguration" in c:
        c["logConfiguration"] = _drop_empty(c["logConfiguration"])
    return c


def _normalize_volume(volume):
    v = _drop_empty(volume)
    efs = v.get("efsVolumeConfiguration")
    if isinstance(efs, dict) and efs.get("rootDirectory") == "/":
        efs = dict(efs)
        efs.pop("rootDirectory")
        v["efsVolumeConfiguration"] = efs
    return v


def normalize_task_definition(td):
    """Reduce a task definition (desired kwargs or DescribeTaskDefinition output) to a comparable dict."""
    if not td:
        return None
    result = {}
    for key in TASK_DEFINITION_KEYS:
        if key in td and not _is_empty(td[key]):
            result[key] = copy.deepcopy(td[key])
    network_mode = result.get("networkMode") or "bridge"
    result["networkMode"] = network_mode
    result["containerDefinitions"] = sorted(
        [normalize_container(c, network_mode) for c in result.get("containerDefinitions", [])],
        key=lambda c: c.get("name", ""),
    )
    for key in ("cpu", "memory"):
        if key in result:
            result[key] = str(result[key])
    result["requiresCompatibilities"] = sorted(result.get("requiresCompatibilities") or ["EC2"])
    if "volumes" in result:
        result["volumes"] = sorted([_normalize_volume(v) for v in result["volumes"]], key=lambda v: v.get("name", ""))
    return _drop_empty(result)


def task_definition_differences(desired, current):
    """Top-level keys (and container names) that differ between two task definitions.

    Both arguments are raw definitions; they are normalised here.
    Returns a sorted list such as ``["containerDefinitions[app].image", "cpu"]``.
    """
    a = normalize_task_definition(desired) or {}
    b = normalize_task_definition(current) or {}
    diffs = []
    for key in sorted(set(a) | set(b)):
        if key == "containerDefinitions":
            ca = {c.get("name"): c for c in a.get(key, [])}
            cb = {c.get("name"): c for c in b.get(key, [])}
            for name in sorted(set(ca) | set(cb), key=str):
                if name not in ca or name not in cb:
                    diffs.append(f"containerDefinitions[{name}]")
                    continue
                for ckey in sorted(set(ca[name]) | set(cb[name])):
                    if ca[name].get(ckey) != cb[name].get(ckey):
                        diffs.append(f"containerDefinitions[{name}].{ckey}")
        elif a.get(key) != b.get(key):
            diffs.append(key)
    return diffs


def container_images(td):
    """Map container name -> image for a task definition (raw or normalised)."""
    if not td:
        return {}
    return {c.get("name"): c.get("image") for c in td.get("containerDefinitions", [])}


def td_label(arn):
    """'arn:...:task-definition/web:12' -> 'web:12' (also accepts 'web:12')."""
    if not arn:
        return arn
    return arn.split("/")[-1]


def td_family_revision(arn):
    label = td_label(arn)
    family, _sep, revision = label.rpartition(":")
    try:
        return family, int(revision)
    except ValueError:
        return label, None


def boto3_tags_to_dict(tags):
    return {t["key"]: t["value"] for t in tags or []}


def dict_to_boto3_tags(tags):
    return [{"key": str(k), "value": str(v)} for k, v in sorted((tags or {}).items())]


def tag_changes(current, desired, purge, protected_prefixes=RESERVED_TAG_PREFIXES):
    """ECS flavoured compare_aws_tags: returns (to_set: dict, to_remove: list).

    Keys starting with one of ``protected_prefixes`` are never purged.
    ``desired`` None means "do not manage tags".
    """
    if desired is None:
        return {}, []
    desired = {str(k): str(v) for k, v in desired.items()}
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_remove = []
    if purge:
        to_remove = sorted(k for k in current if k not in desired and not k.startswith(tuple(protected_prefixes)))
    return to_set, to_remove


def normalize_strategy(items):
    """capacityProviderStrategy: base defaults to 0, weight to 0; order irrelevant."""
    result = []
    for item in items or []:
        result.append(
            {
                "capacityProvider": item.get("capacityProvider"),
                "weight": _to_int(item.get("weight") or 0),
                "base": _to_int(item.get("base") or 0),
            }
        )
    return sorted(result, key=lambda i: str(i["capacityProvider"]))


def normalize_load_balancers(items):
    result = []
    for item in items or []:
        lb = {k: (_to_int(v) if k == "containerPort" else v) for k, v in item.items() if v is not None}
        result.append(lb)
    return sorted(
        result,
        key=lambda i: (
            str(i.get("targetGroupArn", i.get("loadBalancerName", ""))),
            str(i.get("containerName")),
            i.get("containerPort", 0),
        ),
    )


def normalize_network_configuration(config):
    if not config:
        return None
    vpc = dict(config.get("awsvpcConfiguration") or {})
    vpc["subnets"] = sorted(vpc.get("subnets") or [])
    vpc["securityGroups"] = sorted(vpc.get("securityGroups") or [])
    vpc["assignPublicIp"] = vpc.get("assignPublicIp") or "DISABLED"
    return {"awsvpcConfiguration": vpc}
