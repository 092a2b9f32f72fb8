"""The full converge of inventories/local: network and platform state, idempotency."""

from __future__ import annotations

import base64
import ipaddress
import json
from typing import Any

from support import LOCAL_NAMES, Emulator

PREFIX = LOCAL_NAMES["prefix"]


def _vpc(ec2: Any) -> dict[str, Any]:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [PREFIX]}])["Vpcs"]
    assert len(vpcs) == 1, vpcs
    return vpcs[0]


def _subnets(ec2: Any, vpc_id: str, tier: str) -> list[dict[str, Any]]:
    return ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                         {"Name": "tag:Tier", "Values": [tier]}])["Subnets"]


def test_vpc_has_dns_and_the_common_tags(converged: dict[str, Any], ec2: Any) -> None:
    vpc = _vpc(ec2)
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags == {"Name": PREFIX, "Project": "ecsops", "Environment": "local", "ManagedBy": "ansible"}
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        key = attribute[0].upper() + attribute[1:]
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True


def test_one_public_and_one_private_subnet_per_az_inside_the_vpc(converged: dict[str, Any], ec2: Any) -> None:
    vpc = _vpc(ec2)
    network = ipaddress.ip_network(vpc["CidrBlock"])
    for tier in ("public", "private"):
        subnets = _subnets(ec2, vpc["VpcId"], tier)
        assert sorted(s["AvailabilityZone"] for s in subnets) == ["eu-west-1a", "eu-west-1b"]
        for s in subnets:
            assert ipaddress.ip_network(s["CidrBlock"]).subnet_of(network)
            assert s["MapPublicIpOnLaunch"] is False
            tags = {t["Key"]: t["Value"] for t in s["Tags"]}
            assert tags["Environment"] == "local" and tags["Tier"] == tier


def _default_route(ec2: Any, subnet_id: str) -> dict[str, Any]:
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["RouteTables"]
    assert len(tables) == 1, f"{subnet_id} is associated with {len(tables)} route tables"
    routes = [r for r in tables[0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert len(routes) == 1
    return routes[0]


def test_public_subnets_route_to_the_igw_private_ones_to_a_nat(converged: dict[str, Any], ec2: Any) -> None:
    vpc = _vpc(ec2)
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    assert len(igws) == 1
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                              {"Name": "state", "Values": ["available", "pending"]}])["NatGateways"]
    assert len(nats) == 1, "vpc_nat_mode single: one NAT gateway"
    public_ids = {s["SubnetId"] for s in _subnets(ec2, vpc["VpcId"], "public")}
    assert nats[0]["SubnetId"] in public_ids, "the NAT gateway lives in a public subnet"
    for subnet_id in public_ids:
        assert _default_route(ec2, subnet_id).get("GatewayId") == igws[0]["InternetGatewayId"]
    for subnet in _subnets(ec2, vpc["VpcId"], "private"):
        assert _default_route(ec2, subnet["SubnetId"]).get("NatGatewayId") == nats[0]["NatGatewayId"]


def test_second_run_changes_nothing_and_makes_no_mutating_call(converged: dict[str, Any]) -> None:
    second = converged["second"]
    assert second.changed == 0, second.recap
    assert second.calls, "the recorder saw no request at all"
    assert [f"{c.service}:{c.action}" for c in second.mutating] == []


# --------------------------------------------------------------------------- platform
def test_launch_template_is_hardened_and_joins_the_cluster(converged: dict[str, Any], ec2: Any) -> None:
    data = ec2.describe_launch_template_versions(LaunchTemplateName=f"{PREFIX}-ecs", Versions=["$Latest"])[
        "LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["Encrypted"] is True and ebs["VolumeType"] == "gp3"
    assert data["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is False
    assert data["IamInstanceProfile"]["Arn"] == f"arn:aws:iam::123456789012:instance-profile/{PREFIX}-ecs-instance"
    user_data = base64.b64decode(data["UserData"]).decode()
    assert f"ECS_CLUSTER={PREFIX}\n" in user_data
    for setting in ("ECS_ENABLE_TASK_IAM_ROLE=true", "ECS_AWSVPC_BLOCK_IMDS=true", "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
                    "ECS_CONTAINER_STOP_TIMEOUT=30s", "ECS_IMAGE_PULL_BEHAVIOR=once"):
        assert setting in user_data
    image = ec2.describe_images(ImageIds=[data["ImageId"]])["Images"]
    assert image, "the AMI from the ECS-optimized SSM parameter exists"


def test_asg_spans_only_private_subnets_and_is_ecs_managed(converged: dict[str, Any], emulator: Emulator, ec2: Any) -> None:
    asg = emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"{PREFIX}-ecs"])[
        "AutoScalingGroups"][0]
    vpc = _vpc(ec2)
    private = {s["SubnetId"] for s in _subnets(ec2, vpc["VpcId"], "private")}
    assert set(asg["VPCZoneIdentifier"].split(",")) == private
    assert (asg["MinSize"], asg["MaxSize"], asg["DesiredCapacity"]) == (1, 3, 2)
    assert asg["NewInstancesProtectedFromScaleIn"] is True
    assert asg["HealthCheckGracePeriod"] == 120
    tags = {t["Key"]: t for t in asg["Tags"]}
    assert "AmazonECSManaged" in tags and all(t["PropagateAtLaunch"] for t in tags.values())
    for instance in asg["Instances"]:
        described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
        assert described["SubnetId"] in private
        assert not described.get("PublicIpAddress")


def test_capacity_provider_is_the_clusters_default_strategy(converged: dict[str, Any], emulator: Emulator) -> None:
    ecs = emulator.client("ecs")
    cluster = ecs.describe_clusters(clusters=[PREFIX], include=["SETTINGS"])["clusters"][0]
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]
    assert cluster["capacityProviders"] == [f"{PREFIX}-ecs"]
    assert cluster["defaultCapacityProviderStrategy"][0]["capacityProvider"] == f"{PREFIX}-ecs"
    provider = ecs.describe_capacity_providers(capacityProviders=[f"{PREFIX}-ecs"])["capacityProviders"][0]
    asg = provider["autoScalingGroupProvider"]
    assert asg["managedScaling"]["status"] == "ENABLED" and asg["managedScaling"]["targetCapacity"] == 100
    assert asg["managedTerminationProtection"] == "ENABLED"


def test_instances_joined_the_cluster_named_in_their_user_data(converged: dict[str, Any], emulator: Emulator) -> None:
    ecs = emulator.client("ecs")
    arns = ecs.list_container_instances(cluster=PREFIX)["containerInstanceArns"]
    asg = emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"{PREFIX}-ecs"])[
        "AutoScalingGroups"][0]
    described = ecs.describe_container_instances(cluster=PREFIX, containerInstances=arns)["containerInstances"]
    assert sorted(c["ec2InstanceId"] for c in described) == sorted(i["InstanceId"] for i in asg["Instances"])


def test_iam_roles_trust_policies_and_no_wildcards(converged: dict[str, Any], emulator: Emulator) -> None:
    iam = emulator.client("iam")
    instance = iam.get_role(RoleName=f"{PREFIX}-ecs-instance")["Role"]
    assert instance["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=f"{PREFIX}-ecs-instance")["AttachedPolicies"]}
    assert attached == {"AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"}
    assert iam.list_instance_profiles_for_role(RoleName=f"{PREFIX}-ecs-instance")["InstanceProfiles"]
    execution = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=f"{PREFIX}-ecs-execution")["AttachedPolicies"]}
    assert execution == {"AmazonECSTaskExecutionRolePolicy"}
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(PREFIX)]
    assert f"{PREFIX}-task-web" in roles and f"{PREFIX}-task-worker" in roles
    for role in roles:
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            document = json.loads(document) if isinstance(document, str) else document
            for statement in document["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                assert "*" not in actions, (role, name, statement)
                assert "*" not in resources, (role, name, statement)
    secrets = iam.get_role_policy(RoleName=f"{PREFIX}-ecs-execution", PolicyName="read-environment-secrets")["PolicyDocument"]
    ssm = next(s for s in secrets["Statement"] if s["Sid"] == "ReadThisEnvironmentsParameters")
    assert ssm["Resource"].endswith(":parameter/ecsops/local/*")
