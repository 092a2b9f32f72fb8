"""Two emulators agree: the layers LocalStack's free open core serves (EC2/VPC, IAM, CloudWatch Logs,
SSM, S3) converged by the project's own plays and roles (molecule/localstack/core.yml) against LocalStack
4.9.2 in host mode and against the embedded emulator (moto 5.2.5 + the project's fixes), then compared
resource by resource through boto3, and checked against the inventory. (LocalStack's S3 is its own
implementation; its EC2, IAM, SSM and Logs build on moto-ext, its fork of moto 5.1.) The LocalStack
converge must also be idempotent: a second run reports changed=0 and makes no mutating call (read from
LocalStack's request log).

Needs .venv-localstack (scripts/localstack_venv.sh, `make localstack-venv`); skipped with the reason
when it is absent. Each emulator here is this module's own, on a free port, stopped at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from support import LOCAL_NAMES, READ_PREFIXES, ROOT, Emulator, Run, base_env, free_port, playbook

pytestmark = pytest.mark.slow

LS_VENV = Path(os.environ.get("LOCALSTACK_VENV") or ROOT / ".venv-localstack").resolve()
LS_PYTHON = LS_VENV / "bin" / "python"
LAUNCHER = ROOT / "scripts" / "localstack_host.py"
CORE = "molecule/localstack/core.yml"
PREFIX = LOCAL_NAMES["prefix"]
MOTO_ACCOUNT = "123456789012"
LOCALSTACK_ACCOUNT = "000000000000"

if not LS_PYTHON.exists():
    pytest.skip(f"LocalStack host mode: {LS_VENV} is absent; build it with scripts/localstack_venv.sh "
                "(make localstack-venv)", allow_module_level=True)


def _calls(log: str) -> list[str]:
    """The AWS operations in a slice of LocalStack's request log (`AWS ec2.CreateVpc => 200`)."""
    return [f"{svc}.{op}" for svc, op in re.findall(r"\bAWS ([a-z0-9-]+)\.([A-Za-z0-9]+) =>", log)]


def _mutating(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.split(".", 1)[1].startswith(READ_PREFIXES)]


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """LocalStack and moto, each converged once (concurrently); LocalStack converged a second time."""
    ls_port, moto_port = free_port(), free_port()
    ls_state = tmp_path_factory.mktemp("localstack")
    ls_env = base_env(ls_port, ls_state)
    ls_env["LOCALSTACK_ENDPOINT"] = f"http://127.0.0.1:{ls_port}"
    localstack = Emulator(ls_port, ls_env)
    moto = Emulator(moto_port, base_env(moto_port, tmp_path_factory.mktemp("emulator")))

    def launcher(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(LAUNCHER), *args, "--state-dir", str(ls_state)],
                              capture_output=True, text=True, timeout=120)

    try:
        with ThreadPoolExecutor(2) as pool:  # both start (and later stop) at once
            ls_started = pool.submit(launcher, "start", "--port", str(ls_port), "--venv", str(LS_VENV))
            moto_started = pool.submit(moto.cli, "start")
            for done in (ls_started.result(), moto_started.result()):
                assert done.returncode == 0, done.stdout + done.stderr
            ls_first = pool.submit(playbook, localstack, CORE, inventory="inventories/localstack", record=False)
            moto_first = pool.submit(playbook, moto, CORE, record=False)
            runs = {"localstack_first": ls_first.result(), "moto_first": moto_first.result()}
        log = ls_state / "localstack.log"
        offset = len(log.read_text())
        runs["localstack_second"] = playbook(localstack, CORE, inventory="inventories/localstack", record=False)
        runs["localstack_second_calls"] = _calls(log.read_text()[offset:])
        yield {"localstack": localstack, "moto": moto, **runs}
    finally:
        with ThreadPoolExecutor(2) as pool:  # LocalStack takes about 8 s to stop on SIGTERM
            pool.submit(launcher, "stop")
            pool.submit(moto.cli, "stop")


# --------------------------------------------------------------------------- state, normalised

def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def _ec2_state(emu: Emulator) -> dict[str, Any]:
    ec2 = emu.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": ["local"]}])["Vpcs"]
    assert len(vpcs) == 1, vpcs
    vpc_id = vpcs[0]["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = ec2.describe_subnets(Filters=in_vpc)["Subnets"]
    cidr = {s["SubnetId"]: s["CidrBlock"] for s in subnets}
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    nats = [n for n in ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"] if n["State"] != "deleted"]
    names = {g["InternetGatewayId"]: "igw " + _tags(g.get("Tags")).get("Name", "?") for g in igws}
    names.update({n["NatGatewayId"]: "nat " + _tags(n.get("Tags")).get("Name", "?") for n in nats})
    groups = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
    names.update({g["GroupId"]: g["GroupName"] for g in groups})

    def target(route: dict[str, Any]) -> str:
        ref = route.get("NatGatewayId") or route.get("GatewayId", "?")
        return names.get(ref, ref)

    def rules(perms: list[dict[str, Any]]) -> list[tuple]:
        out = []
        for p in perms:
            for r in p.get("IpRanges", []):
                out.append((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"], r.get("Description")))
            for r in p.get("UserIdGroupPairs", []):
                out.append((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), names.get(r["GroupId"], r["GroupId"]),
                            r.get("Description")))
        return sorted(out, key=repr)

    return {
        "vpc": {
            "cidr": vpcs[0]["CidrBlock"],
            "tags": _tags(vpcs[0].get("Tags")),
            "dns_support": ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")["EnableDnsSupport"]["Value"],
            "dns_hostnames": ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"],
        },
        "subnets": sorted(((s["CidrBlock"], s["AvailabilityZone"], s["MapPublicIpOnLaunch"], _tags(s.get("Tags")))
                           for s in subnets), key=repr),
        "internet_gateways": sorted(_tags(g.get("Tags"))["Name"] for g in igws),
        "nat_gateways": sorted((cidr.get(n["SubnetId"]), n["State"], n.get("ConnectivityType", "public"),
                                _tags(n.get("Tags"))) for n in nats),
        "route_tables": sorted(((
            _tags(rt.get("Tags")).get("Name", "(main)"),
            _tags(rt.get("Tags")),
            sorted((r.get("DestinationCidrBlock"), target(r), r.get("State")) for r in rt["Routes"]),
            sorted(cidr[a["SubnetId"]] for a in rt.get("Associations", []) if a.get("SubnetId")),
            any(a.get("Main") for a in rt.get("Associations", [])),
        ) for rt in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]), key=repr),
        "security_groups": {g["GroupName"]: {
            "description": g["Description"],
            "tags": _tags(g.get("Tags")),
            "ingress": rules(g["IpPermissions"]),
            "egress": rules(g["IpPermissionsEgress"]),
        } for g in groups},
    }


def _iam_state(emu: Emulator) -> dict[str, Any]:
    iam = emu.client("iam")
    roles = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        if not name.startswith(PREFIX):
            continue
        full = iam.get_role(RoleName=name)["Role"]
        roles[name] = {
            "trust": full["AssumeRolePolicyDocument"],
            "description": full.get("Description"),
            "tags": _tags(iam.list_role_tags(RoleName=name)["Tags"]),
            "managed": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
            "inline": {p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
                       for p in iam.list_role_policies(RoleName=name)["PolicyNames"]},
            "instance_profiles": sorted((p["InstanceProfileName"], tuple(r["RoleName"] for r in p["Roles"]))
                                        for p in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]),
        }
    return roles


def _data_state(emu: Emulator, account: str) -> dict[str, Any]:
    logs = emu.client("logs")
    ssm = emu.client("ssm")
    s3 = emu.client("s3")
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/ecs/{PREFIX}/")["logGroups"]
    params = ssm.describe_parameters(ParameterFilters=[
        {"Key": "Name", "Option": "BeginsWith", "Values": ["/ecsops/local/"]}])["Parameters"]
    values = {p["Name"]: p["Value"] for p in ssm.get_parameters(Names=[p["Name"] for p in params],
                                                                    WithDecryption=True)["Parameters"]}
    bucket = f"{PREFIX}-app-{account}"
    objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        "log_groups": {g["logGroupName"]: {
            "retention": g.get("retentionInDays"),
            "kms": g.get("kmsKeyId"),
            "tags": logs.list_tags_log_group(logGroupName=g["logGroupName"])["tags"],
        } for g in groups},
        "parameters": {p["Name"]: {
            "type": p["Type"],
            "tier": p.get("Tier", "Standard"),
            # SecureString values are compared by digest: equal, and not printed by a failing assert.
            "value": values[p["Name"]] if p["Type"] == "String" else hashlib.sha256(values[p["Name"]].encode()).hexdigest(),
            "tags": _tags(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=p["Name"])["TagList"]),
        } for p in params},
        "bucket": {
            "name": bucket,
            "public_access_block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
            "encryption": [r["ApplyServerSideEncryptionByDefault"]
                           for r in s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]],
            "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
            "ownership": [r["ObjectOwnership"] for r in s3.get_bucket_ownership_controls(Bucket=bucket)
                          ["OwnershipControls"]["Rules"]],
            "tags": _tags(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]),
            "objects": {o["Key"]: {
                "sha256": hashlib.sha256(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()).hexdigest(),
                "encryption": s3.head_object(Bucket=bucket, Key=o["Key"]).get("ServerSideEncryption"),
            } for o in objects},
        },
    }


def state(emu: Emulator, account: str) -> dict[str, Any]:
    """Everything the core layers converge, with ids replaced by names and the account id by <account>."""
    snapshot = {"ec2": _ec2_state(emu), "iam": _iam_state(emu), **_data_state(emu, account)}
    return json.loads(json.dumps(snapshot, default=str).replace(account, "<account>"))


@pytest.fixture(scope="module")
def states(emulators: dict[str, Any]) -> dict[str, dict[str, Any]]:
    for name in ("localstack_first", "moto_first"):
        run: Run = emulators[name]
        assert run.rc == 0, f"{name}:\n{run.tail()}"
    return {"localstack": state(emulators["localstack"], LOCALSTACK_ACCOUNT),
            "moto": state(emulators["moto"], MOTO_ACCOUNT)}


# --------------------------------------------------------------------------- tests

def test_localstack_converges_the_core_layers_as_the_inventory_says(states: dict[str, dict[str, Any]]) -> None:
    ls = states["localstack"]
    ec2 = ls["ec2"]
    assert ec2["vpc"]["cidr"] == "10.20.0.0/16" and ec2["vpc"]["dns_hostnames"] and ec2["vpc"]["dns_support"]
    assert [(cidr, az, tags["Tier"]) for cidr, az, _, tags in ec2["subnets"]] == [
        ("10.20.0.0/22", "eu-west-1a", "public"), ("10.20.32.0/20", "eu-west-1a", "private"),
        ("10.20.4.0/22", "eu-west-1b", "public"), ("10.20.48.0/20", "eu-west-1b", "private")]
    assert [(n[0], n[1]) for n in ec2["nat_gateways"]] == [("10.20.0.0/22", "available")]
    routes = {rt[0]: (rt[2], rt[3]) for rt in ec2["route_tables"]}
    assert routes[f"{PREFIX}-public"] == ([["0.0.0.0/0", f"igw {PREFIX}", "active"], ["10.20.0.0/16", "local", "active"]],
                                          ["10.20.0.0/22", "10.20.4.0/22"])
    for az, subnet in (("eu-west-1a", "10.20.32.0/20"), ("eu-west-1b", "10.20.48.0/20")):
        assert routes[f"{PREFIX}-private-{az}"] == (
            [["0.0.0.0/0", f"nat {PREFIX}-nat-eu-west-1a", "active"], ["10.20.0.0/16", "local", "active"]], [subnet])
    sgs = ec2["security_groups"]
    assert sgs[f"{PREFIX}-alb"]["ingress"] == [["tcp", port, port, "0.0.0.0/0", "HTTP(S) from allowed range"]
                                               for port in (443, 80)]
    assert sgs[f"{PREFIX}-instances"]["ingress"] == [
        ["tcp", 32768, 65535, f"{PREFIX}-alb", "dynamic host ports from the ALB"]]
    assert sgs[f"{PREFIX}-rds"]["ingress"] == [["tcp", 5432, 5432, f"{PREFIX}-instances", "database from container instances"]]
    iam = ls["iam"]
    assert sorted(iam) == [f"{PREFIX}-ecs-execution", f"{PREFIX}-ecs-instance", f"{PREFIX}-task-web", f"{PREFIX}-task-worker"]
    assert iam[f"{PREFIX}-ecs-instance"]["managed"] == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"]
    assert iam[f"{PREFIX}-ecs-instance"]["instance_profiles"] == [[f"{PREFIX}-ecs-instance", [f"{PREFIX}-ecs-instance"]]]
    assert list(iam[f"{PREFIX}-ecs-execution"]["inline"]) == ["read-environment-secrets"]
    assert list(iam[f"{PREFIX}-task-web"]["inline"]) == ["service"]
    assert {name: g["retention"] for name, g in ls["log_groups"].items()} == {
        f"/ecs/{PREFIX}/web": 7, f"/ecs/{PREFIX}/worker": 7}
    assert {name: p["type"] for name, p in ls["parameters"].items()} == {
        "/ecsops/local/app/log_level": "String", "/ecsops/local/app/workers": "String",
        "/ecsops/local/app/session_key": "SecureString"}
    bucket = ls["bucket"]
    assert all(bucket["public_access_block"].values()) and len(bucket["public_access_block"]) == 4
    assert bucket["encryption"] == [{"SSEAlgorithm": "AES256"}]
    assert bucket["versioning"] == "Enabled" and bucket["ownership"] == ["BucketOwnerEnforced"]
    assert sorted(bucket["objects"]) == ["README.txt", "config/features.json"]


@pytest.mark.parametrize("layer", ["ec2", "iam", "log_groups", "parameters", "bucket"])
def test_localstack_and_moto_agree(states: dict[str, dict[str, Any]], layer: str) -> None:
    assert states["localstack"][layer] == states["moto"][layer]


def test_second_localstack_run_changes_nothing(emulators: dict[str, Any]) -> None:
    second: Run = emulators["localstack_second"]
    assert second.rc == 0, second.tail()
    assert second.changed == 0, second.tail()
    calls = emulators["localstack_second_calls"]
    assert len(calls) > 50 and "ec2.DescribeRouteTables" in calls, calls  # the request log is read
    assert _mutating(calls) == []


def test_compat_hook_is_applied_in_the_running_localstack(emulators: dict[str, Any]) -> None:
    ec2 = emulators["localstack"].client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.250.0.0/24")["Vpc"]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]
    assert [r.get("Origin") for r in table["Routes"]] == ["CreateRouteTable"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.250.0.0/28")["Subnet"]["SubnetId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private", TagSpecifications=[
        {"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "probe"}]}])["NatGateway"]["NatGatewayId"]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [nat]}])["Tags"]
    assert [t["ResourceType"] for t in tags] == ["natgateway"]


def test_compat_hook_is_still_needed() -> None:
    """Each fix of molecule/localstack/init/ready.d/ecsops_compat.py against stock LocalStack: when this
    fails, LocalStack's moto-ext behaves like AWS there; drop that fix from the hook and the README."""
    probe = (
        "from moto.ec2.responses import route_tables; from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE; "
        "print('<origin>' in route_tables.CREATE_ROUTE_TABLE_RESPONSE, EC2_PREFIX_TO_RESOURCE['nat'])"
    )
    out = subprocess.run([str(LS_PYTHON), "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    origin_present, nat_type = out.stdout.split()
    assert origin_present == "False", "route-table-create-origin: CreateRouteTable now answers Origin"
    assert nat_type == "nat-gateway", "natgateway-resource-type: NAT gateway tags now carry 'natgateway'"

