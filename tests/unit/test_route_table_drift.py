"""ecsops.platform.route_table_drift: from one ec2_vpc_route_table_info read, the route tables that
amazon.aws.ec2_vpc_route_table (lookup tag, purge_routes, purge_subnets, purge_tags) would change."""

from __future__ import annotations

import copy

from ansible_collections.ecsops.platform.plugins.filter.network import route_table_drift

PUBLIC = {"tags": {"Name": "e-public", "Tier": "public", "Env": "local"}, "subnets": ["subnet-a", "subnet-b"],
          "routes": [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]}
PRIVATE = {"tags": {"Name": "e-private-a", "Tier": "private", "Env": "local"}, "subnets": ["subnet-c"],
           "routes": [{"dest": "0.0.0.0/0", "nat_gateway_id": "nat-1"}]}
LOCAL = {"destination_cidr_block": "10.0.0.0/16", "gateway_id": "local", "origin": "CreateRouteTable"}


def _table(want, target, **extra):
    table = {"route_table_id": "rtb-" + want["tags"]["Name"], "tags": dict(want["tags"], **{"aws:x": "kept"}),
             "associations": [{"main": False, "subnet_id": s} for s in want["subnets"]],
             "routes": [LOCAL, {"destination_cidr_block": "0.0.0.0/0", "origin": "CreateRoute", "state": "active",
                                **target}]}
    table.update(extra)
    return table


def _tables():
    main = {"route_table_id": "rtb-main", "tags": {}, "associations": [{"main": True}], "routes": [LOCAL]}
    return [main, _table(PUBLIC, {"gateway_id": "igw-1"}), _table(PRIVATE, {"nat_gateway_id": "nat-1"})]


def test_converged_tables_need_no_module_call():
    assert route_table_drift([PUBLIC, PRIVATE], _tables()) == []


def test_a_missing_table_is_created():
    assert route_table_drift([PUBLIC, PRIVATE], _tables()[:2]) == [PRIVATE]
    assert route_table_drift([PUBLIC], []) == [PUBLIC]
    assert route_table_drift([PUBLIC], None) == [PUBLIC]


def test_two_tables_with_the_tags_go_to_the_module_which_fails_on_them():
    tables = _tables() + [_table(PUBLIC, {"gateway_id": "igw-1"})]
    assert route_table_drift([PUBLIC, PRIVATE], tables) == [PUBLIC]


def test_route_to_another_target_or_missing_is_drift():
    tables = _tables()
    tables[2]["routes"][1]["nat_gateway_id"] = "nat-old"  # a replaced NAT gateway
    assert route_table_drift([PUBLIC, PRIVATE], tables) == [PRIVATE]
    tables = _tables()
    tables[1]["routes"] = [LOCAL]
    assert route_table_drift([PUBLIC, PRIVATE], tables) == [PUBLIC]


def test_a_hand_made_route_is_purged_but_propagated_and_endpoint_routes_are_not():
    tables = _tables()
    tables[1]["routes"].append({"destination_cidr_block": "192.0.2.0/24", "gateway_id": "igw-1", "origin": "CreateRoute"})
    assert route_table_drift([PUBLIC], tables) == [PUBLIC]
    tables = _tables()
    tables[1]["routes"] += [{"destination_cidr_block": "198.51.100.0/24", "gateway_id": "vgw-1",
                             "origin": "EnableVgwRoutePropagation"},
                            {"destination_prefix_list_id": "pl-1", "gateway_id": "vpce-1", "origin": "CreateRoute"}]
    assert route_table_drift([PUBLIC], tables) == []


def test_subnet_associations_must_be_exactly_the_wanted_ones():
    tables = _tables()
    tables[1]["associations"] = tables[1]["associations"][:1]  # subnet-b associated elsewhere, or not at all
    assert route_table_drift([PUBLIC], tables) == [PUBLIC]
    tables = _tables()
    tables[2]["associations"].append({"main": False, "subnet_id": "subnet-x"})
    assert route_table_drift([PRIVATE], tables) == [PRIVATE]


def test_tags_must_match_exactly_apart_from_aws_keys():
    tables = _tables()
    tables[1]["tags"]["Owner"] = "someone"
    assert route_table_drift([PUBLIC], tables) == [PUBLIC]
    tables = _tables()
    changed = copy.deepcopy(PUBLIC)
    changed["tags"]["Env"] = "prod"  # not found by its tags: the module creates another table
    assert route_table_drift([changed], tables) == [changed]


def test_a_local_route_without_origin_is_not_a_hand_made_route():
    """LocalStack's CreateRouteTable answers the local route without Origin (molecule/localstack compat)."""
    tables = _tables()
    tables[1]["routes"][0] = {"destination_cidr_block": "10.0.0.0/16", "gateway_id": "local"}
    assert route_table_drift([PUBLIC], tables) == []
