"""Compatibility fixes for moto 5.2.5, applied by monkeypatching at server start.

Each :class:`Fix` documents one place where stock moto answers differently from AWS in a
way that a *correct* Ansible playbook hits (usually as a non-idempotent second run or a 500).
A fix is deliberately minimal: it wraps or replaces one moto function and nothing else.

Every fix carries a ``probe``: a function that talks to an endpoint through boto3 and returns
``True`` while the gap is present. ``tests/test_emulator.py`` runs each probe twice:

* against a stock ``moto_server`` (must return ``True``: when a future moto release fixes
  the gap, that test fails and tells us to delete the fix), and
* against the patched emulator (must return ``False``: the emulator behaves like AWS).

Probes create uniquely named resources, so they can share one server.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any, Callable

#: ``client(service_name)`` -> a boto3 client bound to the endpoint under test.
ClientFactory = Callable[[str], Any]

PINNED_MOTO_VERSION = "5.2.5"

#: Metric names that EnableMetricsCollection enables when called without ``Metrics``.
ASG_ALL_METRICS = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "GroupInServiceCapacity",
    "GroupPendingCapacity",
    "GroupStandbyCapacity",
    "GroupTerminatingCapacity",
    "GroupTotalCapacity",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity",
    "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity",
    "GroupAndWarmPoolTotalCapacity",
]

#: What ECS returns for deploymentConfiguration when CreateService did not set it.
ECS_DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


@dataclass(frozen=True)
class Fix:
    """One documented deviation of stock moto from AWS, and its patch."""

    id: str
    #: What an Ansible module shows when it hits the gap.
    symptom: str
    #: Where in moto the deviation comes from.
    cause: str
    #: What the monkeypatch changes.
    patch: str
    apply: Callable[[], None]
    #: ``probe(client_factory) -> True`` while the gap is present at that endpoint.
    probe: Callable[[ClientFactory], bool]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _subnet(client: ClientFactory) -> str:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    region = ec2.meta.region_name
    return ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.99.1.0/24", AvailabilityZone=f"{region}a"
    )["Subnet"]["SubnetId"]


def _ecs_cluster_and_family(client: ClientFactory) -> tuple[str, str]:
    ecs = client("ecs")
    cluster = _name("probe")
    ecs.create_cluster(clusterName=cluster)
    family = _name("probe")
    for tag in ("1", "2"):
        ecs.register_task_definition(
            family=family,
            containerDefinitions=[{"name": "app", "image": f"nginx:{tag}", "memory": 128}],
        )
    return cluster, family


# --------------------------------------------------------------------------- a
def _apply_asg_metrics_collection() -> None:
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    def group_enable(self: Any, metrics: list[str] | None) -> None:
        wanted = list(metrics) if metrics else list(ASG_ALL_METRICS)
        self.metrics = list(dict.fromkeys([*self.metrics, *wanted]))

    def group_disable(self: Any, metrics: list[str] | None) -> None:
        self.metrics = [m for m in self.metrics if metrics and m not in metrics]

    def backend_disable(self: Any, group_name: str, metrics: list[str] | None) -> None:
        group = self.describe_auto_scaling_groups([group_name])[0]
        group.disable_metrics_collection(metrics)

    def response_disable(self: Any) -> Any:
        group_name = self._get_param("AutoScalingGroupName")
        metrics = self._get_param("Metrics")
        self.autoscaling_backend.disable_metrics_collection(group_name, metrics)
        return EmptyResult()

    FakeAutoScalingGroup.enable_metrics_collection = group_enable
    FakeAutoScalingGroup.disable_metrics_collection = group_disable
    AutoScalingBackend.disable_metrics_collection = backend_disable
    AutoScalingResponse.disable_metrics_collection = response_disable


def _probe_asg_metrics_collection(client: ClientFactory) -> bool:
    ec2, asg = client("ec2"), client("autoscaling")
    subnet = _subnet(client)
    lt = ec2.create_launch_template(
        LaunchTemplateName=_name("probe"),
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )["LaunchTemplate"]["LaunchTemplateId"]
    group = _name("probe")
    asg.create_auto_scaling_group(
        AutoScalingGroupName=group,
        MinSize=0,
        MaxSize=1,
        DesiredCapacity=0,
        LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"},
        VPCZoneIdentifier=subnet,
    )
    try:
        asg.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute")
        asg.disable_metrics_collection(AutoScalingGroupName=group)
    except Exception:  # botocore ClientError: 500 NotImplementedError
        return True
    described = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
    return described["AutoScalingGroups"][0].get("EnabledMetrics", []) != []


# --------------------------------------------------------------------------- b
def _apply_ecs_cluster_capacity_fields() -> None:
    from moto.ecs.models import Cluster

    original = Cluster.__init__
    if getattr(original, "_emulator_fix", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.capacity_providers is None:
            self.capacity_providers = []
        if self.default_capacity_provider_strategy is None:
            self.default_capacity_provider_strategy = []

    __init__._emulator_fix = True  # type: ignore[attr-defined]
    Cluster.__init__ = __init__


def _probe_ecs_cluster_capacity_fields(client: ClientFactory) -> bool:
    ecs = client("ecs")
    name = _name("probe")
    ecs.create_cluster(clusterName=name)
    cluster = ecs.describe_clusters(clusters=[name])["clusters"][0]
    return "capacityProviders" not in cluster or "defaultCapacityProviderStrategy" not in cluster


# --------------------------------------------------------------------------- c
def _apply_launch_template_tags() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.ec2.utils import parse_user_data

    if getattr(LaunchTemplates.create_launch_template, "_emulator_fix", False):
        return

    def create_launch_template(self: Any) -> Any:
        # Copy of moto 5.2.5's method without the block that appended the request's
        # TagSpecifications (tags of the template itself) to the version's data.
        name = self._get_param("LaunchTemplateName")
        version_description = self._get_param("VersionDescription")
        tag_spec = self._parse_tag_specification()
        parsed_template_data = self._get_param("LaunchTemplateData", {})
        parsed_template_data["UserData"] = parse_user_data(
            self._get_param("LaunchTemplateData.UserData")
        )
        self.error_on_dryrun()
        template = self.ec2_backend.create_launch_template(
            name, version_description, parsed_template_data, tag_spec
        )
        version = template.default_version()
        return ActionResult(
            {
                "LaunchTemplate": {
                    "CreateTime": version.create_time,
                    "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                    "DefaultVersionNumber": template.default_version_number,
                    "LatestVersionNumber": version.number,
                    "LaunchTemplateId": template.id,
                    "LaunchTemplateName": template.name,
                    "Tags": template.tags,
                }
            }
        )

    create_launch_template._emulator_fix = True  # type: ignore[attr-defined]
    LaunchTemplates.create_launch_template = create_launch_template


# --------------------------------------------------------------------------- f
def _apply_launch_template_version_user_data() -> None:
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.ec2.utils import parse_user_data

    original_version = LaunchTemplates.create_launch_template_version
    if getattr(original_version, "_emulator_fix", False):
        return

    def create_launch_template_version(self: Any) -> Any:
        # moto decodes LaunchTemplateData.UserData into a Base64EncodedString in
        # CreateLaunchTemplate only; do the same here before the original runs.
        data = self._get_param("LaunchTemplateData", {})
        if isinstance(data, dict) and isinstance(data.get("UserData"), (str, bytes)):
            data["UserData"] = parse_user_data(data["UserData"])
        return original_version(self)

    create_launch_template_version._emulator_fix = True  # type: ignore[attr-defined]
    LaunchTemplates.create_launch_template_version = create_launch_template_version


def _probe_launch_template_tags(client: ClientFactory) -> bool:
    ec2 = client("ec2")
    lt = ec2.create_launch_template(
        LaunchTemplateName=_name("probe"),
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
        TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": [{"Key": "Project", "Value": "x"}]}
        ],
    )["LaunchTemplate"]["LaunchTemplateId"]
    version = ec2.describe_launch_template_versions(LaunchTemplateId=lt)[
        "LaunchTemplateVersions"
    ][0]
    return "TagSpecifications" in version["LaunchTemplateData"]


def _probe_launch_template_version_user_data(client: ClientFactory) -> bool:
    ec2, asg = client("ec2"), client("autoscaling")
    subnet = _subnet(client)
    user_data = base64.b64encode(b"#!/bin/bash\necho hello\n").decode()
    data = {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "UserData": user_data}
    lt = ec2.create_launch_template(LaunchTemplateName=_name("probe"), LaunchTemplateData=data)[
        "LaunchTemplate"
    ]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=lt, LaunchTemplateData=data)
    try:
        asg.create_auto_scaling_group(
            AutoScalingGroupName=_name("probe"),
            MinSize=1,
            MaxSize=1,
            DesiredCapacity=1,
            LaunchTemplate={"LaunchTemplateId": lt, "Version": "2"},
            VPCZoneIdentifier=subnet,
        )
    except Exception:  # 500 AssertionError inside moto
        return True
    return False


# --------------------------------------------------------------------------- d
def _apply_natgateway_resource_type() -> None:
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE

    # The dict is imported by name elsewhere (ec2/models/tags.py): mutate it in place.
    EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"


def _probe_natgateway_resource_type(client: ClientFactory) -> bool:
    ec2 = client("ec2")
    subnet = _subnet(client)
    nat = ec2.create_nat_gateway(
        SubnetId=subnet,
        ConnectivityType="private",
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "x"}]}],
    )["NatGateway"]["NatGatewayId"]
    tags = ec2.describe_tags(
        Filters=[
            {"Name": "resource-id", "Values": [nat]},
            {"Name": "resource-type", "Values": ["natgateway"]},
        ]
    )["Tags"]
    return not (len(tags) == 1 and tags[0]["ResourceType"] == "natgateway")


# --------------------------------------------------------------------------- e
def _apply_ecs_create_service_parameters() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service
    if getattr(original, "_emulator_fix", False):
        return

    def create_service(self: Any) -> Any:
        result = original(self)
        service = result.result["service"]
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is not None:
            service.health_check_grace_period_seconds = int(grace)
        config = dict(ECS_DEFAULT_DEPLOYMENT_CONFIGURATION)
        config.update(self._get_param("deploymentConfiguration") or {})
        service.deployment_configuration = config
        service.enable_execute_command = bool(self._get_param("enableExecuteCommand", False))
        service.enable_ecs_managed_tags = bool(self._get_param("enableECSManagedTags", False))
        service.placement_constraints = self._get_param("placementConstraints") or []
        service.placement_strategy = self._get_param("placementStrategy") or []
        strategy = self._get_param("capacityProviderStrategy")
        if not strategy and not self._get_param("launchType"):
            cluster = self.ecs_backend._get_cluster(service.cluster_name)
            strategy = cluster.default_capacity_provider_strategy or None
        if strategy:
            service.capacity_provider_strategy = strategy
            service.launch_type = None  # AWS reports one or the other, never both
            for deployment in service.deployments:
                deployment["capacityProviderStrategy"] = strategy
                deployment.pop("launchType", None)
        return result

    create_service._emulator_fix = True  # type: ignore[attr-defined]
    EC2ContainerServiceResponse.create_service = create_service


def _probe_ecs_create_service_parameters(client: ClientFactory) -> bool:
    ecs = client("ecs")
    cluster, family = _ecs_cluster_and_family(client)
    ecs.create_service(
        cluster=cluster,
        serviceName="svc",
        taskDefinition=family,
        desiredCount=0,
        healthCheckGracePeriodSeconds=30,
        deploymentConfiguration={
            "maximumPercent": 200,
            "minimumHealthyPercent": 50,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )
    service = ecs.describe_services(cluster=cluster, services=["svc"])["services"][0]
    return (
        service.get("healthCheckGracePeriodSeconds") != 30
        or service.get("deploymentConfiguration", {}).get("minimumHealthyPercent") != 50
        or service.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker")
        != {"enable": True, "rollback": True}
    )


# --------------------------------------------------------------------------- g
def _apply_ecs_update_service_task_definition_arn() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.update_service
    if getattr(original, "_emulator_fix", False):
        return

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        service = original(self, service_properties)
        if service.task_definition and not service.task_definition.startswith("arn:"):
            service.task_definition = self.describe_task_definition(service.task_definition).arn
        return service

    update_service._emulator_fix = True  # type: ignore[attr-defined]
    EC2ContainerServiceBackend.update_service = update_service


def _probe_ecs_update_service_task_definition_arn(client: ClientFactory) -> bool:
    ecs = client("ecs")
    cluster, family = _ecs_cluster_and_family(client)
    ecs.create_service(cluster=cluster, serviceName="svc", taskDefinition=f"{family}:1", desiredCount=0)
    ecs.update_service(cluster=cluster, service="svc", taskDefinition=f"{family}:2")
    service = ecs.describe_services(cluster=cluster, services=["svc"])["services"][0]
    return not service["taskDefinition"].startswith("arn:")


# --------------------------------------------------------------------------- h
def _apply_ecs_run_task_without_instances() -> None:
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.run_task
    if getattr(original, "_emulator_fix", False):
        return

    def run_task(self: Any, cluster_str: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, cluster_str, *args, **kwargs)
        except Exception as exc:
            if type(exc) is Exception and str(exc).startswith("No instances found in cluster"):
                raise InvalidParameterException(
                    "No Container Instances were found in your cluster."
                ) from None
            raise

    run_task._emulator_fix = True  # type: ignore[attr-defined]
    EC2ContainerServiceBackend.run_task = run_task


def _probe_ecs_run_task_without_instances(client: ClientFactory) -> bool:
    ecs = client("ecs")
    cluster, family = _ecs_cluster_and_family(client)
    try:
        ecs.run_task(cluster=cluster, taskDefinition=family, launchType="EC2")
    except Exception as exc:  # botocore.exceptions.ClientError
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return code != "InvalidParameterException"
    return True


# --------------------------------------------------------------------------- i
#: Attributes AWS returns for every new Application Load Balancer (DescribeLoadBalancerAttributes).
_ALB_DEFAULT_ATTRIBUTES = {
    "access_logs.s3.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
    "client_keep_alive.seconds": "3600",
}


def _apply_elbv2_default_attributes() -> None:
    from moto.elbv2.models import FakeLoadBalancer

    original = FakeLoadBalancer.__init__
    if getattr(original, "_emulator_fix", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.type == "application":
            for key, value in _ALB_DEFAULT_ATTRIBUTES.items():
                self.attrs.setdefault(key, value)

    __init__._emulator_fix = True  # type: ignore[attr-defined]
    FakeLoadBalancer.__init__ = __init__


def _probe_load_balancer(client: ClientFactory, octet: int) -> tuple[Any, str]:
    """An ALB in two subnets of a new VPC 10.<octet>.0.0/16: (elbv2 client, load balancer ARN)."""
    ec2 = client("ec2")
    elb = client("elbv2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"]
    region = ec2.meta.region_name
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{octet}.{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    return elb, elb.create_load_balancer(Name=_name("probe"), Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]


def _probe_elbv2_default_attributes(client: ClientFactory) -> bool:
    elb, arn = _probe_load_balancer(client, 98)
    attrs = {a["Key"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    return "idle_timeout.timeout_seconds" not in attrs


# --------------------------------------------------------------------------- j
def _apply_appautoscaling_policy_names() -> None:
    import json

    from moto.applicationautoscaling import responses

    cls = responses.ApplicationAutoScalingResponse
    original = cls.describe_scaling_policies
    if getattr(original, "_emulator_fix", False):
        return

    def describe_scaling_policies(self: Any) -> str:
        names = self._get_param("PolicyNames") or []
        _, policies = self.applicationautoscaling_backend.describe_scaling_policies(
            service_namespace=self._get_param("ServiceNamespace"),
            resource_id=self._get_param("ResourceId"),
            scalable_dimension=self._get_param("ScalableDimension"),
            max_results=10000,
            next_token=None,
        )
        if names:
            policies = [p for p in policies if p.policy_name in names]
        start = int(self._get_param("NextToken") or 0)
        size = self._get_int_param("MaxResults") or 100
        page = policies[start:start + size]
        token = str(start + size) if start + size < len(policies) else None
        return json.dumps({"ScalingPolicies": [responses._build_policy(p) for p in page], "NextToken": token})

    describe_scaling_policies._emulator_fix = True  # type: ignore[attr-defined]
    cls.describe_scaling_policies = describe_scaling_policies


def _probe_appautoscaling_policy_names(client: ClientFactory) -> bool:
    aas = client("application-autoscaling")
    cluster, family = _ecs_cluster_and_family(client)
    client("ecs").create_service(cluster=cluster, serviceName="svc", taskDefinition=family, desiredCount=0)
    resource = f"service/{cluster}/svc"
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2)
    for name, metric in (("a", "ECSServiceAverageCPUUtilization"), ("b", "ECSServiceAverageMemoryUtilization")):
        aas.put_scaling_policy(
            PolicyName=name, ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 50.0, "PredefinedMetricSpecification": {"PredefinedMetricType": metric}},
        )
    found = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource, PolicyNames=["b"],
                                          MaxResults=1)["ScalingPolicies"]
    return not (len(found) == 1 and found[0]["PolicyName"] == "b")


def _apply_appautoscaling_replaced_policy_alarms() -> None:
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend as Backend
    from moto.applicationautoscaling.models import FakeApplicationAutoscalingPolicy as Policy

    original = Backend.put_scaling_policy
    if getattr(original, "_emulator_fix", False):
        return

    def put_scaling_policy(self: Any, policy_name: str, service_namespace: str, resource_id: str,
                           scalable_dimension: str, *args: Any, **kwargs: Any) -> Any:
        key = Policy.formulate_key(service_namespace, resource_id, scalable_dimension, policy_name)
        replaced = self.policies.get(key)
        policy = original(self, policy_name, service_namespace, resource_id, scalable_dimension, *args, **kwargs)
        if replaced is not None and replaced is not policy:
            replaced.delete_alarms(self.account_id, self.region_name)
        return policy

    put_scaling_policy._emulator_fix = True  # type: ignore[attr-defined]
    Backend.put_scaling_policy = put_scaling_policy


def _probe_appautoscaling_replaced_policy_alarms(client: ClientFactory) -> bool:
    aas, cloudwatch = client("application-autoscaling"), client("cloudwatch")
    cluster, family = _ecs_cluster_and_family(client)
    client("ecs").create_service(cluster=cluster, serviceName="svc", taskDefinition=family, desiredCount=0)
    resource = f"service/{cluster}/svc"
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2)

    def alarms() -> list[str]:
        names = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
        return [n for n in names if n.startswith(f"TargetTracking-{resource}-")]

    for target in (50.0, 60.0):
        aas.put_scaling_policy(
            PolicyName="cpu", ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}},
        )
        if target == 50.0:
            first = len(alarms())
    return len(alarms()) > first


# --------------------------------------------------------------------------- k, l, m (RDS)
def _apply_rds_parameter_group_not_found() -> None:
    from moto.rds import models as m
    from moto.rds.exceptions import DBParameterGroupNotFoundError

    original = m.RDSBackend.describe_db_parameter_groups
    if getattr(original, "_emulator_fix", False):
        return

    def describe_db_parameter_groups(self: Any, kwargs: Any) -> Any:
        name = kwargs.get("db_parameter_group_name")
        if name and name not in self.db_parameter_groups:
            raise DBParameterGroupNotFoundError(name)
        return original(self, kwargs)

    describe_db_parameter_groups._emulator_fix = True  # type: ignore[attr-defined]
    m.RDSBackend.describe_db_parameter_groups = describe_db_parameter_groups


def _probe_rds_parameter_group_not_found(client: ClientFactory) -> bool:
    try:
        client("rds").describe_db_parameter_groups(DBParameterGroupName=_name("missing"))
    except Exception as exc:  # botocore.exceptions.ClientError
        return getattr(exc, "response", {}).get("Error", {}).get("Code") != "DBParameterGroupNotFound"
    return True


#: The PostgreSQL engine parameters the rds role sets (AWS lists the whole family catalogue).
def _pg_parameters(major: int) -> dict[str, dict[str, Any]]:
    base = {"Source": "engine-default", "IsModifiable": True, "ApplyType": "dynamic", "ApplyMethod": "pending-reboot"}
    return {
        "log_min_duration_statement": dict(base, ParameterName="log_min_duration_statement", DataType="integer"),
        "rds.force_ssl": dict(base, ParameterName="rds.force_ssl", DataType="boolean",
                              ParameterValue="1" if major >= 15 else "0"),
    }


def _apply_rds_parameter_group_catalogue() -> None:
    from moto.rds import models as m

    original = m.DBParameterGroup.__init__
    if getattr(original, "_emulator_fix", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        family = self.family or ""
        if family.startswith("postgres"):
            major = int(family[len("postgres"):].split(".")[0] or 0)
            for name, parameter in _pg_parameters(major).items():
                self.parameters.setdefault(name, parameter)

    __init__._emulator_fix = True  # type: ignore[attr-defined]
    m.DBParameterGroup.__init__ = __init__


def _probe_rds_parameter_group_catalogue(client: ClientFactory) -> bool:
    rds = client("rds")
    name = _name("probe")
    rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily="postgres16", Description="probe")
    names = {p["ParameterName"] for p in rds.describe_db_parameters(DBParameterGroupName=name)["Parameters"]}
    return "rds.force_ssl" not in names


def _apply_rds_gp3_defaults() -> None:
    from moto.rds import models as m

    original = m.DBInstance.__init__
    if getattr(original, "_emulator_fix", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.storage_type == "gp3" and self.iops is None:
            self.iops = 3000 if int(self.allocated_storage or 0) < 400 else 12000

    __init__._emulator_fix = True  # type: ignore[attr-defined]
    m.DBInstance.__init__ = __init__
    throughput = m.DBInstance.storage_throughput

    def get_throughput(self: Any) -> Any:
        value = throughput.fget(self)
        if value is None and self.storage_type == "gp3":
            return 125 if int(self.allocated_storage or 0) < 400 else 500
        return value

    m.DBInstance.storage_throughput = property(get_throughput, throughput.fset)


def _probe_rds_gp3_defaults(client: ClientFactory) -> bool:
    rds = client("rds")
    name = _name("probe")
    db = rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
                                AllocatedStorage=20, StorageType="gp3", MasterUsername="probe",
                                MasterUserPassword="probe-password-1")["DBInstance"]
    rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    return "StorageThroughput" not in db or "Iops" not in db


# --------------------------------------------------------------------------- n
def _apply_autoscaling_force_delete() -> None:
    from moto.autoscaling import responses
    from moto.autoscaling.exceptions import AutoscalingClientError

    class ResourceInUseError(AutoscalingClientError):
        code = "ResourceInUse"

    cls = responses.AutoScalingResponse
    original = cls.delete_auto_scaling_group
    if getattr(original, "_emulator_fix", False):
        return

    def delete_auto_scaling_group(self: Any) -> Any:
        name = self._get_param("AutoScalingGroupName")
        force = str(self._get_param("ForceDelete", "false")).lower() == "true"
        group = self.autoscaling_backend.autoscaling_groups.get(name)
        if group is not None and group.instance_states:
            ids = [state.instance.id for state in group.instance_states]
            if not force:
                raise ResourceInUseError(
                    "You cannot delete an AutoScalingGroup while there are instances or pending Spot "
                    "instance request(s) still in the group."
                )
            self.autoscaling_backend.ec2_backend.terminate_instances(ids)
            group.instance_states = []
        return original(self)

    delete_auto_scaling_group._emulator_fix = True  # type: ignore[attr-defined]
    cls.delete_auto_scaling_group = delete_auto_scaling_group


def _probe_autoscaling_force_delete(client: ClientFactory) -> bool:
    ec2 = client("ec2")
    asg = client("autoscaling")
    subnet = _subnet(client)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    name = _name("probe")
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": name},
                                  MinSize=1, MaxSize=1, DesiredCapacity=1, VPCZoneIdentifier=subnet,
                                  NewInstancesProtectedFromScaleIn=True)
    ids = [i["InstanceId"] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]]
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    states = [i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]]
    return any(state not in ("shutting-down", "terminated") for state in states)


# --------------------------------------------------------------------------- k
def _apply_elbv2_deletion_protection() -> None:
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    class OperationNotPermittedError(ELBClientError):
        code = "OperationNotPermitted"

    original = ELBv2Backend.delete_load_balancer
    if getattr(original, "_emulator_fix", False):
        return

    def delete_load_balancer(self: Any, arn: str) -> None:
        balancer = self.load_balancers.get(arn)
        if balancer is not None and str(balancer.attrs.get("deletion_protection.enabled", "false")).lower() == "true":
            raise OperationNotPermittedError(
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled"
            )
        return original(self, arn)

    delete_load_balancer._emulator_fix = True  # type: ignore[attr-defined]
    ELBv2Backend.delete_load_balancer = delete_load_balancer


def _probe_elbv2_deletion_protection(client: ClientFactory) -> bool:
    elb, arn = _probe_load_balancer(client, 97)
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn,
                                        Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
    try:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    except Exception as error:  # noqa: BLE001  botocore's ClientError of the emulated refusal
        return "OperationNotPermitted" not in str(error)
    return True


FIXES: list[Fix] = [
    Fix(
        id="autoscaling-metrics-collection",
        symptom="amazon.aws.autoscaling_group fails on its second run: 500 "
        "'NotImplementedError: The disable_metrics_collection action has not been implemented'.",
        cause="moto.autoscaling has no DisableMetricsCollection; EnableMetricsCollection "
        "without Metrics enables nothing (AWS enables all metrics).",
        patch="Adds disable_metrics_collection to FakeAutoScalingGroup, AutoScalingBackend "
        "and AutoScalingResponse; EnableMetricsCollection without Metrics enables all.",
        apply=_apply_asg_metrics_collection,
        probe=_probe_asg_metrics_collection,
    ),
    Fix(
        id="ecs-cluster-capacity-provider-fields",
        symptom="community.aws.ecs_cluster fails on its second run: "
        "\"Module failed: 'capacityProviders'\" (KeyError).",
        cause="moto.ecs.models.Cluster keeps capacity_providers / "
        "default_capacity_provider_strategy as None, so DescribeClusters omits them; "
        "AWS always returns both lists, empty if unset.",
        patch="Wraps Cluster.__init__ to default both to [].",
        apply=_apply_ecs_cluster_capacity_fields,
        probe=_probe_ecs_cluster_capacity_fields,
    ),
    Fix(
        id="ec2-launch-template-tags-in-version-data",
        symptom="amazon.aws.ec2_launch_template with `tags` adds version 2 on its second run "
        "(the version's data differs from what the module sends).",
        cause="moto.ec2.responses.launch_templates.LaunchTemplates.create_launch_template "
        "appends the request's TagSpecifications (the template's own tags) to "
        "LaunchTemplateData.TagSpecifications of version 1.",
        patch="Replaces create_launch_template with a copy that leaves the version data alone.",
        apply=_apply_launch_template_tags,
        probe=_probe_launch_template_tags,
    ),
    Fix(
        id="ec2-natgateway-resource-type",
        symptom="amazon.aws.ec2_vpc_nat_gateway with `tags` reports changed on every run.",
        cause="moto.ec2.utils.EC2_PREFIX_TO_RESOURCE maps 'nat' to 'nat-gateway'; AWS's "
        "resource type is 'natgateway', so DescribeTags filtered by resource-type=natgateway "
        "(what the module asks) returns nothing.",
        patch="Sets EC2_PREFIX_TO_RESOURCE['nat'] = 'natgateway' (in place).",
        apply=_apply_natgateway_resource_type,
        probe=_probe_natgateway_resource_type,
    ),
    Fix(
        id="ecs-create-service-parameters",
        symptom="community.aws.ecs_service with health_check_grace_period_seconds or "
        "deployment_configuration reports changed on its second run; DescribeServices lacks "
        "deploymentConfiguration (circuit breaker), enableExecuteCommand, placement*, "
        "capacityProviderStrategy.",
        cause="moto.ecs.responses.EC2ContainerServiceResponse.create_service does not pass "
        "healthCheckGracePeriodSeconds, deploymentConfiguration, enableExecuteCommand, "
        "placementConstraints/Strategy, capacityProviderStrategy to the backend (UpdateService "
        "stores them), and ignores the cluster's default capacity provider strategy.",
        patch="Wraps create_service to store them on the Service (deploymentConfiguration "
        "merged over AWS's defaults 200/100/circuit breaker off; enableExecuteCommand false); "
        "with a capacity provider strategy (given or the cluster default) launchType is "
        "omitted, as on AWS.",
        apply=_apply_ecs_create_service_parameters,
        probe=_probe_ecs_create_service_parameters,
    ),
    Fix(
        id="ec2-launch-template-version-user-data",
        symptom="amazon.aws.autoscaling_group (or RunInstances) fails with a 500 "
        "AssertionError after ec2_launch_template added a version with user_data.",
        cause="LaunchTemplates.create_launch_template_version stores UserData as a plain "
        "str; LaunchTemplateVersion.user_data asserts a Base64EncodedString.",
        patch="Wraps create_launch_template_version to parse UserData like "
        "CreateLaunchTemplate does.",
        apply=_apply_launch_template_version_user_data,
        probe=_probe_launch_template_version_user_data,
    ),
    Fix(
        id="ecs-update-service-task-definition-arn",
        symptom="After UpdateService(taskDefinition='family:2'), DescribeServices returns "
        "'family:2' (or just 'family') instead of the task definition ARN; rollout checks "
        "that compare ARNs never match.",
        cause="EC2ContainerServiceBackend.update_service assigns the request string to "
        "service.task_definition.",
        patch="Wraps update_service to resolve it to the task definition's ARN.",
        apply=_apply_ecs_update_service_task_definition_arn,
        probe=_probe_ecs_update_service_task_definition_arn,
    ),
    Fix(
        id="ecs-run-task-without-instances",
        symptom="community.aws.ecs_task (run) on an EC2 cluster without container instances "
        "gets a 500 instead of AWS's InvalidParameterException.",
        cause="EC2ContainerServiceBackend.run_task raises a bare Exception('No instances "
        "found in cluster ...').",
        patch="Wraps run_task to raise InvalidParameterException('No Container Instances "
        "were found in your cluster.').",
        apply=_apply_ecs_run_task_without_instances,
        probe=_probe_ecs_run_task_without_instances,
    ),
    Fix(
        id="elbv2-default-attributes",
        symptom="amazon.aws.elb_application_lb with idle_timeout (or http_* options) fails: "
        "\"Module failed: 'idle_timeout_timeout_seconds'\" (KeyError).",
        cause="moto.elbv2.models.FakeLoadBalancer starts with only four attributes (idle timeout and "
        "access_logs.s3.enabled are commented out 'for TF compatibility'); AWS returns every "
        "attribute of an ALB with its default value.",
        patch="Wraps FakeLoadBalancer.__init__ to add AWS's default attributes of an "
        "application load balancer (idle timeout 60, access logs off, HTTP routing defaults).",
        apply=_apply_elbv2_default_attributes,
        probe=_probe_elbv2_default_attributes,
    ),
    Fix(
        id="appautoscaling-policy-names-filter",
        symptom="community.aws.application_autoscaling_policy reports changed on every run for the "
        "second and later policies of a service (it compares with another policy).",
        cause="moto.applicationautoscaling DescribeScalingPolicies ignores PolicyNames, so "
        "MaxResults=1 returns the service's first policy whatever name was asked.",
        patch="Replaces the response handler with one that filters by PolicyNames before paging.",
        apply=_apply_appautoscaling_policy_names,
        probe=_probe_appautoscaling_policy_names,
    ),
    Fix(
        id="appautoscaling-replaced-policy-alarms",
        symptom="After a scaling policy was updated (PutScalingPolicy on an existing name), teardown leaves "
        "CloudWatch alarms TargetTracking-service/<cluster>/<service>-AlarmHigh/Low-* behind.",
        cause="moto.applicationautoscaling put_scaling_policy replaces an existing policy with a new object that "
        "creates its own alarms and never deletes the replaced policy's; AWS keeps one set per policy.",
        patch="Wraps put_scaling_policy to delete the replaced policy's alarms.",
        apply=_apply_appautoscaling_replaced_policy_alarms,
        probe=_probe_appautoscaling_replaced_policy_alarms,
    ),
    Fix(
        id="rds-parameter-group-not-found",
        symptom="amazon.aws.rds_instance_param_group fails creating a group: 'list index out of range'.",
        cause="RDSBackend.describe_db_parameter_groups returns [] for an unknown DBParameterGroupName; "
        "AWS raises DBParameterGroupNotFound (which the module expects).",
        patch="Wraps describe_db_parameter_groups to raise DBParameterGroupNotFoundError.",
        apply=_apply_rds_parameter_group_not_found,
        probe=_probe_rds_parameter_group_not_found,
    ),
    Fix(
        id="rds-parameter-group-catalogue",
        symptom="amazon.aws.rds_instance_param_group silently sets nothing and lists every parameter "
        "under `errors` (the role then fails).",
        cause="A new moto DBParameterGroup lists no engine parameters; AWS's DescribeDBParameters "
        "returns the family's whole catalogue, which the module looks values up in.",
        patch="Seeds postgres families with the parameters the rds role sets (rds.force_ssl, "
        "log_min_duration_statement) with AWS's engine defaults.",
        apply=_apply_rds_parameter_group_catalogue,
        probe=_probe_rds_parameter_group_catalogue,
    ),
    Fix(
        id="rds-gp3-storage-defaults",
        symptom="amazon.aws.rds_instance with storage_type gp3 fails on its second run: KeyError 'StorageThroughput'.",
        cause="moto describes gp3 instances without StorageThroughput and Iops; AWS returns the gp3 "
        "baseline (125 MiB/s and 3000 IOPS below 400 GiB, 500 and 12000 from 400 GiB).",
        patch="Gives gp3 DBInstances those defaults.",
        apply=_apply_rds_gp3_defaults,
        probe=_probe_rds_gp3_defaults,
    ),
    Fix(
        id="autoscaling-force-delete",
        symptom="A teardown leaves the instances of a deleted Auto Scaling group running (scale-in "
        "protected instances survive DeleteAutoScalingGroup with ForceDelete).",
        cause="moto's DeleteAutoScalingGroup ignores ForceDelete: it sets the desired capacity to 0, "
        "which only removes unprotected instances, and then drops the group. AWS terminates every "
        "instance with ForceDelete, and refuses (ResourceInUse) without it while instances remain.",
        patch="Wraps the response handler: with ForceDelete it terminates all the group's instances "
        "first; without it, a group that still has instances raises ResourceInUse.",
        apply=_apply_autoscaling_force_delete,
        probe=_probe_autoscaling_force_delete,
    ),
    Fix(
        id="elbv2-deletion-protection",
        symptom="A teardown that never lifts the ALB's deletion protection passes on the emulator and fails on AWS.",
        cause="moto's DeleteLoadBalancer ignores the deletion_protection.enabled attribute; AWS refuses with "
        "OperationNotPermitted while it is true.",
        patch="Wraps ELBv2Backend.delete_load_balancer to raise OperationNotPermitted for a protected load balancer.",
        apply=_apply_elbv2_deletion_protection,
        probe=_probe_elbv2_deletion_protection,
    ),
]

_applied = False


def apply_all() -> list[str]:
    """Apply every fix once (idempotent); return the ids of the fixes."""
    global _applied
    import moto

    if moto.__version__ != PINNED_MOTO_VERSION:
        # The fixes were written against this version; the tests say which still apply.
        print(  # noqa: T201
            f"emulator: warning: fixes written for moto {PINNED_MOTO_VERSION}, "
            f"running {moto.__version__}",
            flush=True,
        )
    if not _applied:
        for fix in FIXES:
            fix.apply()
        _applied = True
    return [fix.id for fix in FIXES]


def fix_by_id(fix_id: str) -> Fix:
    """Return the :class:`Fix` named ``fix_id``."""
    for fix in FIXES:
        if fix.id == fix_id:
            return fix
    raise KeyError(fix_id)
