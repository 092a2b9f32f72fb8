"""Bad inventory input fails in preflight, before the first API call, with one clear message
naming the variable, never a Python traceback; the emulator shows nothing was created."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support import Emulator, playbook, tagged_resources

APP = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecsops/app"


def _containers(**extra: Any) -> list[dict[str, Any]]:
    container = {"name": "app", "image": APP, "tag": "1.0.0", "cpu": 128, "memory": 256, "port": 8000}
    container.update(extra)
    return [container]


# (id, extra vars, text the message must contain). Unknown keys and wrong types of a service's containers, load
# balancer and autoscaling are refused by the nested `options` of roles/service/meta/argument_specs.yml
# (validate_argument_spec's own messages, which name the variable and the key); the rest by the roles' cross-checks.
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("malformed-vpc-cidr", {"vpc_cidr": "10.20.0.0/33"}, "vpc_cidr: '10.20.0.0/33' is not a valid IPv4 CIDR"),
    ("vpc-cidr-host-bits", {"vpc_cidr": "10.20.0.1/16"}, "vpc_cidr: '10.20.0.1/16' is not a valid IPv4 CIDR"),
    ("overlapping-subnets", {"vpc_private_subnet_cidrs": ["10.20.0.0/20", "10.20.48.0/20"]},
     "vpc_private_subnet_cidrs[0]: '10.20.0.0/20' overlaps vpc_public_subnet_cidrs[0]"),
    ("subnet-outside-vpc", {"vpc_public_subnet_cidrs": ["10.99.0.0/22", "10.20.4.0/22"]},
     "vpc_public_subnet_cidrs[0]: '10.99.0.0/22' is outside vpc_cidr"),
    ("one-az", {"vpc_availability_zones": ["eu-west-1a"], "vpc_public_subnet_cidrs": ["10.20.0.0/22"],
                "vpc_private_subnet_cidrs": ["10.20.32.0/20"]}, "vpc_availability_zones: 1 zone(s) given; expected at least 2"),
    ("az-of-another-region", {"vpc_availability_zones": ["eu-west-1a", "us-east-1b"]},
     "vpc_availability_zones: 'us-east-1b' is not a zone of aws_region"),
    ("subnet-count-mismatch", {"vpc_private_subnet_cidrs": ["10.20.32.0/20"]},
     "vpc_private_subnet_cidrs: 1 CIDR(s) for 2 availability zone(s)"),
    ("unknown-environment", {"env_name": "qa"}, "env_name: qa is not a known environment"),
    ("removed-db-port-variable", {"security_groups_db_port": 5433}, "security_groups_db_port: removed; set rds_port"),
    ("removed-static-ports-variable", {"security_groups_static_host_ports": [8000]},
     "security_groups_static_host_ports: removed; the instance group opens every host_port"),
    ("malformed-region", {"aws_region": "europe-1"}, "aws_region: europe-1 is not an AWS region name"),
    ("account-id-not-12-digits", {"aws_account_id": "1234"}, "aws_account_id: 1234 must be the 12-digit account id"),
    ("project-name-uppercase", {"project_name": "EcsOps"}, "project_name: EcsOps must be 2-16 characters"),
    ("string-for-a-number", {"ecs_capacity_min_size": "two"}, "ecs_capacity_min_size"),
    ("bool-for-a-list", {"security_groups_alb_ingress_cidrs": True}, "security_groups_alb_ingress_cidrs"),
    ("choice-not-allowed", {"vpc_nat_mode": "sometimes"}, "vpc_nat_mode"),
    ("malformed-ingress-cidr", {"security_groups_alb_ingress_cidrs": ["203.0.113.0/33"]},
     "security_groups_alb_ingress_cidrs[0]: '203.0.113.0/33' is not a valid IPv4 CIDR"),
    ("instance-type-format", {"ecs_capacity_instance_type": "t3medium"}, "ecs_capacity_instance_type: t3medium is not an EC2 instance type"),
    ("ami-id-format", {"ecs_capacity_ami_id": "ami-xyz"}, "ecs_capacity_ami_id: ami-xyz is not an AMI id"),
    ("asg-min-above-max", {"ecs_capacity_min_size": 5, "ecs_capacity_max_size": 2, "ecs_capacity_desired_capacity": 3},
     "ecs_capacity_min_size: 5 > ecs_capacity_max_size 2"),
    ("asg-desired-outside-bounds", {"ecs_capacity_desired_capacity": 9},
     "ecs_capacity_desired_capacity: 9 is outside [1, 3]"),
    ("target-capacity-out-of-range", {"ecs_capacity_target_capacity": 150}, "ecs_capacity_target_capacity: 150 must be 1-100"),
    ("stop-timeout-format", {"ecs_capacity_container_stop_timeout": "thirty"}, "ecs_capacity_container_stop_timeout: thirty"),
    ("certificate-arn-malformed", {"alb_certificate_arn": "arn:aws:acm:eu-west-1:123:cert/x"},
     "alb_certificate_arn: arn:aws:acm:eu-west-1:123:cert/x is not an ACM certificate ARN"),
    ("certificate-in-another-region",
     {"alb_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"},
     "alb_certificate_arn: the certificate is in us-east-1"),
    ("health-check-timeout-not-below-interval", {"alb_health_check_timeout": 10}, "alb_health_check_timeout"),
    ("latest-tag-in-prod", {"env_name": "prod", "image_tag": "latest"}, "'latest' is a moving tag; prod requires a pinned tag"),
    ("invalid-image-tag", {"image_tag": "bad tag!"}, "'bad tag!' is not a valid image tag"),
    ("image-reference-malformed", {"service_containers": _containers(image="Not A Repo")}, ".image: 'Not A Repo' is not an image repository"),
    ("unknown-container-key", {"service_containers": _containers(memroy=256)}, "service_containers.memroy. Supported parameters include"),
    ("service-variable-typo", {"service_desired_cuont": 2}, "service_desired_cuont: not a known variable of a service"),
    ("secret-in-environment", {"service_containers": _containers(environment={"DB_PASSWORD": "x"})},
     "environment.DB_PASSWORD: looks like a secret"),
    ("unknown-load-balancer-key", {"service_containers": _containers(),
                                   "service_load_balancer": {"container": "app", "container_port": 8000, "path_patterns": ["/*"],
                                                             "healthcheck_path": "/up"}},
     "service_load_balancer.healthcheck_path. Supported parameters include"),
    ("autoscaling-target-not-a-number", {"service_autoscaling": {"max_tasks": 4, "cpu_target": "high"}},
     "argument 'cpu_target' is of type str found in 'service_autoscaling'"),
    ("memory-not-a-number", {"service_containers": _containers(memory="lots")}, "argument 'memory' is of type str found in 'service_containers'"),
    ("autoscaling-min-above-max", {"service_autoscaling": {"min_tasks": 5, "max_tasks": 2, "cpu_target": 50}},
     "min_tasks 5 > max_tasks 2"),
    ("lb-container-unknown", {"service_load_balancer": {"container": "nginx", "container_port": 80, "path_patterns": ["/*"]},
                              "service_containers": _containers()}, "service_load_balancer.container: 'nginx' is not one of"),
    ("duplicate-routes", {"service_containers": _containers(),
                          "service_load_balancer": {"container": "app", "container_port": 8000, "path_patterns": ["/*"], "priority": 10}},
     "priority 10 is also used by"),
    # The data roles' own checks (tasks/validate.yml) run once, in preflight, not again when the role runs.
    ("alarm-threshold-out-of-range", {"alarms_rds_cpu_percent": 500}, "alarms_rds_cpu_percent: 500 must be 1 to 100"),
    ("log-retention-not-allowed", {"log_groups_retention_days": 45}, "log_groups_retention_days"),
    ("migration-container-unknown", {"service_migration": {"container": "db", "command": ["migrate"]}},
     "service_migration.container: 'db' is not one of"),
]


@pytest.fixture(scope="module")
def empty_account(emulator: Emulator) -> Emulator:
    emulator.reset()
    return emulator


@pytest.mark.parametrize("extra, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_in_preflight_before_any_api_call(empty_account: Emulator, extra: dict[str, Any], expected: str) -> None:
    run = playbook(empty_account, "site.yml", "-e", json.dumps(extra))
    assert run.rc != 0, run.tail()
    assert expected in run.output, run.tail()
    assert "Traceback" not in run.output
    assert run.calls == [], f"API calls were made: {run.calls}"
    assert tagged_resources(empty_account) == []


def test_at_least_25_distinct_bad_inputs() -> None:
    assert len({c[0] for c in CASES}) >= 25
