# -*- coding: utf-8 -*-
"""Cross-checks of inventory inputs that argument_specs cannot express.

Each filter returns a list of error strings (empty when the input is fine); the
preflight role fails once with all of them, before the first API call.
Every message names the variable and says what was expected.
"""

from __future__ import annotations

import ipaddress
import re


def _net(value):
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None
    return net if net.version == 4 else None


def cidr_errors(value, name, min_prefix=16, max_prefix=28):
    """A single IPv4 CIDR with a prefix in [min_prefix, max_prefix]."""
    net = _net(value)
    if net is None:
        return [f"{name}: '{value}' is not a valid IPv4 CIDR (expected e.g. 10.20.0.0/16, host bits zero)"]
    if not min_prefix <= net.prefixlen <= max_prefix:
        return [f"{name}: '{value}' has prefix /{net.prefixlen}; expected /{min_prefix} to /{max_prefix}"]
    return []


def network_errors(vpc_cidr, azs, public, private, region):
    """VPC/subnet layout: valid, inside the VPC, not overlapping, one per AZ, >= 2 AZs in the region."""
    errors = cidr_errors(vpc_cidr, "vpc_cidr")
    azs = list(azs or [])
    if len(azs) < 2:
        errors.append(f"vpc_availability_zones: {len(azs)} zone(s) given; expected at least 2 for an ALB and RDS")
    if len(set(azs)) != len(azs):
        errors.append("vpc_availability_zones: contains duplicates; expected distinct zones")
    for az in azs:
        if not re.fullmatch(re.escape(str(region)) + r"[a-z]", str(az)):
            errors.append(f"vpc_availability_zones: '{az}' is not a zone of aws_region '{region}' (expected e.g. {region}a)")
    vpc = _net(vpc_cidr)
    subnets = []
    for var, cidrs in (("vpc_public_subnet_cidrs", public), ("vpc_private_subnet_cidrs", private)):
        cidrs = list(cidrs or [])
        if len(cidrs) != len(azs):
            errors.append(f"{var}: {len(cidrs)} CIDR(s) for {len(azs)} availability zone(s); expected one per zone")
        for i, cidr in enumerate(cidrs):
            label = f"{var}[{i}]"
            sub_errors = cidr_errors(cidr, label, 16, 28)
            errors.extend(sub_errors)
            net = _net(cidr)
            if sub_errors or net is None:
                continue
            if vpc is not None and not net.subnet_of(vpc):
                errors.append(f"{label}: '{cidr}' is outside vpc_cidr {vpc_cidr}; expected a subnet of it")
            for other_label, other in subnets:
                if net.overlaps(other):
                    errors.append(f"{label}: '{cidr}' overlaps {other_label} '{other}'; expected disjoint subnets")
            subnets.append((label, net))
    return errors


def cidr_list_errors(values, name):
    """A list of IPv4 CIDRs (any prefix), e.g. allowed ingress ranges."""
    errors = []
    for i, value in enumerate(values or []):
        try:
            ipaddress.IPv4Network(str(value), strict=True)
        except ValueError:
            errors.append(f"{name}[{i}]: '{value}' is not a valid IPv4 CIDR (expected e.g. 203.0.113.0/24)")
    return errors


class FilterModule:
    def filters(self):
        return {
            "cidr_errors": cidr_errors,
            "network_errors": network_errors,
            "cidr_list_errors": cidr_list_errors,
        }
