# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the dns role: its input checks (tasks/validate.yml), the records it wants (vars/main.yml), the
names a certificate does not cover, and for its teardown (tasks/absent.yml) which zones and records are the
environment's.

Pure functions, unit tested (tests/unit/test_dns_filters.py).
"""

from __future__ import annotations

import re

ZONE_PATTERN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
LABEL_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Labels of a private record's name: also _service labels (SRV) and a wildcard.
RECORD_LABEL_PATTERN = re.compile(r"^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?|\*)$")
RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "SRV", "MX")
MAX_TTL = 172800

ZONE_PREFIX = "/hostedzone/"


def _zone_id(value):
    value = str(value)
    return value[len(ZONE_PREFIX):] if value.startswith(ZONE_PREFIX) else value


def _record_name(name):
    return str(name).lower().rstrip(".")


def _inside(name, zone):
    return name == zone or name.endswith("." + zone)


def _zone_ok(zone):
    return ZONE_PATTERN.match(zone) is not None and len(zone) <= 253


def _ttl_ok(value):
    return re.fullmatch(r"[0-9]+", str(value)) is not None and int(value) <= MAX_TTL


def private_fqdn_records(records, private_zone):
    """dns_private_records -> the same dicts with `fqdn`: the name lower-cased, without a final dot, inside the
    private zone (a relative name gets the zone appended). Entries that are not dicts are kept as they are (the
    input check reports them)."""
    zone = _record_name(private_zone or "")
    out = []
    for record in records or []:
        if not isinstance(record, dict):
            out.append(record)
            continue
        name = _record_name(record.get("name", ""))
        out.append(dict(record, fqdn=name if _inside(name, zone) else f"{name}.{zone}"))
    return out


def dns_errors(inputs):
    """Everything wrong with the dns role's inputs, one message per problem naming the variable ([] if none).

    `inputs` holds the role's variables, the zones and ALB records normalised (vars/main.yml):
    public_zone, private_zone, public_zone_id, public_zone_create, alb_records (normalised; defaults to
    <env>.<public zone>), alb_records_given (dns_alb_records as set), private_db_record, private_records
    (private_fqdn_records), service_records, lb_services, ttl, db_endpoint_timeout.
    """
    errors = []
    public, private = inputs["public_zone"], inputs["private_zone"]
    # (Messages spelled out per variable: scripts/input_catalogue.py lists each under the variable it names.)
    if public and not _zone_ok(public):
        errors.append(f"dns_public_zone: {public} is not a DNS zone name (labels of a-z, 0-9 and -, e.g. example.org)")
    if private and not _zone_ok(private):
        errors.append(f"dns_private_zone: {private} is not a DNS zone name (labels of a-z, 0-9 and -, e.g. example.org)")
    zone_id = str(inputs.get("public_zone_id") or "")
    if zone_id and not re.match(r"^(/hostedzone/)?[A-Z0-9]{1,32}$", zone_id):
        errors.append(f"dns_public_zone_id: {zone_id} is not a hosted zone id (e.g. Z0123456789ABCDEFGHIJ)")
    create = bool(inputs.get("public_zone_create"))
    if not public:
        if zone_id:
            errors.append("dns_public_zone_id: set, but dns_public_zone is empty; name the public zone too")
        if inputs.get("alb_records_given"):
            errors.append("dns_alb_records: set, but dns_public_zone is empty; name the public zone too")
        if create:
            errors.append("dns_public_zone_create: true, but dns_public_zone is empty")
    if create and zone_id:
        errors.append(f"dns_public_zone_create: true together with dns_public_zone_id {zone_id}; "
                      "an existing zone is not created (set one or the other)")
    for record in inputs.get("alb_records") or [] if public else []:
        if not _inside(record, public):
            errors.append(f"dns_alb_records: {record} is not inside dns_public_zone {public}")
        elif not all(LABEL_PATTERN.match(part) for part in record.split(".")):
            errors.append(f"dns_alb_records: {record} is not a DNS name (labels of a-z, 0-9 and -)")
    db_record = str(inputs.get("private_db_record") or "")
    if db_record and not LABEL_PATTERN.match(db_record):
        errors.append(f"dns_private_db_record: {db_record} must be one DNS label (a-z, 0-9 and -)")
    records = inputs.get("private_records") or []
    if records and not private:
        errors.append("dns_private_records: set, but dns_private_zone is empty")
    seen = [f"{db_record}.{private}"]
    if inputs.get("service_records"):
        seen += [f"{service}.{private}" for service in inputs.get("lb_services") or []]
    for i, record in enumerate(records if private else []):
        if not isinstance(record, dict) or not {"name", "type", "values"} <= set(record):
            errors.append(f"dns_private_records[{i}]: expected {{name, type, values[, ttl]}}")
            continue
        if str(record["type"]).upper() not in RECORD_TYPES:
            errors.append(f"dns_private_records[{i}].type: {record['type']} is not one of {', '.join(RECORD_TYPES)}")
        values = record["values"]
        if not isinstance(values, (list, tuple)) or not values:
            errors.append(f"dns_private_records[{i}].values: expected a non-empty list")
        fqdn = record["fqdn"]
        if not all(RECORD_LABEL_PATTERN.match(part) for part in fqdn.split(".")):
            errors.append(f"dns_private_records[{i}].name: {record['name']} is not a DNS name")
        if fqdn in seen:
            errors.append(f"dns_private_records[{i}].name: {fqdn} is already a record of the private zone "
                          "(database, a service, or an earlier entry)")
        seen.append(fqdn)
        if "ttl" in record and not _ttl_ok(record["ttl"]):
            errors.append(f"dns_private_records[{i}].ttl: {record['ttl']} must be 0-172800 seconds")
    if not _ttl_ok(inputs.get("ttl")):
        errors.append(f"dns_ttl: {inputs.get('ttl')} must be 0-172800 seconds")
    if not re.fullmatch(r"[0-9]+", str(inputs.get("db_endpoint_timeout"))):
        errors.append("dns_db_endpoint_timeout: must be 0 or more seconds")
    return errors


def dns_records(alb, public_zone_id, alb_records, private_zone_id, private_zone, db_record, db_endpoint, ttl,
                service_records, lb_services, private_records):
    """The records the dns role ensures (route53 arguments: zone_id, name, type, values, ttl, alias, alias_zone):

    - in the public zone, an alias to the ALB for each of alb_records;
    - in the private zone, the database CNAME (once RDS has an endpoint), an alias to the ALB per load-balanced
      service when service_records, and dns_private_records (private_fqdn_records).
    `alb` is the load balancer (dns_name, canonical_hosted_zone_id) or {} when there is none yet."""
    out = []
    alias = {"alias": True, "type": "A", "values": [(alb or {}).get("dns_name", "")],
             "alias_zone": (alb or {}).get("canonical_hosted_zone_id", "")}
    if public_zone_id and alb:
        out += [dict(alias, zone_id=public_zone_id, name=name) for name in alb_records or []]
    if private_zone_id:
        if db_record and db_endpoint:
            out.append({"zone_id": private_zone_id, "name": f"{db_record}.{private_zone}", "type": "CNAME",
                        "values": [db_endpoint], "ttl": ttl, "alias": False})
        if service_records and alb:
            out += [dict(alias, zone_id=private_zone_id, name=f"{service}.{private_zone}") for service in lb_services or []]
        for record in private_records or []:
            out.append({"zone_id": private_zone_id, "name": record["fqdn"], "type": str(record["type"]).upper(),
                        "values": [str(v) for v in record["values"]], "ttl": record.get("ttl", ttl), "alias": False})
    return out


def uncovered_names(names, certificate_names):
    """The names a certificate (its domain and SANs, lower case) does not cover: a name is covered by itself or by
    a wildcard one label up (*.example.org covers app.example.org, not a.b.example.org)."""
    covered = {str(n).lower() for n in certificate_names or []}
    return [n for n in names or [] if n not in covered and re.sub(r"^[^.]+\.", "*.", n, count=1) not in covered]


def owned_zone_ids(tag_sets, project, env):
    """route53_info `tags` results (ResourceTagSets, flattened) -> ids of the zones tagged with this Project and
    Environment: the zones the environment created, which its teardown empties and deletes."""
    owned = []
    for tag_set in tag_sets or []:
        tags = {t.get("Key"): t.get("Value") for t in tag_set.get("Tags") or []}
        if tags.get("Project") == project and tags.get("Environment") == env:
            owned.append(_zone_id(tag_set["ResourceId"]))
    return owned


def shared_zone_ids(zones, public_zone, public_zone_id, owned):
    """The public zone the environment did not create (dns_public_zone, a zone the team owns), if any: by
    dns_public_zone_id when set, else the public zones of that name; never one of `owned`."""
    public_zone = _record_name(public_zone or "")
    if not public_zone:
        return []
    if public_zone_id:
        found = [_zone_id(public_zone_id)]
    else:
        found = [_zone_id(z["id"]) for z in zones or []
                 if _record_name(z.get("name", "")) == public_zone and not (z.get("config") or {}).get("private_zone")]
    return [z for z in found if z not in owned]


def records_to_delete(zone_records, owned, alb_records):
    """route53_info `record_sets` loop results -> the records the teardown deletes: every record (but NS and SOA)
    of an owned zone; in a shared zone only the alias records named in `alb_records`."""
    alb_records = {_record_name(n) for n in alb_records or []}
    out = []
    for result in zone_records or []:
        zone = result.get("item")
        for record in result.get("resource_record_sets") or []:
            if record.get("type") in ("NS", "SOA"):
                continue
            name = _record_name(record.get("name", ""))
            alias = record.get("alias_target")
            if zone not in owned and not (alias is not None and name in alb_records):
                continue
            out.append({
                "zone_id": zone,
                "name": name,
                "type": record["type"],
                "ttl": record.get("ttl"),
                "values": [alias["dns_name"]] if alias is not None else [r["value"] for r in record.get("resource_records") or []],
                "alias_target": alias or {},
            })
    return out


class FilterModule:
    def filters(self):
        return {
            "private_fqdn_records": private_fqdn_records,
            "dns_errors": dns_errors,
            "dns_records": dns_records,
            "uncovered_names": uncovered_names,
            "owned_zone_ids": owned_zone_ids,
            "shared_zone_ids": shared_zone_ids,
            "records_to_delete": records_to_delete,
        }
