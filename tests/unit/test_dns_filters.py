"""ecsops.platform dns filters: the dns role's input checks, the records it wants, the names a certificate does not
cover, and which zones and records its teardown (tasks/absent.yml) deletes."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.filter.dns import (
    dns_errors,
    dns_records,
    owned_zone_ids,
    private_fqdn_records,
    records_to_delete,
    shared_zone_ids,
    uncovered_names,
)

GOOD = {
    "public_zone": "example.org", "private_zone": "shop.internal", "public_zone_id": "", "public_zone_create": False,
    "alb_records": ["dev.example.org", "api.dev.example.org"], "alb_records_given": [], "private_db_record": "db",
    "private_records": private_fqdn_records([{"name": "cache", "type": "cname", "values": ["c.example.net"]},
                                             {"name": "_sip._tcp.shop.internal.", "type": "SRV", "values": ["1 1 5060 sip"],
                                              "ttl": 300}], "shop.internal"),
    "service_records": True, "lb_services": ["web"], "ttl": 60, "db_endpoint_timeout": 1200,
}


def test_private_records_get_their_name_inside_the_private_zone():
    out = private_fqdn_records([{"name": "Cache.", "type": "A", "values": ["10.0.0.1"]},
                                {"name": "x.shop.internal", "type": "A", "values": ["10.0.0.2"]},
                                {"name": "shop.internal", "type": "TXT", "values": ["v=1"]}], "Shop.Internal.")
    assert [r["fqdn"] for r in out] == ["cache.shop.internal", "x.shop.internal", "shop.internal"]
    assert out[0]["name"] == "Cache."  # the input is kept as given
    assert private_fqdn_records([], "shop.internal") == []


def test_good_inputs_have_no_error():
    assert dns_errors(GOOD) == []
    assert dns_errors(dict(GOOD, public_zone="", private_zone="", alb_records=[], private_records=[])) == []


def _errors(**changes):
    return dns_errors(dict(GOOD, **changes))


def test_zone_names_and_zone_id():
    assert _errors(private_zone="my org.local") == [
        "dns_private_zone: my org.local is not a DNS zone name (labels of a-z, 0-9 and -, e.g. example.org)"]
    assert _errors(public_zone="-bad.org", alb_records=[])[0].startswith("dns_public_zone: -bad.org is not a DNS zone name")
    assert _errors(public_zone_id="z-lower") == [
        "dns_public_zone_id: z-lower is not a hosted zone id (e.g. Z0123456789ABCDEFGHIJ)"]
    assert _errors(public_zone_id="/hostedzone/Z0123456789ABC") == []


def test_inputs_that_need_the_public_zone():
    errors = _errors(public_zone="", alb_records=[], public_zone_id="Z01", alb_records_given=["a.example.org"],
                     public_zone_create=True)
    assert errors == [
        "dns_public_zone_id: set, but dns_public_zone is empty; name the public zone too",
        "dns_alb_records: set, but dns_public_zone is empty; name the public zone too",
        "dns_public_zone_create: true, but dns_public_zone is empty",
        "dns_public_zone_create: true together with dns_public_zone_id Z01; an existing zone is not created "
        "(set one or the other)",
    ]


def test_alb_records_inside_the_public_zone_and_valid():
    assert _errors(alb_records=["app.other.org", "bad_label.example.org", "example.org"]) == [
        "dns_alb_records: app.other.org is not inside dns_public_zone example.org",
        "dns_alb_records: bad_label.example.org is not a DNS name (labels of a-z, 0-9 and -)",
    ]


def test_private_records():
    records = private_fqdn_records([
        {"name": "cache", "type": "PTRX", "values": ["x"]},
        {"name": "db", "type": "A", "values": "10.0.0.1"},  # the database's name, values not a list
        {"name": "web", "type": "A", "values": ["10.0.0.1"]},  # a service's alias
        {"name": "cache", "type": "A", "values": ["10.0.0.2"], "ttl": 200000},  # second cache, TTL too long
        {"name": "bad name", "type": "A", "values": ["1.2.3.4"]},
        {"name": "nothing"},
    ], "shop.internal")
    assert _errors(private_records=records) == [
        "dns_private_records[0].type: PTRX is not one of A, AAAA, CNAME, TXT, SRV, MX",
        "dns_private_records[1].values: expected a non-empty list",
        "dns_private_records[1].name: db.shop.internal is already a record of the private zone (database, a service, "
        "or an earlier entry)",
        "dns_private_records[2].name: web.shop.internal is already a record of the private zone (database, a service, "
        "or an earlier entry)",
        "dns_private_records[3].name: cache.shop.internal is already a record of the private zone (database, a "
        "service, or an earlier entry)",
        "dns_private_records[3].ttl: 200000 must be 0-172800 seconds",
        "dns_private_records[4].name: bad name is not a DNS name",
        "dns_private_records[5]: expected {name, type, values[, ttl]}",
    ]
    # Without service records, a record may take a service's name.
    assert _errors(private_records=records[2:3], service_records=False) == []
    assert _errors(private_zone="", private_records=records[:1]) == ["dns_private_records: set, but dns_private_zone is empty"]


def test_db_record_ttl_and_timeout():
    assert _errors(private_db_record="db.main") == ["dns_private_db_record: db.main must be one DNS label (a-z, 0-9 and -)"]
    assert _errors(ttl=-1) == ["dns_ttl: -1 must be 0-172800 seconds"]
    assert _errors(ttl=172801) == ["dns_ttl: 172801 must be 0-172800 seconds"]
    assert _errors(db_endpoint_timeout=-5) == ["dns_db_endpoint_timeout: must be 0 or more seconds"]


ALB = {"dns_name": "shop-dev-123.eu-west-1.elb.amazonaws.com", "canonical_hosted_zone_id": "Z32O12XQLNTSW2"}


def test_wanted_records():
    records = dns_records(ALB, "ZPUB", ["dev.example.org"], "ZPRIV", "shop.internal", "db", "db.abc.rds.amazonaws.com",
                          60, True, ["web"], GOOD["private_records"])
    alias = {"alias": True, "type": "A", "values": [ALB["dns_name"]], "alias_zone": "Z32O12XQLNTSW2"}
    assert records == [
        dict(alias, zone_id="ZPUB", name="dev.example.org"),
        {"zone_id": "ZPRIV", "name": "db.shop.internal", "type": "CNAME", "values": ["db.abc.rds.amazonaws.com"],
         "ttl": 60, "alias": False},
        dict(alias, zone_id="ZPRIV", name="web.shop.internal"),
        {"zone_id": "ZPRIV", "name": "cache.shop.internal", "type": "CNAME", "values": ["c.example.net"], "ttl": 60,
         "alias": False},
        {"zone_id": "ZPRIV", "name": "_sip._tcp.shop.internal", "type": "SRV", "values": ["1 1 5060 sip"], "ttl": 300,
         "alias": False},
    ]


def test_wanted_records_wait_for_what_does_not_exist_yet():
    # No ALB yet: no alias; no database endpoint yet: no CNAME; no zone: nothing in it.
    assert dns_records({}, "ZPUB", ["dev.example.org"], "ZPRIV", "shop.internal", "db", "", 60, True, ["web"], []) == []
    assert dns_records(ALB, "", ["dev.example.org"], "", "shop.internal", "db", "x", 60, True, ["web"], []) == []
    assert [r["name"] for r in dns_records(ALB, "", [], "ZPRIV", "shop.internal", "", "x", 60, False, ["web"], [])] == []


def test_names_a_certificate_does_not_cover():
    names = ["dev.example.org", "api.dev.example.org", "example.org", "a.b.example.org"]
    assert uncovered_names(names, ["example.org", "*.example.org"]) == ["api.dev.example.org", "a.b.example.org"]
    assert uncovered_names(names, ["*.dev.example.org", "DEV.example.org"]) == ["example.org", "a.b.example.org"]
    assert uncovered_names([], ["example.org"]) == []


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
