"""Data layer (rds, app_config, s3, ecr, log_groups, alarms) on the shared converge of inventories/local."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import LOCAL_NAMES, ROOT, playbook

PREFIX = LOCAL_NAMES["ssm_prefix"]
NAME = LOCAL_NAMES["prefix"]


@pytest.fixture(scope="module")
def verbose_rerun(converged, emulator):
    """The data layer again at -vvv: the password is read and passed around, and must never show."""
    run = playbook(emulator, "playbooks/preflight.yml", "playbooks/data.yml", "playbooks/data_ready.yml", "-vvv")
    assert run.rc == 0, run.tail()
    return run


def test_rds_private_encrypted_in_private_subnets(converged, emulator):
    db = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"][0]
    assert db["PubliclyAccessible"] is False
    assert db["StorageEncrypted"] is True
    assert db["StorageType"] == "gp3"
    assert db["DeletionProtection"] is False  # local inventory
    assert db["BackupRetentionPeriod"] == 7
    subnet_ids = [s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]]
    subnets = emulator.client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert subnets and all({"Key": "Tier", "Value": "private"} in s["Tags"] for s in subnets)
    groups = emulator.client("ec2").describe_security_groups(
        GroupIds=[g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]])["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == [f"{NAME}-rds"]
    params = {p["ParameterName"]: p.get("ParameterValue") for p in emulator.client("rds").describe_db_parameters(
        DBParameterGroupName=f"{NAME}-postgres16")["Parameters"]}
    assert params["rds.force_ssl"] == "1"


def test_password_secure_and_never_printed(converged, emulator, verbose_rerun):
    ssm = emulator.client("ssm")
    password = ssm.get_parameter(Name=f"{PREFIX}/db/password", WithDecryption=True)["Parameter"]
    assert password["Type"] == "SecureString"
    value = password["Value"]
    assert len(value) == 32
    plain = [p for p in ssm.get_parameters_by_path(Path="/", Recursive=True, WithDecryption=True)["Parameters"]
             if p["Type"] != "SecureString"]
    assert not any(value in p["Value"] for p in plain)
    assert value not in converged["first"].output
    assert value not in verbose_rerun.output
    assert "<<" not in value
    for secure in ssm.get_parameters_by_path(Path=PREFIX, Recursive=True, WithDecryption=True)["Parameters"]:
        if secure["Type"] == "SecureString":
            assert secure["Value"] not in verbose_rerun.output, secure["Name"]
    ecs = emulator.client("ecs")
    for arn in ecs.list_task_definitions()["taskDefinitionArns"]:
        td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        for container in td["containerDefinitions"]:
            assert all(value not in e["value"] for e in container.get("environment", []))
    # Files the runs write: the project tree (retry files, reports), the lock directory, Ansible's local
    # temp and fact caches under ~/.ansible.
    written = [p for p in ROOT.rglob("*") if not {".venv", ".venv-bench", ".venv-localstack", ".git", ".emulator"} & set(p.parts)]
    written += [p for base in (Path.home() / ".cache" / "ecsops", Path.home() / ".ansible") for p in base.rglob("*")
                if "collections" not in p.parts]
    for path in written:
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert value not in path.read_text(errors="ignore"), path
    # the second run kept the password (generated once)
    assert ssm.get_parameter(Name=f"{PREFIX}/db/password")["Parameter"]["Version"] == 1
    conn = {k: ssm.get_parameter(Name=f"{PREFIX}/db/{k}")["Parameter"] for k in ("host", "port", "name", "user")}
    assert all(p["Type"] == "String" for p in conn.values())
    assert conn["port"]["Value"] == "5432" and conn["user"]["Value"] == "app_admin"


def test_log_groups_retention(converged, emulator):
    groups = emulator.client("logs").describe_log_groups(logGroupNamePrefix=f"/ecs/{NAME}/")["logGroups"]
    assert {g["logGroupName"]: g.get("retentionInDays") for g in groups} == {
        f"/ecs/{NAME}/web": 7, f"/ecs/{NAME}/worker": 7}


def test_ecr_scan_and_lifecycle(converged, emulator):
    ecr = emulator.client("ecr")
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert set(repos) >= {"ecsops/app", "ecsops/nginx"}
    for name in ("ecsops/app", "ecsops/nginx"):
        assert repos[name]["imageScanningConfiguration"]["scanOnPush"] is True
        policy = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        assert '"countNumber": 15' in policy or '"countNumber":15' in policy


def test_s3_private_encrypted_versioned(converged, emulator):
    s3 = emulator.client("s3")
    bucket = f"{NAME}-app-123456789012"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # seed objects put once: one version each after two runs
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["Key"] for v in versions) == ["README.txt", "config/features.json"]


def test_alarms(converged, emulator):
    alarms = {a["AlarmName"]: a for a in emulator.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert {f"{NAME}-rds-cpu", f"{NAME}-rds-free-storage", f"{NAME}-web-cpu", f"{NAME}-worker-memory"} <= set(alarms)
    assert alarms[f"{NAME}-rds-cpu"]["Threshold"] == 80
    assert alarms[f"{NAME}-rds-cpu"]["AlarmActions"] == []  # no topic in the local inventory
