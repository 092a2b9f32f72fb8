# -*- coding: utf-8 -*-

# Copyright: ecsops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The alarms role's wanted CloudWatch alarms (roles/alarms/vars/main.yml), as cloudwatch_metric_alarm arguments.

A pure function of what the run knows (the database, the load balancer and its target groups, the services) and
the role's thresholds; unit tested (tests/unit/test_alarm_filters.py). aws_shapes.alarm_drift then keeps only the
ones that differ from what CloudWatch has.
"""

from __future__ import annotations


def _alarm(name, namespace, metric, statistic, comparison, threshold, period, periods, unit, missing, dimensions,
           description):
    return {
        "name": name,
        "namespace": namespace,
        "metric_name": metric,
        "statistic": statistic,
        "comparison": comparison,
        "threshold": float(threshold),
        "period": period,
        "evaluation_periods": int(periods),
        "unit": unit,
        "treat_missing_data": missing,
        "dimensions": dimensions,
        "description": description,
    }


def load_balancer_dimension(arn):
    """An ALB ARN -> its CloudWatch LoadBalancer dimension value, app/<name>/<id> ('' for none)."""
    return str(arn).rsplit(":loadbalancer/", maxsplit=1)[-1] if arn else ""


def alarm_definitions(names, rds_present, load_balancer_arn, target_groups, services, settings):
    """The environment's alarms.

    - names: ecsops_names (the naming contract: alarm names, the database, the cluster, each service's prefix);
    - rds_present: whether the database exists (its two alarms);
    - load_balancer_arn: the ALB's ARN, '' when there is none (then no ALB or target group alarm);
    - target_groups: elb_target_group_info-shaped dicts (target_group_name, target_group_arn);
    - services: the ECS service names (inventory hosts of group `services`);
    - settings: the role's thresholds, keys rds_cpu_percent, rds_free_storage_bytes, alb_5xx_count,
      service_cpu_percent, service_memory_percent, evaluation_periods.
    """
    periods = settings["evaluation_periods"]
    prefix = names["prefix"]
    alarms = []
    if rds_present:
        db = {"DBInstanceIdentifier": names["db_instance"]}
        cpu, storage = settings["rds_cpu_percent"], settings["rds_free_storage_bytes"]
        alarms.append(_alarm(names["alarms"]["rds_cpu"], "AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold",
                             cpu, 300, periods, "Percent", "missing", db, f"{prefix} database CPU above {cpu}%"))
        alarms.append(_alarm(names["alarms"]["rds_free_storage"], "AWS/RDS", "FreeStorageSpace", "Minimum",
                             "LessThanThreshold", storage, 300, 1, "Bytes", "missing", db,
                             f"{prefix} database free storage below {storage} bytes"))
    dimension = load_balancer_dimension(load_balancer_arn)
    if dimension:
        count = settings["alb_5xx_count"]
        alarms.append(_alarm(names["alarms"]["alb_5xx"], "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum",
                             "GreaterThanThreshold", count, 300, 1, "Count", "notBreaching", {"LoadBalancer": dimension},
                             f"{prefix} load balancer returned more than {count} 5XX in 5 minutes"))
        for tg in sorted(target_groups or [], key=lambda t: t["target_group_name"]):
            alarms.append(_alarm(names["target_group_alarm_format"] % tg["target_group_name"], "AWS/ApplicationELB",
                                 "UnHealthyHostCount", "Maximum", "GreaterThanThreshold", 0.0, 60, periods, "Count",
                                 "notBreaching",
                                 {"TargetGroup": tg["target_group_arn"].split(":")[-1], "LoadBalancer": dimension},
                                 f"target group {tg['target_group_name']} has unhealthy targets"))
    for service in sorted(services or []):
        for short, metric, threshold in (("cpu", "CPUUtilization", settings["service_cpu_percent"]),
                                         ("memory", "MemoryUtilization", settings["service_memory_percent"])):
            alarms.append(_alarm(names["services"][service]["alarm_prefix"] + short, "AWS/ECS", metric, "Average",
                                 "GreaterThanThreshold", threshold, 300, periods, "Percent", "missing",
                                 {"ClusterName": names["cluster"], "ServiceName": service},
                                 f"service {service} {short} above {threshold}%"))
    return alarms


class FilterModule:
    def filters(self):
        return {
            "alarm_definitions": alarm_definitions,
            "load_balancer_dimension": load_balancer_dimension,
        }
