# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the dns role's teardown (tasks/absent.yml): which zones and records are the environment's.

Pure functions over route53_info results, unit tested (tests/unit/test_dns_filters.py).
"""

from __future__ import annotations

ZONE_PREFIX = "/hostedzone/"


def _zone_id(value):
    value = str(value)
    return value[len(ZONE_PREFIX):] if value.startswith(ZONE_PREFIX) else value


def _record_name(name):
    return str(name).lower().rstrip(".")


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
            "owned_zone_ids": owned_zone_ids,
            "shared_zone_ids": shared_zone_ids,
            "records_to_delete": records_to_delete,
        }
