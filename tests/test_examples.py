"""The example inventories (inventories/examples/<name>): each reproduces one reference system of
/work/shared/seeds. Each converges against the emulator, a second converge changes nothing and makes no
mutating call, and the parts that make that system what it is are asserted through boto3.

Cost: the five examples have distinct project names (calibrate, teamtask, myorg, hello, jsonapi), so they
coexist in one account: the five first converges run concurrently against one emulator of this module, then
the five second converges, whose recording (all five together) must hold no mutating call.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from support import Call, Emulator, ROOT, Run, VENV_BIN, private_emulator

ACCOUNT = "123456789012"
# example -> (project_name, env_name, region)
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "django_nginx": ("calibrate", "dev", "eu-west-1"),
    "production_stack": ("teamtask", "prod", "eu-west-1"),
    "poc_private_dns": ("myorg", "dev", "eu-west-1"),
    "hello_world": ("hello", "dev", "eu-west-2"),
    "s3_json_api": ("jsonapi", "prod", "eu-west-1"),
}
CALIBRATE_NAME = "calibrate.example.org"
# The examples that name a DNS zone (public: django_nginx; private: poc_private_dns).
DNS_EXAMPLES = ("django_nginx", "poc_private_dns")


def _mutating(call: Call) -> bool:
    # Route 53 is a REST API like S3: GETs only read (support.Call only knows S3's shape).
    return call.mutating and not call.action.startswith(("GET ", "HEAD "))


def _run_all(emulator: Emulator, extra: dict[str, list[str]], playbook: str = "site.yml",
             names: tuple[str, ...] = tuple(EXAMPLES)) -> dict[str, Run]:
    """ansible-playbook <playbook> on every example (or `names`) at once; returns each run (calls are not split per
    run)."""
    procs = {}
    start = time.monotonic()
    for name in names:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", f"inventories/examples/{name}", playbook, *extra.get(name, [])]
        procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=emulator.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    runs = {}
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=1200)
        runs[name] = Run(proc.returncode, output, time.monotonic() - start)
    return runs


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with private_emulator(tmp_path_factory, "examples-emulator", reset=True) as emu:
        # A certificate the team owns for the Django app's name (the emulator's ACM issues it on request).
        arn = emu.client("acm").request_certificate(DomainName=CALIBRATE_NAME, ValidationMethod="DNS")["CertificateArn"]
        extra = {"django_nginx": ["-e", f"alb_certificate_arn={arn}"]}
        # A plan of the two examples with DNS zones on the empty account: the dns role looks the load balancer up
        # (the alb role publishes none in check mode) and must find none, without failing.
        emu.reset_recording()
        plan = _run_all(emu, {name: [*extra.get(name, []), "--check"] for name in DNS_EXAMPLES}, names=DNS_EXAMPLES)
        plan_calls = emu.recording()
        first = _run_all(emu, extra)
        for name, run in first.items():
            assert run.rc == 0, f"{name}: first converge failed\n{run.tail()}"
        emu.reset_recording()
        second = _run_all(emu, extra)
        calls = emu.recording()
        yield {"emulator": emu, "first": first, "second": second, "second_calls": calls, "certificate": arn,
               "plan": plan, "plan_calls": plan_calls}


def _client(examples: dict[str, Any], service: str, region: str = "eu-west-1") -> Any:
    return examples["emulator"].client(service, region)


def _tags(tag_list: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list}


# --------------------------------------------------------------------------- every example
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_converges_and_a_second_run_changes_nothing(examples: dict[str, Any], name: str) -> None:
    assert examples["first"][name].rc == 0
    second = examples["second"][name]
    assert second.rc == 0, second.tail()
    assert second.recap, second.tail()
    assert second.changed == 0, second.recap


def test_second_runs_make_no_mutating_call(examples: dict[str, Any]) -> None:
    calls = examples["second_calls"]
    assert calls, "the recorder saw no request at all"
    assert [f"{c.service}:{c.action}" for c in calls if _mutating(c)] == []


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_is_tagged_and_named_for_its_own_project(examples: dict[str, Any], name: str) -> None:
    project, env_name, region = EXAMPLES[name]
    vpcs = _client(examples, "ec2", region).describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [f"{project}-{env_name}"]}])["Vpcs"]
    assert len(vpcs) == 1
    assert _tags(vpcs[0]["Tags"]) == {"Name": f"{project}-{env_name}", "Project": project, "Environment": env_name,
                                      "ManagedBy": "ansible"}


# --------------------------------------------------------------------------- 000 Django + nginx
def test_django_two_container_task_with_nginx_as_the_alb_target(examples: dict[str, Any]) -> None:
    ecs = _client(examples, "ecs")
    service = ecs.describe_services(cluster="calibrate-dev", services=["web"])["services"][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    containers = {c["name"]: c for c in task["containerDefinitions"]}
    assert set(containers) == {"app", "nginx"}
    assert containers["app"]["image"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/calibrate/app:2021.01.3"
    assert containers["nginx"]["links"] == ["app"]
    assert [(lb["containerName"], lb["containerPort"]) for lb in service["loadBalancers"]] == [("nginx", 80)]
    # a log group per container, and each container logs into its own
    for name, container in containers.items():
        assert container["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/calibrate-dev/web/{name}"
    groups = {g["logGroupName"] for g in _client(examples, "logs").describe_log_groups(
        logGroupNamePrefix="/ecs/calibrate-dev/")["logGroups"]}
    assert groups == {"/ecs/calibrate-dev/web/app", "/ecs/calibrate-dev/web/nginx"}
    secrets = {s["name"]: s["valueFrom"] for s in containers["app"]["secrets"]}
    assert secrets["DJANGO_SECRET_KEY"].endswith(":parameter/calibrate/dev/app/django_secret_key")


def test_django_rds_two_repositories_and_a_migration_before_the_rollout(examples: dict[str, Any]) -> None:
    db = _client(examples, "rds").describe_db_instances(DBInstanceIdentifier="calibrate-dev")["DBInstances"][0]
    assert db["Engine"] == "postgres" and db["PubliclyAccessible"] is False and db["DBName"] == "calibrate"
    repos = {r["repositoryName"] for r in _client(examples, "ecr").describe_repositories()["repositories"]}
    assert {"calibrate/app", "calibrate/nginx"} <= repos
    ecs = _client(examples, "ecs")
    arns = ecs.list_tasks(cluster="calibrate-dev", desiredStatus="STOPPED")["taskArns"]
    arns += ecs.list_tasks(cluster="calibrate-dev", desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster="calibrate-dev", tasks=arns)["tasks"] if arns else []
    migrations = [t for t in tasks if t.get("startedBy") == "ecsops-run-before"]
    assert migrations, f"the migration ran as a one-off task; tasks: {[(t['taskArn'], t.get('startedBy')) for t in tasks]}"
    overrides = {o["name"]: o.get("command") for o in migrations[0]["overrides"]["containerOverrides"]}
    assert overrides.get("app") == ["python", "manage.py", "migrate", "--noinput"]


def test_django_alias_record_for_the_alb_and_https_on_that_name(examples: dict[str, Any]) -> None:
    r53 = _client(examples, "route53")
    zones = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == CALIBRATE_NAME + "."]
    assert len(zones) == 1 and zones[0]["Config"]["PrivateZone"] is False
    zone_id = zones[0]["Id"].split("/")[-1]
    tags = _tags(r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"]["Tags"])
    assert tags["Environment"] == "dev" and tags["Project"] == "calibrate", "created by the environment, so teardown removes it"
    records = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    alias = [r for r in records if r["Name"] == CALIBRATE_NAME + "." and r["Type"] == "A"]
    lb = _client(examples, "elbv2").describe_load_balancers(Names=["calibrate-dev"])["LoadBalancers"][0]
    assert len(alias) == 1
    assert alias[0]["AliasTarget"]["DNSName"].rstrip(".") == lb["DNSName"]
    assert alias[0]["AliasTarget"]["HostedZoneId"] == lb["CanonicalHostedZoneId"]
    listeners = _client(examples, "elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    https = [li for li in listeners if li["Port"] == 443]
    assert https and https[0]["Certificates"][0]["CertificateArn"] == examples["certificate"]
    http = [li for li in listeners if li["Port"] == 80][0]
    assert http["DefaultActions"][0]["Type"] == "redirect"


@pytest.mark.parametrize("name", DNS_EXAMPLES)
def test_plan_with_dns_zones_on_an_empty_account(examples: dict[str, Any], name: str) -> None:
    plan = examples["plan"][name]
    assert plan.rc == 0, plan.tail()
    assert plan.changed > 0, plan.recap
    assert [f"{c.service}:{c.action}" for c in examples["plan_calls"] if _mutating(c)] == []
    # The load balancer lookup ran (the alb role publishes nothing in check mode) and found none.
    assert "TASK [dns : Look up the load balancer (the alias target)]" in plan.output


def test_dns_alone_repairs_a_deleted_alias_among_other_load_balancers(examples: dict[str, Any]) -> None:
    """`--tags dns` runs without the alb role, so dns looks its load balancer up among the other examples' ones in
    the region, by name: the internal alias deleted by hand comes back pointing at myorg-dev. (A deleted apex alias
    is not used here: moto still answers "already exists" to its CREATE.)"""
    r53 = _client(examples, "route53")
    elbv2 = _client(examples, "elbv2")
    assert len(elbv2.describe_load_balancers()["LoadBalancers"]) > 1, "other load balancers in the region"
    zone_id = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == "myorg.local."][0]["Id"]

    def alias() -> list[dict[str, Any]]:
        records = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        return [r for r in records if r["Name"] == "web.myorg.local." and r["Type"] == "A"]

    [record] = alias()
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]})
    assert alias() == []
    run = _run_all(examples["emulator"], {"poc_private_dns": ["--tags", "dns"]},
                   names=("poc_private_dns",))["poc_private_dns"]
    assert run.rc == 0, run.tail()
    assert run.changed == 1, run.recap
    lb = elbv2.describe_load_balancers(Names=["myorg-dev"])["LoadBalancers"][0]
    [restored] = alias()
    assert restored["AliasTarget"]["DNSName"].rstrip(".") == lb["DNSName"]
    assert restored["AliasTarget"]["HostedZoneId"] == lb["CanonicalHostedZoneId"]


# --------------------------------------------------------------------------- 001 production stack
def test_production_stack_has_a_nat_gateway_in_every_az(examples: dict[str, Any]) -> None:
    ec2 = _client(examples, "ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["teamtask-prod"]}])["Vpcs"][0]["VpcId"]
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "state", "Values": ["available", "pending"]}])["NatGateways"]
    subnets = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    assert sorted(subnets[n["SubnetId"]] for n in nats) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "tag:Tier", "Values": ["private"]}])["Subnets"]:
        table = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])["RouteTables"][0]
        nat = [r["NatGatewayId"] for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"][0]
        assert subnets[[n for n in nats if n["NatGatewayId"] == nat][0]["SubnetId"]] == subnet["AvailabilityZone"]


def test_production_stack_security_group_chain_on_the_apps_port(examples: dict[str, Any]) -> None:
    ec2 = _client(examples, "ec2")
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "tag:Project", "Values": ["teamtask"]}])["SecurityGroups"]}
    alb, instances, rds = groups["teamtask-prod-alb"], groups["teamtask-prod-instances"], groups["teamtask-prod-rds"]
    assert sorted(p["FromPort"] for p in alb["IpPermissions"]) == [80, 443]
    [rule] = instances["IpPermissions"]
    assert (rule["FromPort"], rule["ToPort"]) == (8000, 8000)
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [alb["GroupId"]] and not rule["IpRanges"]
    [db_rule] = rds["IpPermissions"]
    assert (db_rule["FromPort"], db_rule["ToPort"]) == (5432, 5432)
    assert [p["GroupId"] for p in db_rule["UserIdGroupPairs"]] == [instances["GroupId"]] and not db_rule["IpRanges"]
    task = _client(examples, "ecs").describe_task_definition(taskDefinition="teamtask-prod-web")["taskDefinition"]
    assert task["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 8000


def test_production_stack_parameter_store_secrets_ecr_lifecycle_and_cpu_tracking(examples: dict[str, Any]) -> None:
    task = _client(examples, "ecs").describe_task_definition(taskDefinition="teamtask-prod-web")["taskDefinition"]
    container = task["containerDefinitions"][0]
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert set(secrets) >= {"DJANGO_SECRET_KEY", "DB_PASSWORD"}
    ssm = _client(examples, "ssm")
    for value_from in secrets.values():
        name = "/" + value_from.split(":parameter/", 1)[1]
        assert ssm.get_parameter(Name=name)["Parameter"]["Name"] == name
    assert ssm.get_parameter(Name="/teamtask/prod/app/django_secret_key")["Parameter"]["Type"] == "SecureString"
    assert not any("SECRET" in e["name"] or "PASSWORD" in e["name"] for e in container["environment"])
    ecr = _client(examples, "ecr")
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="teamtask/app")["lifecyclePolicyText"])
    assert policy["rules"][0]["selection"]["countNumber"] == 15
    assert ecr.describe_repositories(repositoryNames=["teamtask/app"])["repositories"][0]["imageTagMutability"] == "IMMUTABLE"
    aas = _client(examples, "application-autoscaling")
    [target] = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=["service/teamtask-prod/web"])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 3)
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/teamtask-prod/web")["ScalingPolicies"]
    metrics = {p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]:
               p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies}
    assert metrics == {"ECSServiceAverageCPUUtilization": 70.0}
    # ECS on EC2 (the original ran Fargate): the task is EC2-compatible, the cluster has container instances.
    assert task["requiresCompatibilities"] == ["EC2"]
    assert _client(examples, "ecs").list_container_instances(cluster="teamtask-prod")["containerInstanceArns"]


# --------------------------------------------------------------------------- 002 proof of concept
def test_poc_private_zone_with_internal_names(examples: dict[str, Any]) -> None:
    r53 = _client(examples, "route53")
    ec2 = _client(examples, "ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["myorg-dev"]}])["Vpcs"][0]["VpcId"]
    [summary] = r53.list_hosted_zones_by_vpc(VPCId=vpc, VPCRegion="eu-west-1")["HostedZoneSummaries"]
    assert summary["Name"] == "myorg.local."
    zone = r53.get_hosted_zone(Id=summary["HostedZoneId"])
    assert zone["HostedZone"]["Config"]["PrivateZone"] is True
    records = {(r["Name"], r["Type"]): r for r in r53.list_resource_record_sets(HostedZoneId=summary["HostedZoneId"])["ResourceRecordSets"]}
    db = _client(examples, "rds").describe_db_instances(DBInstanceIdentifier="myorg-dev")["DBInstances"][0]
    assert records[("db.myorg.local.", "CNAME")]["ResourceRecords"] == [{"Value": db["Endpoint"]["Address"]}]
    lb = _client(examples, "elbv2").describe_load_balancers(Names=["myorg-dev"])["LoadBalancers"][0]
    for service in ("web", "api"):
        assert records[(f"{service}.myorg.local.", "A")]["AliasTarget"]["DNSName"].rstrip(".") == lb["DNSName"]
    assert ("worker.myorg.local.", "A") not in records, "no name for a service without load balancer"
    assert records[("status.myorg.local.", "TXT")]["ResourceRecords"] == [{"Value": '"ecs proof of concept"'}]


def test_poc_several_services_packed_on_the_same_instances(examples: dict[str, Any]) -> None:
    ecs = _client(examples, "ecs")
    services = ecs.describe_services(cluster="myorg-dev", services=["web", "api", "worker"])["services"]
    assert sorted(s["serviceName"] for s in services) == ["api", "web", "worker"]
    for service in services:
        assert service["placementStrategy"] == [{"type": "binpack", "field": "memory"}]
    instances = ecs.list_container_instances(cluster="myorg-dev")["containerInstanceArns"]
    assert len(instances) == 2
    wanted = sum(s["desiredCount"] for s in services)
    assert wanted > len(instances), "more tasks than instances: several containers share an instance"
    task = ecs.describe_task_definition(taskDefinition="myorg-dev-web")["taskDefinition"]
    assert task["networkMode"] == "bridge" and task["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 0


# --------------------------------------------------------------------------- 003 hello world
def test_hello_world_is_the_smallest_stack(examples: dict[str, Any]) -> None:
    ec2 = _client(examples, "ec2", "eu-west-2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["hello-dev"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    assert sorted({s["AvailabilityZone"] for s in subnets}) == ["eu-west-2a", "eu-west-2b"]
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "state", "Values": ["available", "pending"]}])["NatGateways"]
    assert len(nats) == 1
    asg = _client(examples, "autoscaling", "eu-west-2").describe_auto_scaling_groups(
        AutoScalingGroupNames=["hello-dev-ecs"])["AutoScalingGroups"][0]
    assert (asg["MinSize"], asg["MaxSize"], asg["DesiredCapacity"]) == (1, 1, 1)
    ecs = _client(examples, "ecs", "eu-west-2")
    # the instance joined the cluster (through the NAT on real AWS)
    assert len(ecs.list_container_instances(cluster="hello-dev")["containerInstanceArns"]) == 1


def test_hello_world_log_group_is_in_the_task_definitions_region(examples: dict[str, Any]) -> None:
    task = _client(examples, "ecs", "eu-west-2").describe_task_definition(taskDefinition="hello-dev-hello")["taskDefinition"]
    options = task["containerDefinitions"][0]["logConfiguration"]["options"]
    assert options["awslogs-region"] == "eu-west-2"
    groups = _client(examples, "logs", options["awslogs-region"]).describe_log_groups(
        logGroupNamePrefix=options["awslogs-group"])["logGroups"]
    assert [g["logGroupName"] for g in groups] == [options["awslogs-group"]]
    assert task["containerDefinitions"][0]["image"].endswith("/hello/hello-world:dev-20210228-2123")


# --------------------------------------------------------------------------- 004 S3 JSON API
def test_s3_api_bucket_with_the_seeded_json_document(examples: dict[str, Any]) -> None:
    s3 = _client(examples, "s3")
    bucket = f"jsonapi-prod-app-{ACCOUNT}"
    body = s3.get_object(Bucket=bucket, Key="api/foo.json")["Body"].read()
    assert json.loads(body) == {"greeting": "I am the Foo"}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    task = _client(examples, "ecs").describe_task_definition(taskDefinition="jsonapi-prod-api")["taskDefinition"]
    env = {e["name"]: e["value"] for e in task["containerDefinitions"][0]["environment"]}
    assert (env["S3_BUCKET"], env["S3_PREFIX"]) == (bucket, "api/")
    role = task["taskRoleArn"].split("/")[-1]
    iam = _client(examples, "iam")
    statements = [s for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
                  for s in _as_doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])["Statement"]]
    assert any("s3:GetObject" in _as_list(s["Action"]) and f"arn:aws:s3:::{bucket}/api/*" in _as_list(s["Resource"])
               for s in statements)


def test_s3_api_autoscales_at_80_percent_cpu_or_memory_with_a_pinned_tag(examples: dict[str, Any]) -> None:
    aas = _client(examples, "application-autoscaling")
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/jsonapi-prod/api")["ScalingPolicies"]
    metrics = {p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]:
               p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies}
    assert metrics == {"ECSServiceAverageCPUUtilization": 80.0, "ECSServiceAverageMemoryUtilization": 80.0}
    task = _client(examples, "ecs").describe_task_definition(taskDefinition="jsonapi-prod-api")["taskDefinition"]
    image = task["containerDefinitions"][0]["image"]
    assert image.endswith(":1.0.0") and not image.endswith(":latest")
    # the backend is private: the instances run in private subnets, without public IPs
    ec2 = _client(examples, "ec2")
    asg = _client(examples, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["jsonapi-prod-ecs"])["AutoScalingGroups"][0]
    private = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "tag:Project", "Values": ["jsonapi"]},
                                                                    {"Name": "tag:Tier", "Values": ["private"]}])["Subnets"]}
    assert set(asg["VPCZoneIdentifier"].split(",")) == private


def _as_doc(document: Any) -> dict[str, Any]:
    return json.loads(document) if isinstance(document, str) else document


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_examples_have_a_header_naming_their_seed() -> None:
    for name in EXAMPLES:
        text = (Path(ROOT) / "inventories" / "examples" / name / "group_vars" / "all" / "env.yml").read_text()
        assert text.splitlines()[1].startswith("# Seed 00"), name


# --------------------------------------------------------------------------- teardown (last: it removes the examples)
def _teardown_all(emulator: Emulator) -> dict[str, Run]:
    confirm = {name: ["-e", f"confirm_teardown={env_name}"] for name, (_, env_name, _) in EXAMPLES.items()}
    return _run_all(emulator, confirm, "playbooks/teardown.yml")


@pytest.fixture(scope="module")
def examples_torn_down(examples: dict[str, Any]) -> dict[str, dict[str, Run]]:
    emu = examples["emulator"]
    first = _teardown_all(emu)
    for name, run in first.items():
        assert run.rc == 0, f"{name}: teardown failed\n{run.tail()}"
    emu.reset_recording()
    second = _teardown_all(emu)
    return {"first": first, "second": second, "second_calls": emu.recording()}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_teardown_leaves_nothing_including_its_dns(examples_torn_down: dict[str, Any], examples: dict[str, Any],
                                                           name: str) -> None:
    from support import tagged_resources

    project, env_name, region = EXAMPLES[name]
    assert tagged_resources(examples["emulator"], env_name, project, region) == []


def test_example_teardown_removed_the_zones_it_created(examples_torn_down: dict[str, Any], examples: dict[str, Any]) -> None:
    zones = _client(examples, "route53").list_hosted_zones()["HostedZones"]
    assert [z["Name"] for z in zones] == [], "calibrate.example.org (public, created) and myorg.local (private) are gone"


def test_second_teardown_of_the_examples_is_a_no_op(examples_torn_down: dict[str, Any]) -> None:
    for name, run in examples_torn_down["second"].items():
        assert run.rc == 0, f"{name}\n{run.tail()}"
        assert run.changed == 0, (name, run.recap)
    assert [f"{c.service}:{c.action}" for c in examples_torn_down["second_calls"] if _mutating(c)] == []
