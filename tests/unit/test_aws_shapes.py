"""Filters that reshape what one role created into what a later role would otherwise look up again."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

from ansible_collections.ecsops.platform.plugins.filter.aws_shapes import lb_target_groups  # noqa: E402

SERVICES = [
    {"service": "web", "target_group": "ecsops-local-web"},
    {"service": "api", "target_group": "ecsops-local-api"},
    {"service": "admin", "target_group": "ecsops-local-admin"},
]


def test_lb_target_groups_has_elb_target_group_info_shape_sorted_by_name() -> None:
    arns = {"web": "arn:tg/web", "api": "arn:tg/api", "admin": "arn:tg/admin"}
    assert lb_target_groups(SERVICES, arns) == [
        {"target_group_name": "ecsops-local-admin", "target_group_arn": "arn:tg/admin"},
        {"target_group_name": "ecsops-local-api", "target_group_arn": "arn:tg/api"},
        {"target_group_name": "ecsops-local-web", "target_group_arn": "arn:tg/web"},
    ]


def test_lb_target_groups_leaves_out_services_without_an_arn() -> None:
    assert lb_target_groups(SERVICES, {"web": "arn:tg/web", "api": ""}) == [
        {"target_group_name": "ecsops-local-web", "target_group_arn": "arn:tg/web"},
    ]
    assert lb_target_groups(SERVICES, None) == []
    assert lb_target_groups([], {"web": "arn:tg/web"}) == []
