"""The mapping from recorded requests to IAM actions, and the shape of the deployer policy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import deployer_policy as dp  # noqa: E402


def entry(method: str, url: str, service: str, target: str | None = None, body: str = "") -> dict:
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261123/eu-west-1/{service}/aws4_request"}
    if target:
        headers["X-Amz-Target"] = target
    return {"method": method, "url": url, "headers": headers, "body": body}


@pytest.mark.parametrize(("method", "url", "action"), [
    ("PUT", "http://h/ecsops-local-app", "s3:CreateBucket"),
    ("HEAD", "http://h/ecsops-local-app", "s3:ListBucket"),
    ("GET", "http://h/ecsops-local-app?versioning", "s3:GetBucketVersioning"),
    ("PUT", "http://h/ecsops-local-app?publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    ("GET", "http://h/ecsops-local-app?encryption", "s3:GetEncryptionConfiguration"),
    ("POST", "http://h/ecsops-local-app?delete", "s3:DeleteObject"),
    ("PUT", "http://h/ecsops-local-app/config/features.json", "s3:PutObject"),
    ("GET", "http://h/ecsops-local-app/config/features.json?tagging", "s3:GetObjectTagging"),
    ("DELETE", "http://h/ecsops-local-app/a.json?versionId=3", "s3:DeleteObjectVersion"),
    ("GET", "http://h/", "s3:ListAllMyBuckets"),
])
def test_s3_rest_requests_map_to_iam_actions(method: str, url: str, action: str) -> None:
    assert dp.iam_action(entry(method, url, "s3")) == action


@pytest.mark.parametrize(("method", "path", "action"), [
    ("POST", "/2013-04-01/hostedzone", "route53:CreateHostedZone"),
    ("GET", "/2013-04-01/hostedzone/Z1", "route53:GetHostedZone"),
    ("POST", "/2013-04-01/hostedzone/Z1/rrset/", "route53:ChangeResourceRecordSets"),
    ("GET", "/2013-04-01/hostedzone/Z1/rrset", "route53:ListResourceRecordSets"),
    ("GET", "/2013-04-01/tags/hostedzone/Z1", "route53:ListTagsForResource"),
])
def test_route53_requests_map_to_iam_actions(method: str, path: str, action: str) -> None:
    assert dp.iam_action(entry(method, "http://h" + path, "route53")) == action


def test_query_json_and_credential_scope() -> None:
    assert dp.iam_action(entry("POST", "http://h/", "ec2", body="Action=CreateVpc&Version=2016-11-15")) == "ec2:CreateVpc"
    assert dp.iam_action(entry("POST", "http://h/", "ecs", target="AmazonEC2ContainerServiceV20141113.UpdateService")) == "ecs:UpdateService"
    assert dp.iam_action(entry("POST", "http://h/", "monitoring", body="Action=PutMetricAlarm")) == "cloudwatch:PutMetricAlarm"


def test_unknown_requests_are_an_error_not_a_silent_gap() -> None:
    with pytest.raises(ValueError, match="unmapped"):
        dp.iam_action(entry("GET", "http://h/bucket?someNewThing", "s3"))
    with pytest.raises(ValueError, match="unmapped"):
        dp.iam_action(entry("POST", "http://h/", "ec2", body="Version=1"))


def test_policy_scopes_iam_and_data_to_the_project() -> None:
    document = dp.policy("shop", "111122223333")
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["IamProject"]["Resource"] == ["arn:aws:iam::111122223333:role/shop-*",
                                                "arn:aws:iam::111122223333:instance-profile/shop-*"]
    passing = by_sid["IamPassProjectRolesToEcsAndEc2"]
    assert passing["Action"] == ["iam:PassRole"] and passing["Resource"] == ["arn:aws:iam::111122223333:role/shop-*"]
    assert passing["Condition"]["StringEquals"]["iam:PassedToService"] == ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]
    assert "iam:AttachRolePolicy" not in by_sid["IamProject"]["Action"], "attaching is limited to named policies"
    assert all(r.startswith("arn:aws:s3:::shop-") for r in by_sid["S3Project"]["Resource"])
    assert all(not a.startswith("iam:") for s in document["Statement"] if s["Resource"] == "*"
               for a in s["Action"] if not a.startswith("iam:List") and not a.startswith("iam:Get"))


def test_checked_in_policy_is_current() -> None:
    result = subprocess.run([sys.executable, "scripts/deployer_policy.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert json.loads((ROOT / "docs" / "deployer-policy.json").read_text())["Version"] == "2012-10-17"
