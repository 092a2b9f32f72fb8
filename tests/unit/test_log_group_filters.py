"""ecsops.platform log_groups filters (plugins/filter/log_groups.py): the wanted groups, and those already in shape."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.filter.log_groups import log_group_names, log_groups_in_shape
from ansible_collections.ecsops.platform.plugins.module_utils.names import names

NAMES = names("shop", "dev", "123456789012", services=["web", "worker", "api"])
HOSTVARS = {
    "web": {"service_containers": [{"name": "app"}, {"name": "proxy"}]},
    "worker": {"service_log_group_per_container": "yes", "service_containers": [{"name": "jobs"}, {"name": "beat"}]},
    "api": {"service_log_group_per_container": False, "service_containers": [{"name": "app"}]},
}


def test_one_group_per_service_unless_per_container():
    assert log_group_names(["worker", "web", "api"], HOSTVARS, NAMES) == [
        "/ecs/shop-dev/api", "/ecs/shop-dev/web", "/ecs/shop-dev/worker/jobs", "/ecs/shop-dev/worker/beat",
    ]
    assert log_group_names([], HOSTVARS, NAMES) == []
    assert log_group_names(None, HOSTVARS, NAMES) == []


TAGS = {"Project": "shop", "Environment": "dev"}


def test_in_shape_needs_the_retention_and_exactly_the_tags_plus_name():
    existing = [
        {"log_group_name": "/ecs/shop-dev/web", "retention_in_days": 30, "tags": dict(TAGS, Name="/ecs/shop-dev/web")},
        {"log_group_name": "/ecs/shop-dev/api", "retention_in_days": 14, "tags": dict(TAGS, Name="/ecs/shop-dev/api")},
        {"log_group_name": "/ecs/shop-dev/old", "retention_in_days": 30, "tags": TAGS},  # no Name tag
        {"log_group_name": "/ecs/shop-dev/x", "retention_in_days": 30,
         "tags": dict(TAGS, Name="/ecs/shop-dev/x", Extra="1")},  # a tag too many
        {"log_group_name": "/ecs/shop-dev/never"},  # no retention, no tags
    ]
    assert log_groups_in_shape(existing, "30", TAGS) == ["/ecs/shop-dev/web"]
    assert log_groups_in_shape(existing, 14, TAGS) == ["/ecs/shop-dev/api"]
    assert log_groups_in_shape([], 30, TAGS) == []
