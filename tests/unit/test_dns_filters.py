"""ecsops.platform dns filters: which zones and records the dns role's teardown (tasks/absent.yml) deletes."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.filter.dns import owned_zone_ids, records_to_delete, shared_zone_ids


def _tags(zone, **tags):
    return {"ResourceId": zone, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def test_owned_zones_carry_both_tags_of_this_environment():
    tag_sets = [
        _tags("Z1", Project="shop", Environment="dev"),
        _tags("/hostedzone/Z2", Project="shop", Environment="dev", Team="web"),
        _tags("Z3", Project="shop", Environment="prod"),  # another environment
        _tags("Z4", Project="blog", Environment="dev"),  # another project
        _tags("Z5", Environment="dev"),  # no Project tag
        {"ResourceId": "Z6"},  # untagged
    ]
    assert owned_zone_ids(tag_sets, "shop", "dev") == ["Z1", "Z2"]
    assert owned_zone_ids([], "shop", "dev") == []
    assert owned_zone_ids(None, "shop", "dev") == []


ZONES = [
    {"id": "/hostedzone/ZPUB", "name": "example.org.", "config": {"private_zone": False}},
    {"id": "/hostedzone/ZPRIV", "name": "example.org.", "config": {"private_zone": True}},
    {"id": "/hostedzone/ZOTHER", "name": "other.org.", "config": {"private_zone": False}},
]


def test_the_shared_zone_is_the_public_zone_of_that_name_unless_we_own_it():
    assert shared_zone_ids(ZONES, "Example.org.", "", []) == ["ZPUB"]
    assert shared_zone_ids(ZONES, "example.org", "", ["ZPUB"]) == []  # created by the environment: owned, not shared
    assert shared_zone_ids(ZONES, "", "", []) == []  # no public zone configured: no Route 53 record is ours there


def test_an_explicit_zone_id_wins_over_the_name():
    assert shared_zone_ids(ZONES, "example.org", "/hostedzone/ZOTHER", []) == ["ZOTHER"]
    assert shared_zone_ids(ZONES, "example.org", "ZOTHER", ["ZOTHER"]) == []


def _record(name, kind, alias=None, values=(), ttl=None):
    record = {"name": name, "type": kind}
    if alias:
        record["alias_target"] = {"dns_name": alias, "hosted_zone_id": "ZALB", "evaluate_target_health": False}
    else:
        record["resource_records"] = [{"value": v} for v in values]
        record["ttl"] = ttl
    return record


def test_every_record_of_an_owned_zone_goes_but_ns_and_soa():
    results = [{"item": "ZPRIV", "resource_record_sets": [
        _record("example.org.", "NS", values=["ns-1."], ttl=172800),
        _record("example.org.", "SOA", values=["ns-1. x"], ttl=900),
        _record("DB.example.org.", "CNAME", values=["db.rds.amazonaws.com"], ttl=60),
        _record("web.example.org.", "A", alias="alb-1.elb.amazonaws.com."),
    ]}]
    out = records_to_delete(results, ["ZPRIV"], [])
    assert out == [
        {"zone_id": "ZPRIV", "name": "db.example.org", "type": "CNAME", "ttl": 60, "values": ["db.rds.amazonaws.com"],
         "alias_target": {}},
        {"zone_id": "ZPRIV", "name": "web.example.org", "type": "A", "ttl": None, "values": ["alb-1.elb.amazonaws.com."],
         "alias_target": {"dns_name": "alb-1.elb.amazonaws.com.", "hosted_zone_id": "ZALB", "evaluate_target_health": False}},
    ]


def test_in_a_shared_zone_only_the_environments_alias_records_go():
    results = [{"item": "ZPUB", "resource_record_sets": [
        _record("dev.example.org.", "A", alias="alb-1.elb.amazonaws.com."),  # ours
        _record("dev.example.org.", "AAAA", alias="alb-1.elb.amazonaws.com."),  # ours too (same name, alias)
        _record("www.example.org.", "A", alias="cdn.example.net."),  # the team's
        _record("dev.example.org.", "TXT", values=['"verification"'], ttl=300),  # same name, not an alias: the team's
    ]}]
    out = records_to_delete(results, [], ["Dev.Example.org."])
    assert [(r["name"], r["type"]) for r in out] == [("dev.example.org", "A"), ("dev.example.org", "AAAA")]
    assert records_to_delete(results, [], []) == []
    assert records_to_delete([], ["ZPUB"], ["dev.example.org"]) == []
