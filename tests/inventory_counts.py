"""Every resource kind one environment owns, by stable name, so that two converges (on two emulators, or
before and after an interruption) can be compared, and duplicates show up.

``inventory(emulator)`` returns ``{kind: sorted list of names}``. Names are what a converge makes
deterministic (Name tags, CIDRs, resource names, task-definition family:revision); resources without one
(EIPs, instances) appear once per resource under a constant label, so a list's length is its count and a
name seen twice is a duplicate (``duplicates()``). AWS-made defaults (the default VPC, its subnets and
security groups, the main route tables) are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Kinds the interrupted/faulted converge tests must find exactly once per name.
UNIQUE_KINDS = ("vpcs", "subnets", "internet_gateways", "nat_gateways", "eips", "route_tables", "security_groups",
                "launch_templates", "auto_scaling_groups", "capacity_providers", "clusters", "services",
                "load_balancers", "target_groups", "listeners", "log_groups", "task_definitions", "iam_roles",
                "instance_profiles", "db_instances", "db_subnet_groups", "db_parameter_groups", "ssm_parameters",
                "ecr_repositories", "buckets", "alarms", "scalable_targets", "scaling_policies")


def _tag(resource: dict[str, Any], key: str = "Name") -> str:
    return next((t["Value"] for t in resource.get("Tags") or [] if t["Key"] == key), "")


def inventory(emulator: Any, environment: str = "local", project: str = "ecsops") -> dict[str, list[str]]:
    """Names of every resource of one environment, per kind (lists keep duplicates)."""
    prefix = f"{project}-{environment}"
    env_filter = [{"Name": "tag:Environment", "Values": [environment]}]
    ec2 = emulator.client("ec2")
    found: dict[str, list[str]] = {}
    vpcs = ec2.describe_vpcs(Filters=env_filter)["Vpcs"]
    vpc_ids = [v["VpcId"] for v in vpcs]
    found["vpcs"] = [f"{_tag(v)} {v['CidrBlock']}" for v in vpcs]
    in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}] if vpc_ids else None
    subnets = ec2.describe_subnets(Filters=in_vpcs)["Subnets"] if in_vpcs else []
    cidr_of = {s["SubnetId"]: s["CidrBlock"] for s in subnets}
    found["subnets"] = [f"{_tag(s)} {s['CidrBlock']}" for s in subnets]
    found["internet_gateways"] = [_tag(g) for g in ec2.describe_internet_gateways(Filters=env_filter)["InternetGateways"]]
    nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting", "failed")]
    found["nat_gateways"] = [f"nat in {cidr_of.get(n['SubnetId'], n['SubnetId'])}" for n in nats]
    found["eips"] = ["eip" for _ in ec2.describe_addresses()["Addresses"]]
    tables = ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"] if in_vpcs else []
    found["route_tables"] = [_tag(t) for t in tables if not any(a.get("Main") for a in t.get("Associations") or [])]
    groups = ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"] if in_vpcs else []
    found["security_groups"] = [g["GroupName"] for g in groups if g["GroupName"] != "default"]
    templates = [t for t in ec2.describe_launch_templates()["LaunchTemplates"] if t["LaunchTemplateName"].startswith(prefix)]
    found["launch_templates"] = [t["LaunchTemplateName"] for t in templates]
    found["launch_template_versions"] = [f"{t['LaunchTemplateName']}:{t['LatestVersionNumber']}" for t in templates]
    reservations = ec2.describe_instances(Filters=env_filter + [
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
    found["instances"] = ["instance" for r in reservations for _ in r["Instances"]]

    asgs = emulator.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    found["auto_scaling_groups"] = [g["AutoScalingGroupName"] for g in asgs if g["AutoScalingGroupName"].startswith(prefix)]

    ecs = emulator.client("ecs")
    cluster_arns = ecs.list_clusters()["clusterArns"]
    clusters = ecs.describe_clusters(clusters=cluster_arns)["clusters"] if cluster_arns else []
    found["clusters"] = [c["clusterName"] for c in clusters if c["status"] == "ACTIVE"]
    # moto cannot describe all capacity providers (no names): take those the clusters use.
    found["capacity_providers"] = [p for c in clusters if c["status"] == "ACTIVE" for p in c.get("capacityProviders") or []]
    services: list[str] = []
    for cluster in found["clusters"]:
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if arns:
            services += [s["serviceName"] for s in ecs.describe_services(cluster=cluster, services=arns)["services"]
                         if s["status"] == "ACTIVE"]
    found["services"] = services
    # familyPrefix is a full family name (AWS and moto alike): list all and filter.
    for kind, status in (("task_definitions", "ACTIVE"), ("task_definitions_inactive", "INACTIVE")):
        arns = [a for page in ecs.get_paginator("list_task_definitions").paginate(status=status) for a in page["taskDefinitionArns"]]
        found[kind] = [a.rsplit("/", 1)[-1] for a in arns if a.rsplit("/", 1)[-1].startswith(prefix)]

    elb = emulator.client("elbv2")
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    found["load_balancers"] = [lb["LoadBalancerName"] for lb in lbs]
    found["listeners"] = [f"{lb['LoadBalancerName']}:{ls['Port']}" for lb in lbs
                          for ls in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]]
    found["target_groups"] = [tg["TargetGroupName"] for tg in elb.describe_target_groups()["TargetGroups"]]

    scaling = emulator.client("application-autoscaling")
    found["scalable_targets"] = [t["ResourceId"] for t in scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]]
    found["scaling_policies"] = [p["PolicyName"] for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]]

    found["log_groups"] = [g["logGroupName"] for g in emulator.client("logs").describe_log_groups()["logGroups"]]
    iam = emulator.client("iam")
    found["iam_roles"] = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)]
    found["instance_profiles"] = [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
                                  if p["InstanceProfileName"].startswith(prefix)]
    rds = emulator.client("rds")
    found["db_instances"] = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    found["db_subnet_groups"] = [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]]
    found["db_parameter_groups"] = [g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
                                    if g["DBParameterGroupName"].startswith(prefix)]
    ssm = emulator.client("ssm")
    found["ssm_parameters"] = [p["Name"] for page in ssm.get_paginator("describe_parameters").paginate()
                               for p in page["Parameters"] if not p["Name"].startswith("/aws/")]
    found["ecr_repositories"] = [r["repositoryName"] for r in emulator.client("ecr").describe_repositories()["repositories"]]
    found["buckets"] = [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]]
    # target-tracking alarms end with a random UUID
    found["alarms"] = [_UUID.sub("<uuid>", a["AlarmName"]) for a in emulator.client("cloudwatch").describe_alarms()["MetricAlarms"]]
    return {kind: sorted(names) for kind, names in found.items()}


def counts(found: dict[str, list[str]]) -> dict[str, int]:
    return {kind: len(names) for kind, names in found.items()}


def duplicates(found: dict[str, list[str]], kinds: tuple[str, ...] = UNIQUE_KINDS) -> dict[str, list[str]]:
    """Names that appear more than once, per kind (EIP and instance labels and UUID-normalised alarm names excepted:
    callers compare their counts)."""
    dupes = {}
    for kind in kinds:
        repeated = [name for name, n in Counter(found.get(kind, [])).items() if n > 1 and name not in ("eip", "instance") and "<uuid>" not in name]
        if repeated:
            dupes[kind] = repeated
    return dupes


def difference(got: dict[str, list[str]], want: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Per kind, the names only in ``got`` (extra) and only in ``want`` (missing), multiplicity included."""
    diff = {}
    for kind in sorted(set(got) | set(want)):
        extra = list((Counter(got.get(kind, [])) - Counter(want.get(kind, []))).elements())
        missing = list((Counter(want.get(kind, [])) - Counter(got.get(kind, []))).elements())
        if extra or missing:
            diff[kind] = {"extra": extra, "missing": missing}
    return diff
