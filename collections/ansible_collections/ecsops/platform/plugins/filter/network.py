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


ROUTE_TARGETS = ("gateway_id", "nat_gateway_id")


def _route_matches(want, route):
    """A wanted route ({'dest', 'gateway_id' | 'nat_gateway_id'}) is in the table with the same target."""
    if route.get("destination_cidr_block") != want.get("dest"):
        return False
    return all(route.get(key) == want[key] for key in ROUTE_TARGETS if want.get(key))


def route_table_drift(wanted, tables):
    """The wanted route tables that amazon.aws.ec2_vpc_route_table (lookup: tag, purge_routes, purge_subnets,
    purge_tags) would change, judged from one ec2_vpc_route_table_info read of the VPC's tables.

    wanted: [{'tags': {...}, 'subnets': [subnet ids], 'routes': [{'dest', 'gateway_id' | 'nat_gateway_id'}]}].
    A table differs when no table or more than one carries its tags (the module creates one, or fails naming
    the ambiguity), when its tags are not exactly these (aws: keys aside), when its subnet associations are not
    exactly these subnets, when a wanted route is missing or points elsewhere, or when a route created by hand
    (origin CreateRoute) is not wanted (purge_routes deletes it). The module's own rules, so a table this returns
    nothing for is one the module would leave as it is.
    """
    tables = tables or []
    drifted = []
    for want in wanted or []:
        tags = {str(k): str(v) for k, v in (want.get("tags") or {}).items()}
        found = [t for t in tables
                 if all((t.get("tags") or {}).get(k) == v for k, v in tags.items())]
        if len(found) != 1:
            drifted.append(want)
            continue
        table = found[0]
        current_tags = {k: v for k, v in (table.get("tags") or {}).items() if not k.startswith("aws:")}
        subnets = {a.get("subnet_id") for a in table.get("associations") or []
                   if not a.get("main") and a.get("subnet_id")}
        routes = table.get("routes") or []
        missing = [r for r in want.get("routes") or [] if not any(_route_matches(r, route) for route in routes)]
        extra = [route for route in routes
                 if route.get("origin") == "CreateRoute" and route.get("destination_cidr_block")
                 and not any(_route_matches(r, route) for r in want.get("routes") or [])]
        if current_tags != tags or subnets != set(want.get("subnets") or []) or missing or extra:
            drifted.append(want)
    return drifted


class FilterModule:
    def filters(self):
        return {
            "to_subnet": to_subnet,
            "subnet_index": subnet_index,
            "subnets_by_tier": subnets_by_tier,
            "sg_cidr_rules": sg_cidr_rules,
            "sg_port_rule": sg_port_rule,
            "static_host_ports": static_host_ports,
            "route_table_drift": route_table_drift,
        }
