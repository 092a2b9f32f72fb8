#!/usr/bin/env python3
"""Can the molecule `localstack` scenario run against the LocalStack at LOCALSTACK_ENDPOINT?

    scripts/localstack_probe.py [--endpoint URL] [--services core|full]

Exit 0 when it can, 3 with the reason on stdout when it cannot: no LocalStack reachable, a service
site.yml needs is not in that LocalStack's plan (ECS, ELBv2, RDS, Auto Scaling, ECR and Application
Auto Scaling need a licensed LocalStack: start it with LOCALSTACK_AUTH_TOKEN), or the project's
compatibility hook (molecule/localstack/init/ready.d/ecsops_compat.py) has not run in it.
`make molecule-localstack` and the scenario's create step both ask this. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

# What the core layers need (LocalStack's free open core serves these) and what the whole site.yml needs.
CORE = ["ec2", "iam", "sts", "logs", "ssm", "s3"]
LICENSED = ["ecs", "elbv2", "rds", "autoscaling", "ecr", "application-autoscaling"]
FULL = CORE + ["cloudwatch"] + LICENSED
READY = ("available", "running")
HOOK = "ecsops_compat.py"
EXIT_UNUSABLE = 3


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (the user's endpoint)
        return json.loads(resp.read())


def probe(endpoint: str, services: list[str]) -> str | None:
    """None when usable, else why not."""
    endpoint = endpoint.rstrip("/")
    try:
        health = _get(f"{endpoint}/_localstack/health")
    except (OSError, ValueError) as exc:
        return (f"no LocalStack reachable at {endpoint} ({exc}). Start one (LOCALSTACK_AUTH_TOKEN=... localstack start, "
                "with the compatibility hook mounted, see README) or point LOCALSTACK_ENDPOINT at it.")
    states = health.get("services", {})
    missing = [s for s in services if states.get(s) not in READY]
    if missing:
        licensed = [s for s in missing if s in LICENSED]
        detail = ", ".join(f"{s} ({states.get(s, 'absent')})" for s in missing)
        hint = (" These need a licensed LocalStack: set LOCALSTACK_AUTH_TOKEN when you start it."
                if licensed else "")
        return (f"the LocalStack at {endpoint} (version {health.get('version', '?')}, edition "
                f"{health.get('edition', '?')}) does not serve: {detail}; they are not in your LocalStack's plan.{hint}")
    if os.environ.get("LOCALSTACK_COMPAT_HOOK", "required") != "ignore":
        try:
            scripts = _get(f"{endpoint}/_localstack/init").get("scripts", [])
        except (OSError, ValueError):
            scripts = []
        ran = [s for s in scripts if s.get("name") == HOOK]
        if not ran or ran[0].get("state") != "SUCCESSFUL":
            state = ran[0].get("state") if ran else "not installed"
            return (f"the compatibility hook {HOOK} has not run in the LocalStack at {endpoint} ({state}): mount "
                    "molecule/localstack/init/ready.d at /etc/localstack/init/ready.d (its EC2 answers CreateRouteTable "
                    "without Origin and tags NAT gateways as nat-gateway; see README). LOCALSTACK_COMPAT_HOOK=ignore "
                    "skips this check for a LocalStack that no longer has these gaps.")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=os.environ.get("LOCALSTACK_ENDPOINT", "http://localhost:4566"))
    parser.add_argument("--services", choices=["core", "full"], default="full")
    args = parser.parse_args()
    reason = probe(args.endpoint, CORE if args.services == "core" else FULL)
    if reason:
        print(f"LocalStack unusable: {reason}")
        return EXIT_UNUSABLE
    print(f"LocalStack at {args.endpoint} serves {args.services} ({', '.join(CORE if args.services == 'core' else FULL)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
