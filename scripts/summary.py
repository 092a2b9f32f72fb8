#!/usr/bin/env python3
"""Print a short summary of what exists for one environment (what `make local` shows at the end).

    .venv/bin/python scripts/summary.py -i inventories/local      # the emulator (EMULATOR_PORT)
    .venv/bin/python scripts/summary.py -i inventories/prod       # real AWS, default credentials
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.ecsops.platform.plugins.module_utils.names import names  # noqa: E402  the naming contract


def inventory_vars(inventory: Path) -> dict:
    values: dict = {}
    for path in sorted((inventory / "group_vars" / "all").glob("*.yml")):
        values.update(yaml.safe_load(path.read_text()) or {})
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", default="inventories/local")
    args = parser.parse_args()
    values = inventory_vars(ROOT / args.inventory)
    env, project, region = values["env_name"], values["project_name"], values["aws_region"]
    n = names(project, env, account_id=str(values.get("aws_account_id", "")))
    prefix = n["prefix"]
    kwargs: dict = {"region_name": region}
    if env == "local":
        kwargs.update(endpoint_url=f"http://127.0.0.1:{os.environ.get('EMULATOR_PORT', '5055')}",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106

    def client(name: str):
        return boto3.client(name, **kwargs)

    out = []
    ec2 = client("ec2")
    flt = [{"Name": "tag:Environment", "Values": [env]}, {"Name": "tag:Project", "Values": [project]}]
    vpcs = ec2.describe_vpcs(Filters=flt)["Vpcs"]
    out.append(f"environment  {prefix} ({region})")
    for vpc in vpcs:
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
        tiers = {}
        for s in subnets:
            tier = next((t["Value"] for t in s.get("Tags", []) if t["Key"] == "Tier"), "?")
            tiers.setdefault(tier, []).append(f"{s['AvailabilityZone']}:{s['CidrBlock']}")
        nats = [n for n in ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
                if n["State"] in ("pending", "available")]
        out.append(f"vpc          {vpc['VpcId']} {vpc['CidrBlock']}, {len(nats)} NAT gateway(s)")
        for tier, items in sorted(tiers.items()):
            out.append(f"  {tier:<10} {', '.join(sorted(items))}")
    lbs = [lb for lb in client("elbv2").describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == n["load_balancer"]]
    for lb in lbs:
        out.append(f"alb          http://{lb['DNSName']}/ ({lb['Scheme']})")
    ecs = client("ecs")
    clusters = ecs.describe_clusters(clusters=[n["cluster"]])["clusters"]
    if clusters and clusters[0]["status"] == "ACTIVE":
        c = clusters[0]
        out.append(f"ecs cluster  {n['cluster']}: {c['registeredContainerInstancesCount']} container instance(s), "
                   f"capacity providers {', '.join(c.get('capacityProviders') or []) or '-'}")
        arns = ecs.list_services(cluster=n["cluster"])["serviceArns"]
        for svc in ecs.describe_services(cluster=n["cluster"], services=arns)["services"] if arns else []:
            td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
            images = ", ".join(f"{c['name']}={c['image'].rsplit('/', 1)[-1]}" for c in td["containerDefinitions"])
            state = svc["deployments"][0].get("rolloutState", "?") if svc["deployments"] else "?"
            out.append(f"  service    {svc['serviceName']}: rev {td['revision']}, {svc['runningCount']}/{svc['desiredCount']} "
                       f"running, rollout {state}, {images}")
    for db in client("rds").describe_db_instances()["DBInstances"]:
        if db["DBInstanceIdentifier"] == n["db_instance"]:
            endpoint = db.get("Endpoint", {}).get("Address", "-")
            out.append(f"rds          {n['db_instance']} {db['Engine']} {db['EngineVersion']} {db['DBInstanceStatus']} ({endpoint})")
    groups = client("logs").describe_log_groups(logGroupNamePrefix=n["log_group_prefix"])["logGroups"]
    out.append(f"log groups   {', '.join(g['logGroupName'] for g in groups) or '-'}")
    if not vpcs:
        out.append("(nothing converged yet: run `make local` or ansible-playbook site.yml)")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
