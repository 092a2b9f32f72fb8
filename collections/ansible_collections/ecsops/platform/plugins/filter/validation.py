# -*- coding: utf-8 -*-
"""Cross-checks of inventory inputs that argument_specs cannot express.

Keys and types (e.g. of each service container, the load balancer, autoscaling) are argument_specs' nested
`options` (roles/service/meta/argument_specs.yml), checked by validate_argument_spec before these run; these
checks add what a spec cannot say (formats, ranges, references between keys and services).

Each filter returns a list of error strings (empty when the input is fine); the
preflight role fails once with all of them, before the first API call.
Every message names the variable and says what was expected.
"""

from __future__ import annotations

import ipaddress
import re


def _net(value):
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None
    return net if net.version == 4 else None


def cidr_errors(value, name, min_prefix=16, max_prefix=28):
    """A single IPv4 CIDR with a prefix in [min_prefix, max_prefix]."""
    net = _net(value)
    if net is None:
        return [f"{name}: '{value}' is not a valid IPv4 CIDR (expected e.g. 10.20.0.0/16, host bits zero)"]
    if not min_prefix <= net.prefixlen <= max_prefix:
        return [f"{name}: '{value}' has prefix /{net.prefixlen}; expected /{min_prefix} to /{max_prefix}"]
    return []


def network_errors(vpc_cidr, azs, public, private, region):
    """VPC/subnet layout: valid, inside the VPC, not overlapping, one per AZ, >= 2 AZs in the region."""
    errors = cidr_errors(vpc_cidr, "vpc_cidr")
    azs = list(azs or [])
    if len(azs) < 2:
        errors.append(f"vpc_availability_zones: {len(azs)} zone(s) given; expected at least 2 for an ALB and RDS")
    if len(set(azs)) != len(azs):
        errors.append("vpc_availability_zones: contains duplicates; expected distinct zones")
    for az in azs:
        if not re.fullmatch(re.escape(str(region)) + r"[a-z]", str(az)):
            errors.append(f"vpc_availability_zones: '{az}' is not a zone of aws_region '{region}' (expected e.g. {region}a)")
    vpc = _net(vpc_cidr)
    subnets = []
    for var, cidrs in (("vpc_public_subnet_cidrs", public), ("vpc_private_subnet_cidrs", private)):
        cidrs = list(cidrs or [])
        if len(cidrs) != len(azs):
            errors.append(f"{var}: {len(cidrs)} CIDR(s) for {len(azs)} availability zone(s); expected one per zone")
        for i, cidr in enumerate(cidrs):
            label = f"{var}[{i}]"
            sub_errors = cidr_errors(cidr, label, 16, 28)
            errors.extend(sub_errors)
            net = _net(cidr)
            if sub_errors or net is None:
                continue
            if vpc is not None and not net.subnet_of(vpc):
                errors.append(f"{label}: '{cidr}' is outside vpc_cidr {vpc_cidr}; expected a subnet of it")
            for other_label, other in subnets:
                if net.overlaps(other):
                    errors.append(f"{label}: '{cidr}' overlaps {other_label} '{other}'; expected disjoint subnets")
            subnets.append((label, net))
    return errors


def cidr_list_errors(values, name):
    """A list of IPv4 CIDRs (any prefix), e.g. allowed ingress ranges."""
    if not isinstance(values, (list, tuple)):
        return [f"{name}: expected a list of IPv4 CIDRs, got {type(values).__name__} {values!r}"]
    errors = []
    for i, value in enumerate(values or []):
        try:
            ipaddress.IPv4Network(str(value), strict=True)
        except ValueError:
            errors.append(f"{name}[{i}]: '{value}' is not a valid IPv4 CIDR (expected e.g. 203.0.113.0/24)")
    return errors


_MOVING_TAGS = {"latest", "main", "master", "stable", "edge", "dev", "nightly"}
_IMAGE_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def service_errors(svc, service, env_name, pinned_envs, tag_values=None):
    """Everything wrong with one service definition (a host of group `services`)."""
    errors = []
    p = f"{service}: "
    tag_values = tag_values or {}
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", service):
        errors.append(p + "the service (inventory host) name must be 1-31 characters of a-z, 0-9 and -, starting with a letter")
    containers = svc.get("service_containers") or []
    if not containers:
        errors.append(p + "service_containers: expected at least one container")
    names = []
    for i, c in enumerate(containers):
        label = f"{p}service_containers[{i}]"
        if not isinstance(c, dict):
            errors.append(f"{label}: expected a dict, got {type(c).__name__}")
            continue
        name = c.get("name")
        if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}", str(name)):
            errors.append(f"{label}.name: '{name}' must be letters, digits, - and _")
        names.append(name)
        image = str(c.get("image", ""))
        if not image or not _IMAGE_RE.match(image):
            errors.append(f"{label}.image: '{image}' is not an image repository reference without tag "
                          "(expected e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app)")
        tag_var = c.get("tag_var", "image_tag")
        for source, tag in (("tag", c.get("tag")), (tag_var, tag_values.get(tag_var))):
            if tag is None or tag == "":
                if source == "tag":
                    errors.append(f"{label}.tag: missing; expected a pinned image tag such as 1.4.2")
                continue
            tag = str(tag)
            if not _TAG_RE.match(tag):
                errors.append(f"{label}.{source}: '{tag}' is not a valid image tag")
            elif env_name in pinned_envs and tag.lower() in _MOVING_TAGS:
                errors.append(f"{label}.{source}: '{tag}' is a moving tag; {env_name} requires a pinned tag (e.g. 1.4.2 or a git sha)")
        if _is_int(c.get("port")) and not 1 <= int(c["port"]) <= 65535:
            errors.append(f"{label}.port: {c['port']} must be 1-65535")
        if _is_int(c.get("memory")) and int(c["memory"]) < 6:
            errors.append(f"{label}.memory: {c['memory']} MiB is below the ECS minimum of 6")
        for key in ("environment", "secrets"):
            value = c.get(key) or {}
            if not isinstance(value, dict):
                errors.append(f"{label}.{key}: expected a dict of NAME: value")
                continue
            for env_key in value:
                if not _ENV_RE.match(str(env_key)):
                    errors.append(f"{label}.{key}: '{env_key}' is not a valid environment variable name")
        env = c.get("environment") or {}
        if isinstance(env, dict):
            for env_key in env:
                if re.search(r"PASSWORD|SECRET|TOKEN|PRIVATE_KEY", str(env_key), re.I):
                    errors.append(f"{label}.environment.{env_key}: looks like a secret; put it in secrets (SSM valueFrom), never environment")
    if len(set(names)) != len(names):
        errors.append(p + "service_containers: duplicate container names")
    if containers and not any(isinstance(c, dict) and c.get("essential", True) for c in containers):
        errors.append(p + "service_containers: at least one container must be essential")
    lb = svc.get("service_load_balancer") or {}
    if lb:
        if not isinstance(lb, dict):
            errors.append(p + "service_load_balancer: expected a dict")
        else:
            target = next((c for c in containers if isinstance(c, dict) and c.get("name") == lb.get("container")), None)
            if target is None:
                errors.append(f"{p}service_load_balancer.container: '{lb.get('container')}' is not one of the service's containers")
            elif str(target.get("port")) != str(lb.get("container_port")):
                errors.append(f"{p}service_load_balancer.container_port: {lb.get('container_port')} is not the port of container "
                              f"{target.get('name')} ({target.get('port')})")
            if not lb.get("path_patterns") and not lb.get("host_headers"):
                errors.append(f"{p}service_load_balancer: expected path_patterns and/or host_headers")
            prio = lb.get("priority", 100)
            if not _is_int(prio) or not 1 <= int(prio) <= 50000:
                errors.append(f"{p}service_load_balancer.priority: '{prio}' must be an integer 1-50000")
            hc = str(lb.get("health_check_path", "/healthz"))
            if not hc.startswith("/"):
                errors.append(f"{p}service_load_balancer.health_check_path: '{hc}' must start with /")
    scaling = svc.get("service_autoscaling") or {}
    if scaling:
        lo, hi = scaling.get("min_tasks", svc.get("service_desired_count", 1)), scaling.get("max_tasks")
        if not _is_int(hi):
            errors.append(f"{p}service_autoscaling.max_tasks: expected an integer")
        elif _is_int(lo) and int(lo) > int(hi):
            errors.append(f"{p}service_autoscaling: min_tasks {lo} > max_tasks {hi}; expected min <= max")
        for key in ("cpu_target", "memory_target"):
            if key in scaling and (not _is_num(scaling[key]) or not 1 <= float(scaling[key]) <= 100):
                errors.append(f"{p}service_autoscaling.{key}: '{scaling[key]}' must be a percentage 1-100")
        if not any(k in scaling for k in ("cpu_target", "memory_target", "requests_per_target")):
            errors.append(f"{p}service_autoscaling: expected at least one of cpu_target, memory_target, requests_per_target")
        if "requests_per_target" in scaling and not lb:
            errors.append(f"{p}service_autoscaling.requests_per_target: needs service_load_balancer")
    mig = svc.get("service_migration") or {}
    if mig:
        if mig.get("container") not in names:
            errors.append(f"{p}service_migration.container: '{mig.get('container')}' is not one of the service's containers")
        if not isinstance(mig.get("command"), list) or not mig.get("command"):
            errors.append(f"{p}service_migration.command: expected a non-empty list")
    lo = svc.get("service_deployment_minimum_healthy_percent", 100)
    hi = svc.get("service_deployment_maximum_percent", 200)
    if _is_int(lo) and _is_int(hi) and int(hi) < int(lo):
        errors.append(f"{p}service_deployment_maximum_percent {hi} < service_deployment_minimum_healthy_percent {lo}")
    for i, st in enumerate(svc.get("service_task_policy_statements") or []):
        actions = st.get("Action", []) if isinstance(st, dict) else []
        resources = st.get("Resource", []) if isinstance(st, dict) else []
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if "*" in actions and "*" in resources:
            errors.append(f"{p}service_task_policy_statements[{i}]: Action * on Resource * is not allowed")
    return errors


def unknown_service_vars(names, known):
    """service_* variables a service host sets that the role does not know (typos)."""
    return [f"{n}: not a known variable of a service (a typo?); known: {', '.join(sorted(known))}"
            for n in sorted(names) if n.startswith("service_") and n not in known]


def routing_errors(services, hostvars):
    """Two services with the same listener priority, or the same path/host rule."""
    errors, seen_prio, seen_rule = [], {}, {}
    for s in services:
        lb = hostvars[s].get("service_load_balancer") or {}
        if not lb:
            continue
        prio = str(lb.get("priority", 100))
        if prio in seen_prio:
            errors.append(f"{s}: service_load_balancer.priority {prio} is also used by {seen_prio[prio]}; expected unique priorities")
        seen_prio.setdefault(prio, s)
        rule = (tuple(sorted(lb.get("path_patterns") or [])), tuple(sorted(lb.get("host_headers") or [])))
        if rule in seen_rule:
            errors.append(f"{s}: service_load_balancer routes the same paths/hosts as {seen_rule[rule]}; expected distinct rules")
        seen_rule.setdefault(rule, s)
    return errors


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()) is not None


def _is_num(value):
    try:
        float(value)
        return not isinstance(value, bool)
    except (TypeError, ValueError):
        return False


class FilterModule:
    def filters(self):
        return {
            "cidr_errors": cidr_errors,
            "network_errors": network_errors,
            "cidr_list_errors": cidr_list_errors,
            "service_errors": service_errors,
            "unknown_service_vars": unknown_service_vars,
            "routing_errors": routing_errors,
        }
