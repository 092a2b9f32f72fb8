#!/usr/bin/env python3
"""The deployer policy: the IAM permissions the principal that runs these playbooks needs, and no more.

docs/deployer-policy.json is written from DEPLOYER_ACTIONS below for the default project name;
`--project NAME` prints it for another one. The tests check it against what the emulator recorded
in a converge, a no-change re-run, a plan, a redeploy, a rollback and a teardown: every recorded
call must be allowed, and every allowed action must be one the runs make (or one of EXTRA_ACTIONS,
which AWS authorises without an API call of its own, such as iam:PassRole).

    .venv/bin/python scripts/deployer_policy.py                 # rewrite docs/deployer-policy.json
    .venv/bin/python scripts/deployer_policy.py --check         # exit 1 if it is out of date
    .venv/bin/python scripts/deployer_policy.py --project shop --account 111122223333
    .venv/bin/python scripts/deployer_policy.py --actions rec.jsonl   # IAM actions of a moto recording
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.ecsops.platform.plugins.module_utils.names import project_patterns  # noqa: E402  the naming contract

OUT = ROOT / "docs" / "deployer-policy.json"
DEFAULT_PROJECT = "ecsops"

# SigV4 credential scope -> IAM action prefix, where they differ.
_PREFIX = {"monitoring": "cloudwatch"}

# Actions AWS authorises without a call of their own name, so no recording can show them.
EXTRA_ACTIONS = {
    "iam:PassRole": "ecs:RegisterTaskDefinition (task and execution roles) and the launch template's instance "
                    "profile pass roles to AWS services",
    "iam:CreateServiceLinkedRole": "the first ECS cluster, ALB, ASG and RDS instance of an account create "
                                   "their service-linked roles (AWSServiceRoleForECS, ...)",
    "ec2:RunInstances": "creating an Auto Scaling group from a launch template is authorised as RunInstances",
    "ec2:CreateTags": "tags on create (TagSpecifications) of VPC resources and the launch template",
    "elasticloadbalancing:AddTags": "tags on create of load balancers and target groups",
    "rds:AddTagsToResource": "tags on create of the instance and its groups",
    "logs:TagResource": "tags on create of log groups",
    "ssm:AddTagsToResource": "tags on create of parameters",
    "autoscaling:CreateOrUpdateTags": "tags on create of the Auto Scaling group",
}

# Actions of paths the recorded runs (a first converge, a no-change re-run, plans, a redeploy, a
# rollback and a teardown of inventories/local) do not take: changing a setting of an existing
# resource, prod-only features, optional roles. Each is used by the module named.
CONDITIONAL_ACTIONS = {
    "ec2:CreateLaunchTemplateVersion": "ec2_launch_template, when the instance type, AMI or user data change",
    "ec2:ModifyLaunchTemplate": "ec2_launch_template, to make the new version the default",
    "ec2:RevokeSecurityGroupIngress": "ec2_security_group, when a rule is removed from the inventory",
    "ec2:AuthorizeSecurityGroupEgress": "ec2_security_group, egress rules of a changed group",
    "ec2:RevokeSecurityGroupEgress": "ec2_security_group, egress rules of a changed group",
    "ec2:ReplaceRoute": "ec2_vpc_route_table, when a NAT gateway is replaced",
    "ec2:DeleteRoute": "ec2_vpc_route_table, when a route is purged",
    "ec2:DeleteTags": "tag purges on VPC resources",
    "autoscaling:UpdateAutoScalingGroup": "autoscaling_group, when sizes, subnets or the launch template drift",
    "autoscaling:DisableMetricsCollection": "autoscaling_group, on every call after the creation (a drift repair)",
    "autoscaling:StartInstanceRefresh": "ecs_capacity, instance refresh after a launch template change (staging, prod)",
    "autoscaling:DescribeInstanceRefreshes": "ecs_capacity, instance refresh after a launch template change",
    "autoscaling:DeleteTags": "autoscaling_group, tag purges",
    "elasticloadbalancing:ModifyListener": "elb_application_lb, when the certificate or default action changes",
    "elasticloadbalancing:ModifyRule": "elb_application_lb, when a service's routing changes",
    "elasticloadbalancing:DeleteRule": "elb_application_lb, when a service is removed",
    "elasticloadbalancing:SetSecurityGroups": "elb_application_lb, security group changes",
    "elasticloadbalancing:SetSubnets": "elb_application_lb, subnet changes",
    "elasticloadbalancing:ModifyTargetGroup": "elb_target_group, health check changes",
    "elasticloadbalancing:RemoveTags": "tag purges on the ALB and target groups",
    "ecs:UpdateCapacityProvider": "ecs_capacity_provider, when managed scaling settings change",
    "ecs:UntagResource": "ecs_deploy, tag changes on services",
    "rds:ModifyDBInstance": "rds_instance, class, storage or parameter group changes",
    "rds:CreateDBSnapshot": "teardown in staging and prod: the final snapshot before the instance is deleted",
    "rds:RemoveTagsFromResource": "rds_instance, tag purges",
    "rds:ModifyDBSubnetGroup": "rds_subnet_group, when subnets change",
    "iam:UpdateAssumeRolePolicy": "iam_role, when a trust policy changes",
    "iam:UpdateRole": "iam_role, when a description changes",
    "iam:TagRole": "iam_role, tags of existing roles",
    "iam:UntagRole": "iam_role, tag purges",
    "ssm:RemoveTagsFromResource": "ssm_parameter, tag purges",
    "logs:UntagResource": "cloudwatchlogs_log_group, tag purges",
    "route53:CreateHostedZone": "dns role, a private zone (dns_private_zone)",
    "route53:DeleteHostedZone": "teardown of the private zone",
    "route53:GetHostedZone": "route53_zone / route53",
    "route53:ListHostedZones": "route53_zone / route53",
    "route53:ListHostedZonesByName": "route53_zone / route53",
    "route53:ChangeResourceRecordSets": "dns role: the ALB alias and internal names",
    "route53:ListResourceRecordSets": "dns role: the ALB alias and internal names",
    "route53:GetChange": "route53, waiting for a change",
    "route53:ChangeTagsForResource": "route53_zone tags",
    "route53:ListTagsForResource": "route53_zone tags",
    "route53:AssociateVPCWithHostedZone": "route53_zone, the private zone's VPC",
}


def _s3_action(method: str, url: str) -> str:
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    query = parse_qs(parsed.query, keep_blank_values=True)
    sub = next(iter(query), "")
    if not parts:
        return "s3:ListAllMyBuckets"
    if len(parts) == 1:  # bucket
        bucket_sub = {
            "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
            "requestPayment": ("GetBucketRequestPayment", "PutBucketRequestPayment", None),
            "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock"),
            "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
            "tagging": ("GetBucketTagging", "PutBucketTagging", "PutBucketTagging"),
            "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration", "PutEncryptionConfiguration"),
            "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls", "PutBucketOwnershipControls"),
            "acl": ("GetBucketAcl", "PutBucketAcl", None),
            "accelerate": ("GetAccelerateConfiguration", "PutAccelerateConfiguration", None),
            "object-lock": ("GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration", None),
            "inventory": ("GetInventoryConfiguration", "PutInventoryConfiguration", "PutInventoryConfiguration"),
            "logging": ("GetBucketLogging", "PutBucketLogging", None),
            "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration", "PutLifecycleConfiguration"),
            "location": ("GetBucketLocation", None, None),
            "versions": ("ListBucketVersions", None, None),
            "uploads": ("ListBucketMultipartUploads", None, None),
        }
        if sub == "delete" and method == "POST":
            return "s3:DeleteObject"
        if sub in bucket_sub:
            get, put, delete = bucket_sub[sub]
            action = {"GET": get, "HEAD": get, "PUT": put, "DELETE": delete}.get(method)
        elif sub in ("", "list-type", "prefix", "max-keys", "encoding-type", "delimiter"):
            action = {"HEAD": "ListBucket", "GET": "ListBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method)
        else:
            action = None
        if action is None:
            raise ValueError(f"unmapped S3 bucket request {method} {url}")
        return f"s3:{action}"
    if sub == "tagging":
        return {"GET": "s3:GetObjectTagging", "PUT": "s3:PutObjectTagging", "DELETE": "s3:DeleteObjectTagging"}[method]
    if "versionId" in query:
        return {"GET": "s3:GetObjectVersion", "HEAD": "s3:GetObjectVersion", "DELETE": "s3:DeleteObjectVersion"}[method]
    return {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}[method]


_ROUTE53 = [
    ("POST", r"^/hostedzone$", "CreateHostedZone"),
    ("GET", r"^/hostedzone$", "ListHostedZones"),
    ("GET", r"^/hostedzonesbyname$", "ListHostedZonesByName"),
    ("GET", r"^/hostedzonecount$", "GetHostedZoneCount"),
    ("GET", r"^/hostedzone/[^/]+$", "GetHostedZone"),
    ("DELETE", r"^/hostedzone/[^/]+$", "DeleteHostedZone"),
    ("POST", r"^/hostedzone/[^/]+$", "UpdateHostedZoneComment"),
    ("POST", r"^/hostedzone/[^/]+/rrset/?$", "ChangeResourceRecordSets"),
    ("GET", r"^/hostedzone/[^/]+/rrset/?$", "ListResourceRecordSets"),
    ("POST", r"^/hostedzone/[^/]+/associatevpc$", "AssociateVPCWithHostedZone"),
    ("POST", r"^/hostedzone/[^/]+/disassociatevpc$", "DisassociateVPCFromHostedZone"),
    ("GET", r"^/change/[^/]+$", "GetChange"),
    ("GET", r"^/tags/hostedzone/[^/]+$", "ListTagsForResource"),
    ("POST", r"^/tags/hostedzone/[^/]+$", "ChangeTagsForResource"),
    ("POST", r"^/tags/hostedzone$", "ListTagsForResources"),
    ("GET", r"^/hostedzonesbyvpc$", "ListHostedZonesByVPC"),
]


def _route53_action(method: str, url: str) -> str:
    path = re.sub(r"^/\d{4}-\d{2}-\d{2}", "", urlparse(url).path)
    for want_method, pattern, action in _ROUTE53:
        if method == want_method and re.search(pattern, path):
            return f"route53:{action}"
    raise ValueError(f"unmapped Route 53 request {method} {url}")


def iam_action(entry: dict) -> str:
    """The IAM action one recorded request needs."""
    headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("authorization", ""))
    service = scope.group(1) if scope else "?"
    prefix = _PREFIX.get(service, service)
    method, url = entry["method"], entry.get("url", "")
    if service == "s3":
        return _s3_action(method, url)
    if service == "route53":
        return _route53_action(method, url)
    target = headers.get("x-amz-target")
    if target:
        return f"{prefix}:{target.split('.')[-1]}"
    cbor = re.search(r"/service/[^/]+/operation/([A-Za-z]+)", urlparse(url).path)
    if cbor:  # smithy rpc-v2-cbor (CloudWatch in current botocore)
        return f"{prefix}:{cbor.group(1)}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    params = parse_qs(body) if isinstance(body, str) else {}
    params.update(parse_qs(urlparse(url).query))
    if "Action" in params:
        return f"{prefix}:{params['Action'][0]}"
    raise ValueError(f"unmapped {service} request {method} {url}")


def actions_of_recording(text: str) -> set[str]:
    return {iam_action(json.loads(line)) for line in text.splitlines() if line.strip()}


# What the playbooks call, by service: read-only calls on "*", writes scoped to the project's names
# where the service supports resource-level permissions (IAM, S3, SSM, Logs, ECR), "*" where it does not
# or where the resource name is not known in advance (EC2 ids, ARNs with random suffixes).
DEPLOYER_ACTIONS: dict[str, list[str]] = {
    "application-autoscaling": [
        "DeleteScalingPolicy", "DeregisterScalableTarget", "DescribeScalableTargets", "DescribeScalingPolicies",
        "PutScalingPolicy", "RegisterScalableTarget"],
    "autoscaling": ["CreateAutoScalingGroup", "DeleteAutoScalingGroup", "DescribeAutoScalingGroups", "DescribeLifecycleHooks"],
    "cloudwatch": ["DeleteAlarms", "DescribeAlarms", "PutMetricAlarm"],
    "ec2": [
        "AllocateAddress", "AssociateRouteTable", "AttachInternetGateway", "AuthorizeSecurityGroupIngress",
        "CreateInternetGateway", "CreateLaunchTemplate", "CreateNatGateway", "CreateRoute", "CreateRouteTable",
        "CreateSecurityGroup", "CreateSubnet", "CreateVpc", "DeleteInternetGateway", "DeleteLaunchTemplate",
        "DeleteNatGateway", "DeleteRouteTable", "DeleteSecurityGroup", "DeleteSubnet", "DeleteVpc", "DescribeAddresses",
        "DescribeInternetGateways", "DescribeLaunchTemplateVersions", "DescribeLaunchTemplates", "DescribeNatGateways",
        "DescribeRouteTables", "DescribeSecurityGroups", "DescribeSubnets", "DescribeTags", "DescribeVpcAttribute",
        "DescribeVpcs", "DetachInternetGateway", "DisassociateRouteTable", "ModifyVpcAttribute", "ReleaseAddress"],
    "ecr": [
        "CreateRepository", "DeleteRepository", "DescribeRepositories", "GetLifecyclePolicy", "GetRepositoryPolicy",
        "PutImageScanningConfiguration", "PutLifecyclePolicy"],
    "ecs": [
        "CreateCapacityProvider", "CreateCluster", "CreateService", "DeleteCapacityProvider", "DeleteCluster",
        "DeleteService", "DeregisterTaskDefinition", "DescribeCapacityProviders", "DescribeClusters", "DescribeServices",
        "DescribeTaskDefinition", "DescribeTasks", "ListClusters", "ListTaskDefinitions", "PutClusterCapacityProviders",
        "RegisterTaskDefinition", "RunTask", "TagResource", "UpdateCluster", "UpdateService"],
    "elasticloadbalancing": [
        "AddTags", "CreateListener", "CreateLoadBalancer", "CreateRule", "CreateTargetGroup", "DeleteListener",
        "DeleteLoadBalancer", "DeleteTargetGroup", "DescribeListeners", "DescribeLoadBalancerAttributes",
        "DescribeLoadBalancers", "DescribeRules", "DescribeTags", "DescribeTargetGroupAttributes", "DescribeTargetGroups",
        "DescribeTargetHealth", "ModifyLoadBalancerAttributes", "ModifyTargetGroupAttributes"],
    "iam": [
        "AddRoleToInstanceProfile", "AttachRolePolicy", "CreateInstanceProfile", "CreateRole", "DeleteInstanceProfile",
        "DeleteRole", "DeleteRolePolicy", "DetachRolePolicy", "GetInstanceProfile", "GetRole", "GetRolePolicy",
        "ListAccountAliases", "ListAttachedRolePolicies", "ListInstanceProfilesForRole", "ListRolePolicies", "ListRoles",
        "PutRolePolicy", "RemoveRoleFromInstanceProfile"],
    "logs": ["CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "ListTagsLogGroup", "PutRetentionPolicy"],
    "rds": [
        "CreateDBInstance", "CreateDBParameterGroup", "CreateDBSubnetGroup", "DeleteDBInstance", "DeleteDBParameterGroup",
        "DeleteDBSubnetGroup", "DescribeDBInstances", "DescribeDBParameterGroups", "DescribeDBParameters",
        "DescribeDBSubnetGroups", "ListTagsForResource", "ModifyDBParameterGroup"],
    "s3": [
        "CreateBucket", "DeleteBucket", "DeleteObject", "GetAccelerateConfiguration", "GetBucketAcl", "GetBucketLogging",
        "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy", "GetBucketPublicAccessBlock",
        "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetEncryptionConfiguration",
        "GetInventoryConfiguration", "GetObject", "GetObjectTagging", "ListAllMyBuckets", "ListBucket",
        "ListBucketVersions", "PutBucketOwnershipControls", "PutBucketPublicAccessBlock", "PutBucketTagging",
        "PutBucketVersioning", "PutEncryptionConfiguration", "PutObject"],
    "ssm": ["DeleteParameter", "DescribeParameters", "GetParameter", "GetParametersByPath", "ListTagsForResource", "PutParameter"],
    "sts": ["GetCallerIdentity"],
}
# Reads that return data (parameter values, objects) stay scoped to the project like writes.
_SCOPED_READS = {"ssm:GetParameter", "ssm:GetParametersByPath", "ssm:ListTagsForResource"}
# Calls AWS authorises only on Resource "*".
_STAR_ONLY = {"s3:ListAllMyBuckets", "ssm:DescribeParameters"}
# Managed policies the iam role attaches by default (iam_*_managed_policies): AttachRolePolicy is limited to them.
MANAGED_POLICIES = [
    "arn:{p}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:{p}:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:{p}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
]
SERVICE_LINKED = ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "autoscaling.amazonaws.com",
                  "rds.amazonaws.com", "ecs.application-autoscaling.amazonaws.com"]


def all_actions() -> set[str]:
    return ({f"{svc}:{n}" for svc, names in DEPLOYER_ACTIONS.items() for n in names}
            | set(EXTRA_ACTIONS) | set(CONDITIONAL_ACTIONS))


def policy(project: str = DEFAULT_PROJECT, account: str = "*", partition: str = "aws") -> dict:
    """The deployer policy: reads on "*", writes scoped to the project's names where the service has
    resource-level permissions (IAM, S3, SSM, Logs, ECR), "*" where it has not or where names are
    AWS-generated (EC2 ids, ELB/ECS ARNs); iam:PassRole, AttachRolePolicy and CreateServiceLinkedRole
    each in their own statement with the conditions that keep them from granting more."""
    p = partition
    w = project_patterns(project)
    scoped = {
        "iam": [f"arn:{p}:iam::{account}:role/{w['role']}", f"arn:{p}:iam::{account}:instance-profile/{w['role']}"],
        "s3": [f"arn:{p}:s3:::{w['bucket']}", f"arn:{p}:s3:::{w['bucket']}/*"],
        "ssm": [f"arn:{p}:ssm:*:{account}:parameter/{w['parameter']}", f"arn:{p}:ssm:*::parameter/aws/service/ecs/*"],
        "logs": [f"arn:{p}:logs:*:{account}:log-group:{w['log_group']}", f"arn:{p}:logs:*:{account}:log-group:{w['log_group']}:*"],
        "ecr": [f"arn:{p}:ecr:*:{account}:repository/{w['repository']}"],
    }
    special = {"iam:PassRole", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:CreateServiceLinkedRole"}
    by_service: dict[str, list[str]] = {}
    for action in sorted(all_actions() - special):
        service, name = action.split(":", 1)
        by_service.setdefault(service, []).append(name)
    statements = []
    for service, names in sorted(by_service.items()):
        actions = [f"{service}:{n}" for n in names]
        if service not in scoped:
            statements.append({"Sid": _sid(service), "Effect": "Allow", "Action": actions, "Resource": "*"})
            continue
        star = [a for a in actions if a in _STAR_ONLY or (
            service != "s3" and a.split(":")[1].startswith(("Describe", "List", "Get")) and a not in _SCOPED_READS)]
        project_scoped = [a for a in actions if a not in star]
        if star:
            statements.append({"Sid": f"{_sid(service)}Read", "Effect": "Allow", "Action": star, "Resource": "*"})
        statements.append({"Sid": f"{_sid(service)}Project", "Effect": "Allow", "Action": project_scoped,
                           "Resource": scoped[service]})
    statements += [
        {"Sid": "IamPassProjectRolesToEcsAndEc2", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": [f"arn:{p}:iam::{account}:role/{w['role']}"],
         "Condition": {"StringEquals": {"iam:PassedToService": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]}}},
        {"Sid": "IamAttachOnlyTheEcsManagedPolicies", "Effect": "Allow",
         "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
         "Resource": [f"arn:{p}:iam::{account}:role/{w['role']}"],
         "Condition": {"ArnEquals": {"iam:PolicyARN": [m.format(p=p) for m in MANAGED_POLICIES]}}},
        {"Sid": "IamServiceLinkedRoles", "Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"],
         "Resource": [f"arn:{p}:iam::{account}:role/aws-service-role/*"],
         "Condition": {"StringEquals": {"iam:AWSServiceName": SERVICE_LINKED}}},
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _sid(service: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", service))


def allowed_actions(document: dict) -> set[str]:
    return {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--project", default=None)
    parser.add_argument("--account", default="*")
    parser.add_argument("--actions", type=Path, help="print the IAM actions of a moto recorder download")
    args = parser.parse_args()
    if args.actions:
        print("\n".join(sorted(actions_of_recording(args.actions.read_text()))))
        return 0
    if args.project:
        print(json.dumps(policy(args.project, args.account), indent=2))
        return 0
    wanted = json.dumps(policy(), indent=2) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text() != wanted:
            print("docs/deployer-policy.json is out of date (run scripts/deployer_policy.py)")
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(wanted)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
