# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The naming contract: the name of every AWS object the project owns, defined once.

playbooks/vars/common.yml exposes it to every play as `ecsops_names` (filter `ecsops.platform.names`);
scripts/summary.py and the tests import `names()` from here.  No role, playbook or script builds an AWS
name itself: tests/unit/test_names.py fails when one does.

Names take `<project_name>-<env_name>` (the prefix) plus a suffix; ELBv2 names are capped at 32
characters; ECR repositories are per project (shared by the environments of one account); SSM parameters
live under /<project_name>/<env_name>/.
"""

from __future__ import annotations

import hashlib

# The rds role's default rds_engine_version (roles/rds/defaults/main.yml), for plays without that role.
DEFAULT_ENGINE_VERSION = "16"


def target_group_name(prefix, service):
    """ELBv2 names are at most 32 characters: keep it readable, stay unique with a short hash."""
    name = f"{prefix}-{service}"
    if len(name) <= 32:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{name[:25].rstrip('-')}-{digest}"


def log_group_name(prefix, service, container=None, per_container=False):
    """A service's log group, or one per container when the service asks for that."""
    base = f"/ecs/{prefix}/{service}"
    return f"{base}/{container}" if per_container and container else base


def service_names(prefix, service):
    """The names one ECS service (an inventory host of group `services`) owns."""
    return {
        "service": service,
        "family": f"{prefix}-{service}",
        "task_role": f"{prefix}-task-{service}",
        "target_group": target_group_name(prefix, service),
        "log_group": log_group_name(prefix, service),
        "scalable_target": f"service/{prefix}/{service}",
        "scaling_policy_prefix": f"{prefix}-{service}",
        "alarm_prefix": f"{prefix}-{service}-",
    }


def names(project, env, account_id="", services=(), azs=(), bucket="", engine_version=None, repositories=()):
    """The whole contract for one environment.

    - project, env: project_name and env_name (the prefix is `<project>-<env>`).
    - account_id: aws_account_id (the default bucket name and the instance profile ARN use it).
    - services: the service host names (groups['services']); `services[<name>]` holds each one's names.
    - azs: vpc_availability_zones (subnets, route tables and NAT gateways are named per AZ).
    - bucket: s3_bucket_name when the inventory sets one, else `<prefix>-app-<account>`.
    - engine_version: rds_engine_version (the parameter group is per major version).
    - repositories: ecr_repositories (each becomes `<project>/<name>`).
    """
    prefix = f"{project}-{env}"
    major = str(engine_version or DEFAULT_ENGINE_VERSION).split(".", maxsplit=1)[0]
    capacity = f"{prefix}-ecs"
    return {
        "prefix": prefix,
        # network (vpc role): the VPC, internet gateway and route tables carry a Name tag
        "vpc": prefix,
        "internet_gateway": prefix,
        "public_route_table": f"{prefix}-public",
        "private_route_tables": {az: f"{prefix}-private-{az}" for az in azs},
        "subnets": {tier: {az: f"{prefix}-{tier}-{az}" for az in azs} for tier in ("public", "private")},
        "nat_gateways": {az: f"{prefix}-nat-{az}" for az in azs},
        "security_groups": {role: f"{prefix}-{role}" for role in ("alb", "instances", "rds")},
        # platform
        "cluster": prefix,
        "capacity": capacity,  # Auto Scaling group, launch template and capacity provider
        "instance_role": f"{capacity}-instance",
        "instance_profile": f"{capacity}-instance",
        "instance_profile_arn": f"arn:aws:iam::{account_id}:instance-profile/{capacity}-instance" if account_id else "",
        "execution_role": f"{capacity}-execution",
        "task_roles": [f"{prefix}-task-{s}" for s in sorted(services)],
        "role_pattern": f"^{prefix}-(ecs-instance|ecs-execution|task-.+)$",
        "services": {s: service_names(prefix, s) for s in services},
        "log_group_prefix": f"/ecs/{prefix}/",
        "repositories": {str(r): f"{project}/{r}" for r in repositories},
        "repository_prefix": f"{project}/",
        # edge
        "load_balancer": prefix,
        "alarm_prefix": f"{prefix}-",
        "alarms": {
            "rds_cpu": f"{prefix}-rds-cpu",
            "rds_free_storage": f"{prefix}-rds-free-storage",
            "alb_5xx": f"{prefix}-alb-5xx",
        },
        "target_group_alarm_format": f"{prefix}-tg-%s-unhealthy",
        # data
        "db_instance": prefix,
        "db_subnet_group": prefix,
        "db_parameter_group": f"{prefix}-postgres{major}",
        "db_parameter_group_family": f"postgres{major}",
        "db_final_snapshot": f"{prefix}-final",  # teardown appends -<UTC yyyymmddHHMM>
        "ssm_prefix": f"/{project}/{env}",
        "db_ssm_prefix": f"/{project}/{env}/db",
        "db_password_parameter": f"/{project}/{env}/db/password",
        "secret_prefix": f"{project}/{env}",
        "bucket": bucket or (f"{prefix}-app-{account_id}" if account_id else ""),
    }


def project_patterns(project):
    """Wildcards that match the names of every environment of one project (the deployer policy's scope)."""
    return {
        "role": f"{project}-*",  # roles and instance profiles: <project>-<env>-...
        "bucket": f"{project}-*",
        "parameter": f"{project}/*",  # SSM parameters /<project>/<env>/...
        "log_group": f"/ecs/{project}-*",
        "repository": f"{project}/*",
    }
