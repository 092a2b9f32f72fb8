# -*- coding: utf-8 -*-
"""ecsops.platform.names: the naming contract (module_utils/names.py) as a filter, for playbooks/vars/common.yml."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.module_utils.names import names

LOOKUP_CONNECTION_KEYS = ("region", "endpoint_url", "access_key", "secret_key", "session_token", "profile")


def lookup_connection(aws_connection):
    """aws_connection (module_defaults for the AWS modules) -> the options an amazon.aws lookup plugin accepts.

    module_defaults do not reach lookups; every lookup passes `**ecsops_lookup_connection`.
    """
    return {k: v for k, v in (aws_connection or {}).items() if k in LOOKUP_CONNECTION_KEYS and v not in (None, "")}


class FilterModule:
    def filters(self):
        return {"names": names, "lookup_connection": lookup_connection}
