# -*- coding: utf-8 -*-
"""Small data-shaping filters for the network role (pure functions, unit tested)."""

from __future__ import annotations


def to_subnet(az_cidr, tier):
    """(az, cidr), tier -> {'az', 'cidr', 'tier'}."""
    az, cidr = az_cidr
    return {"az": az, "cidr": cidr, "tier": tier}


def subnet_index(results):
    """ec2_vpc_subnet loop results -> {'public': {az: id}, 'private': {az: id}}."""
    index = {"public": {}, "private": {}}
    for result in results:
        item = result.get("item") or {}
        subnet = result.get("subnet") or {}
        if subnet.get("id"):
            index.setdefault(item["tier"], {})[item["az"]] = subnet["id"]
    return index


def subnets_by_tier(subnets, tier):
    """ec2_vpc_subnet_info `subnets` -> ids of the given Tier tag, sorted by AZ."""
    chosen = [s for s in subnets if (s.get("tags") or {}).get("Tier") == tier]
    return [s["subnet_id"] for s in sorted(chosen, key=lambda s: s.get("availability_zone", ""))]


def sg_cidr_rules(cidrs, ports):
    """Ingress rules: each port from each CIDR (one rule per CIDR, all ports)."""
    return [
        {"proto": "tcp", "ports": list(ports), "cidr_ip": cidr, "rule_desc": "HTTP(S) from allowed range"}
        for cidr in cidrs
    ]


def sg_port_rule(port, group_id):
    """Ingress rule: one static host port from a source security group."""
    return {"proto": "tcp", "ports": [int(port)], "group_id": group_id, "rule_desc": f"static host port {port} from the ALB"}


def static_host_ports(container_lists, port_range):
    """The services' service_containers (one list per service) -> the static host ports the instance group opens.

    Every non-zero host_port (0 or none is a dynamic port), sorted and unique, leaving out those inside
    port_range ([first, last] of the dynamic range, which is open already).
    """
    first, last = int(port_range[0]), int(port_range[1])
    ports = {int(c.get("host_port") or 0) for containers in container_lists or [] for c in containers or []}
    return sorted(p for p in ports if p > 0 and not first <= p <= last)


class FilterModule:
    def filters(self):
        return {
            "to_subnet": to_subnet,
            "subnet_index": subnet_index,
            "subnets_by_tier": subnets_by_tier,
            "sg_cidr_rules": sg_cidr_rules,
            "sg_port_rule": sg_port_rule,
            "static_host_ports": static_host_ports,
        }
