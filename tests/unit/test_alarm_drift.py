"""ecsops.platform.alarm_drift: which alarms the alarms role must hand to cloudwatch_metric_alarm. The current
alarms are what moto's DescribeAlarms returns after the same PutMetricAlarm the module makes, converted to snake
case as cloudwatch_metric_alarm_info returns them."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))
from ansible_collections.ecsops.platform.plugins.filter.aws_shapes import alarm_drift  # noqa: E402

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops"


def _wanted(name: str, threshold: float = 85.0) -> dict:
    return {"name": name, "namespace": "AWS/ECS", "metric_name": "CPUUtilization", "statistic": "Average",
            "comparison": "GreaterThanThreshold", "threshold": threshold, "period": 300, "evaluation_periods": 3,
            "unit": "Percent", "treat_missing_data": "missing",
            "dimensions": {"ClusterName": "ecsops-local", "ServiceName": "web"}, "description": "service web cpu above 85%"}


def _put(cw, alarm: dict, actions: list[str]) -> None:
    """The PutMetricAlarm call amazon.aws.cloudwatch_metric_alarm makes for these arguments."""
    cw.put_metric_alarm(AlarmName=alarm["name"], Namespace=alarm["namespace"], MetricName=alarm["metric_name"],
                        Statistic=alarm["statistic"], ComparisonOperator=alarm["comparison"], Threshold=alarm["threshold"],
                        Period=alarm["period"], EvaluationPeriods=alarm["evaluation_periods"], Unit=alarm["unit"],
                        Dimensions=[{"Name": k, "Value": v} for k, v in alarm["dimensions"].items()],
                        TreatMissingData=alarm["treat_missing_data"], AlarmDescription=alarm["description"],
                        AlarmActions=actions, OKActions=actions, InsufficientDataActions=[])


def _current(cw) -> list[dict]:
    return [camel_dict_to_snake_dict(a) for a in cw.describe_alarms(AlarmNamePrefix="ecsops-local-")["MetricAlarms"]]


@mock_aws
def test_converged_alarms_need_no_call_and_each_difference_is_noticed() -> None:
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    web, worker = _wanted("ecsops-local-web-cpu"), _wanted("ecsops-local-worker-cpu")
    assert [a["name"] for a in alarm_drift([web, worker], [], [TOPIC])] == [web["name"], worker["name"]]
    _put(cw, web, [TOPIC])
    _put(cw, worker, [TOPIC])
    current = _current(cw)
    assert alarm_drift([web, worker], current, [TOPIC]) == []
    # every compared argument, one at a time
    changes = [("threshold", 90.0), ("period", 60), ("evaluation_periods", 2), ("statistic", "Maximum"),
               ("comparison", "LessThanThreshold"), ("unit", "Count"), ("treat_missing_data", "notBreaching"),
               ("description", "other"), ("dimensions", {"ClusterName": "ecsops-local", "ServiceName": "api"}),
               ("metric_name", "MemoryUtilization"), ("namespace", "AWS/RDS")]
    for key, value in changes:
        assert alarm_drift([dict(web, **{key: value}), worker], current, [TOPIC]) == [dict(web, **{key: value})], key
    # the SNS topic added or removed
    assert [a["name"] for a in alarm_drift([web], current, [])] == [web["name"]]
    assert [a["name"] for a in alarm_drift([web], current, [TOPIC, TOPIC + "2"])] == [web["name"]]


@mock_aws
def test_alarms_without_actions_and_integral_thresholds() -> None:
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    rds = dict(_wanted("ecsops-local-rds-free-storage", 2147483648), metric_name="FreeStorageSpace",
               namespace="AWS/RDS", unit="Bytes", comparison="LessThanThreshold", statistic="Minimum",
               dimensions={"DBInstanceIdentifier": "ecsops-local"}, evaluation_periods=1)
    _put(cw, rds, [])
    assert alarm_drift([rds], _current(cw), []) == []
    assert alarm_drift([rds], _current(cw), None) == []


@mock_aws
def test_settings_made_outside_ansible_are_noticed() -> None:
    """cloudwatch_metric_alarm compares the whole alarm: DatapointsToAlarm set by hand makes it rewrite the alarm."""
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    web = _wanted("ecsops-local-web-cpu")
    _put(cw, web, [])
    assert alarm_drift([web], _current(cw), []) == []
    cw.put_metric_alarm(**{**_describe_as_put(cw, web["name"]), "DatapointsToAlarm": 2})
    assert alarm_drift([web], _current(cw), []) == [web]


def _describe_as_put(cw, name: str) -> dict:
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    keys = ("AlarmName", "Namespace", "MetricName", "Statistic", "ComparisonOperator", "Threshold", "Period",
            "EvaluationPeriods", "Unit", "Dimensions", "TreatMissingData", "AlarmDescription", "AlarmActions",
            "OKActions", "InsufficientDataActions")
    return {k: alarm[k] for k in keys if k in alarm}
