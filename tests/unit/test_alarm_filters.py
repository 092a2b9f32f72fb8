"""ecsops.platform.alarm_definitions (plugins/filter/alarms.py): the alarms role's wanted alarms."""

from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.filter.alarms import alarm_definitions, load_balancer_dimension
from ansible_collections.ecsops.platform.plugins.module_utils.names import names

NAMES = names("shop", "dev", "123456789012", services=["web", "worker"])
SETTINGS = {"rds_cpu_percent": 80, "rds_free_storage_bytes": 2147483648, "alb_5xx_count": 10,
            "service_cpu_percent": 85, "service_memory_percent": "90", "evaluation_periods": "3"}
ALB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-dev/50dc6c495c0c9188"
TGS = [
    {"target_group_name": "shop-dev-worker",
     "target_group_arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-dev-worker/9a8b"},
    {"target_group_name": "shop-dev-web",
     "target_group_arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-dev-web/1c2d"},
]


def _by_name(alarms):
    return {a["name"]: a for a in alarms}


def test_everything_present_gives_every_alarm_in_order():
    alarms = alarm_definitions(NAMES, True, ALB, TGS, ["worker", "web"], SETTINGS)
    assert [a["name"] for a in alarms] == [
        NAMES["alarms"]["rds_cpu"], NAMES["alarms"]["rds_free_storage"], NAMES["alarms"]["alb_5xx"],
        "shop-dev-tg-shop-dev-web-unhealthy", "shop-dev-tg-shop-dev-worker-unhealthy",
        "shop-dev-web-cpu", "shop-dev-web-memory", "shop-dev-worker-cpu", "shop-dev-worker-memory",
    ]


def test_database_alarms():
    alarms = _by_name(alarm_definitions(NAMES, True, "", [], [], SETTINGS))
    cpu = alarms[NAMES["alarms"]["rds_cpu"]]
    assert cpu == {
        "name": NAMES["alarms"]["rds_cpu"], "namespace": "AWS/RDS", "metric_name": "CPUUtilization",
        "statistic": "Average", "comparison": "GreaterThanThreshold", "threshold": 80.0, "period": 300,
        "evaluation_periods": 3, "unit": "Percent", "treat_missing_data": "missing",
        "dimensions": {"DBInstanceIdentifier": NAMES["db_instance"]},
        "description": "shop-dev database CPU above 80%",
    }
    storage = alarms[NAMES["alarms"]["rds_free_storage"]]
    assert (storage["comparison"], storage["threshold"], storage["statistic"], storage["evaluation_periods"]) == \
        ("LessThanThreshold", 2147483648.0, "Minimum", 1)
    assert storage["description"] == "shop-dev database free storage below 2147483648 bytes"


def test_load_balancer_and_target_group_alarms_use_the_arn_suffixes():
    alarms = _by_name(alarm_definitions(NAMES, False, ALB, TGS, [], SETTINGS))
    assert set(alarms) == {NAMES["alarms"]["alb_5xx"], "shop-dev-tg-shop-dev-web-unhealthy", "shop-dev-tg-shop-dev-worker-unhealthy"}
    five_xx = alarms[NAMES["alarms"]["alb_5xx"]]
    assert five_xx["dimensions"] == {"LoadBalancer": "app/shop-dev/50dc6c495c0c9188"}
    assert (five_xx["threshold"], five_xx["treat_missing_data"], five_xx["statistic"]) == (10.0, "notBreaching", "Sum")
    web = alarms["shop-dev-tg-shop-dev-web-unhealthy"]
    assert web["dimensions"] == {"TargetGroup": "targetgroup/shop-dev-web/1c2d", "LoadBalancer": "app/shop-dev/50dc6c495c0c9188"}
    assert (web["period"], web["threshold"], web["evaluation_periods"]) == (60, 0.0, 3)
    assert web["description"] == "target group shop-dev-web has unhealthy targets"


def test_no_load_balancer_means_no_target_group_alarms_either():
    alarms = alarm_definitions(NAMES, False, "", TGS, [], SETTINGS)
    assert alarms == []


def test_service_alarms_use_the_cluster_and_service_dimensions():
    alarms = _by_name(alarm_definitions(NAMES, False, "", [], ["web"], SETTINGS))
    assert set(alarms) == {"shop-dev-web-cpu", "shop-dev-web-memory"}
    memory = alarms["shop-dev-web-memory"]
    assert memory["dimensions"] == {"ClusterName": NAMES["cluster"], "ServiceName": "web"}
    assert (memory["metric_name"], memory["threshold"]) == ("MemoryUtilization", 90.0)
    assert memory["description"] == "service web memory above 90%"
    assert alarms["shop-dev-web-cpu"]["description"] == "service web cpu above 85%"


def test_load_balancer_dimension():
    assert load_balancer_dimension(ALB) == "app/shop-dev/50dc6c495c0c9188"
    assert load_balancer_dimension("") == ""
    assert load_balancer_dimension(None) == ""
