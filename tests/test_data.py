"""Data layer (rds, app_config, s3, ecr, log_groups, alarms) against its own moto server on port 5072.

Self-contained: the module fixture starts ``moto_server`` with the three RDS compatibility fixes the data layer
needs (until they live in emulator/patches.py), converges preflight + network + data + data_ready at -vvv, runs
data + data_ready again, and the tests assert the emulated AWS state with boto3.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]
PORT = 5072
ENDPOINT = f"http://127.0.0.1:{PORT}"
PREFIX = "/ecsops/local"
NAME = "ecsops-local"

# Stock moto 5.2.5 + the RDS fixes the playbooks need (see the report / emulator/patches.py).
LAUNCHER = textwrap.dedent(
    '''
    import sys
    from moto.rds import models as m
    from moto.rds.exceptions import DBParameterGroupNotFoundError

    _describe = m.RDSBackend.describe_db_parameter_groups
    def describe_db_parameter_groups(self, kwargs):
        name = kwargs.get("db_parameter_group_name")
        if name and name not in self.db_parameter_groups:
            raise DBParameterGroupNotFoundError(name)
        return _describe(self, kwargs)
    m.RDSBackend.describe_db_parameter_groups = describe_db_parameter_groups

    _init = m.DBInstance.__init__
    def init(self, *a, **kw):
        _init(self, *a, **kw)
        if self.storage_type == "gp3" and self.iops is None:
            self.iops = 3000 if int(self.allocated_storage or 0) < 400 else 12000
    m.DBInstance.__init__ = init
    _st = m.DBInstance.storage_throughput
    def get_st(self):
        v = _st.fget(self)
        if v is None and self.storage_type == "gp3":
            return 125 if int(self.allocated_storage or 0) < 400 else 500
        return v
    m.DBInstance.storage_throughput = property(get_st, _st.fset)

    _pg = m.DBParameterGroup.__init__
    def pg_init(self, *a, **kw):
        _pg(self, *a, **kw)
        fam = self.family or ""
        if fam.startswith("postgres"):
            major = int(fam[len("postgres"):] or 0)
            base = {"Source": "engine-default", "IsModifiable": True, "ApplyType": "dynamic", "ApplyMethod": "pending-reboot"}
            self.parameters["log_min_duration_statement"] = dict(base, ParameterName="log_min_duration_statement", DataType="integer")
            self.parameters["rds.force_ssl"] = dict(base, ParameterName="rds.force_ssl", DataType="boolean",
                                                    ParameterValue="1" if major >= 15 else "0")
    m.DBParameterGroup.__init__ = pg_init

    from moto.server import main
    sys.exit(main(sys.argv[1:]))
    '''
)


def _client(service: str):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="eu-west-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106


def _play(*playbooks: str, extra: list[str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = [str(ROOT / ".venv/bin/ansible-playbook"), *playbooks, "-i", "inventories/local", *(extra or [])]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _recap_changed(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"^account\s+:.*changed=(\d+)", out, re.M)]


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    launcher = tmp_path_factory.mktemp("moto") / "moto_data.py"
    launcher.write_text(LAUNCHER)
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    server = subprocess.Popen([sys.executable, str(launcher), "-H", "127.0.0.1", "-p", str(PORT)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        first = _play("playbooks/preflight.yml", "playbooks/network.yml", "playbooks/data.yml",
                      "playbooks/data_ready.yml", extra=["-vvv"])
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
        second = _play("playbooks/data.yml", "playbooks/data_ready.yml")
        assert second.returncode == 0, second.stdout[-4000:]
        yield {"first": first, "second": second}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_second_run_changes_nothing(converged):
    assert _recap_changed(converged["second"].stdout)[-1] == 0, converged["second"].stdout[-3000:]


def test_rds_private_encrypted_in_private_subnets(converged):
    db = _client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"][0]
    assert db["PubliclyAccessible"] is False
    assert db["StorageEncrypted"] is True
    assert db["StorageType"] == "gp3"
    assert db["DeletionProtection"] is False  # local inventory
    assert db["BackupRetentionPeriod"] == 7
    subnet_ids = [s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]]
    subnets = _client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert subnets and all({"Key": "Tier", "Value": "private"} in s["Tags"] for s in subnets)
    groups = _client("ec2").describe_security_groups(
        GroupIds=[g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]])["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == [f"{NAME}-rds"]
    params = {p["ParameterName"]: p.get("ParameterValue") for p in _client("rds").describe_db_parameters(
        DBParameterGroupName=f"{NAME}-postgres16")["Parameters"]}
    assert params["rds.force_ssl"] == "1"


def test_password_secure_and_never_printed(converged):
    ssm = _client("ssm")
    password = ssm.get_parameter(Name=f"{PREFIX}/db/password", WithDecryption=True)["Parameter"]
    assert password["Type"] == "SecureString"
    value = password["Value"]
    assert len(value) == 32
    plain = [p for p in ssm.get_parameters_by_path(Path="/", Recursive=True, WithDecryption=True)["Parameters"]
             if p["Type"] != "SecureString"]
    assert not any(value in p["Value"] for p in plain)
    assert value not in converged["first"].stdout + converged["first"].stderr
    assert "local-only-session-key" not in converged["first"].stdout  # app_config SecureString
    # the second run kept the password (generated once)
    assert ssm.get_parameter(Name=f"{PREFIX}/db/password")["Parameter"]["Version"] == 1
    conn = {k: ssm.get_parameter(Name=f"{PREFIX}/db/{k}")["Parameter"] for k in ("host", "port", "name", "user")}
    assert all(p["Type"] == "String" for p in conn.values())
    assert conn["port"]["Value"] == "5432" and conn["user"]["Value"] == "app_admin"


def test_log_groups_retention(converged):
    groups = _client("logs").describe_log_groups(logGroupNamePrefix=f"/ecs/{NAME}/")["logGroups"]
    assert {g["logGroupName"]: g.get("retentionInDays") for g in groups} == {
        f"/ecs/{NAME}/web": 7, f"/ecs/{NAME}/worker": 7}


def test_ecr_scan_and_lifecycle(converged):
    ecr = _client("ecr")
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert set(repos) >= {"ecsops/app", "ecsops/nginx"}
    for name in ("ecsops/app", "ecsops/nginx"):
        assert repos[name]["imageScanningConfiguration"]["scanOnPush"] is True
        policy = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        assert '"countNumber": 15' in policy or '"countNumber":15' in policy


def test_s3_private_encrypted_versioned(converged):
    s3 = _client("s3")
    bucket = f"{NAME}-app-123456789012"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # seed objects put once: one version each after two runs
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["Key"] for v in versions) == ["README.txt", "config/features.json"]


def test_alarms(converged):
    alarms = {a["AlarmName"]: a for a in _client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert {f"{NAME}-rds-cpu", f"{NAME}-rds-free-storage", f"{NAME}-web-cpu", f"{NAME}-worker-memory"} <= set(alarms)
    assert alarms[f"{NAME}-rds-cpu"]["Threshold"] == 80
    assert alarms[f"{NAME}-rds-cpu"]["AlarmActions"] == []  # no topic in the local inventory
