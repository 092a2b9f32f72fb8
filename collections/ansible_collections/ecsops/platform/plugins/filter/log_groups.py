# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The log_groups role's wanted groups and the existing ones already in shape (roles/log_groups/vars/main.yml).

Pure functions, unit tested (tests/unit/test_log_group_filters.py).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean


def log_group_names(services, hostvars, names):
    """One log group per service (inventory host of group `services`), or one per container when the host sets
    service_log_group_per_container; the names are the contract's (ecsops_names.services[<svc>].log_group)."""
    wanted = []
    for service in sorted(services or []):
        host = hostvars[service]
        base = names["services"][service]["log_group"]
        if boolean(host.get("service_log_group_per_container", False), strict=False):
            wanted.extend(f"{base}/{c['name']}" for c in host.get("service_containers") or [])
        else:
            wanted.append(base)
    return wanted


def log_groups_in_shape(existing, retention_days, tags):
    """cloudwatchlogs_log_group_info's log_groups -> the names whose retention and tags (plus Name = the group)
    already are the wanted ones: the role makes no module call for them. The KMS key is not compared: the module
    sets one only when it creates a group."""
    retention_days = int(retention_days)
    return [g["log_group_name"] for g in existing or []
            if g.get("retention_in_days") == retention_days
            and (g.get("tags") or {}) == dict(tags or {}, Name=g["log_group_name"])]


class FilterModule:
    def filters(self):
        return {
            "log_group_names": log_group_names,
            "log_groups_in_shape": log_groups_in_shape,
        }
