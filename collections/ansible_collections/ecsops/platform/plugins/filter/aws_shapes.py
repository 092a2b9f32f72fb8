# -*- coding: utf-8 -*-
"""Filters that compare AWS describe results with the wanted shape, so a role calls a
mutating module only when something differs (amazon.aws.autoscaling_group calls
UpdateAutoScalingGroup and DisableMetricsCollection on every run, even when nothing changed)."""

from __future__ import annotations


def asg_tag(item):
    """{'key', 'value'} (dict2items) -> autoscaling_group tag entry propagated at launch."""
    return {item["key"]: item["value"], "propagate_at_launch": True}


def asg_drift(current, wanted):
    """Names of the settings in which the described ASG differs from `wanted`.

    `current` is one autoscaling_group_info result (snake_case) or {} when the group is
    missing (-> ['missing']). Desired capacity is deliberately not compared: after
    creation the capacity provider's managed scaling owns it.
    """
    if not current:
        return ["missing"]
    drift = []
    lt = current.get("launch_template") or {}
    if lt.get("launch_template_name") != wanted["launch_template_name"] or lt.get("version") != "$Latest":
        drift.append("launch_template")
    for key in ("min_size", "max_size"):
        if int(current.get(key, -1)) != int(wanted[key]):
            drift.append(key)
    subnets = sorted(s for s in (current.get("vpc_zone_identifier") or "").split(",") if s)
    if subnets != sorted(wanted["subnets"]):
        drift.append("vpc_zone_identifier")
    period = current.get("health_check_grace_period", current.get("health_check_period"))
    if period is None or int(period) != int(wanted["health_check_period"]):
        drift.append("health_check_period")
    protected = current.get("new_instances_protected_from_scale_in")
    if protected is not None and bool(protected) != bool(wanted["protected_from_scale_in"]):
        drift.append("protected_from_scale_in")
    tags = {t.get("key"): (t.get("value"), t.get("propagate_at_launch")) for t in current.get("tags") or []}
    want_tags = {k: (str(v), True) for k, v in wanted["tags"].items()}
    if tags != want_tags:
        drift.append("tags")
    return drift


def alarm_drift(wanted, current, actions=None):
    """The alarms of `wanted` (cloudwatch_metric_alarm arguments) that are missing from `current` or differ from it.
    `actions`: the alarm and OK actions every alarm gets (the SNS topic, or none).

    `current` is cloudwatch_metric_alarm_info's metric_alarms (snake_case). Every argument the alarms role passes
    is compared, so an alarm is left out only when cloudwatch_metric_alarm would report it unchanged: the role then
    calls the module for these alone, not once per alarm on every run.
    """
    by_name = {a.get("alarm_name"): a for a in current or []}
    out = []
    for alarm in wanted:
        have = by_name.get(alarm["name"])
        if have is None or _alarm_differs(dict(alarm, alarm_actions=actions or [], ok_actions=actions or []), have):
            out.append(alarm)
    return out


def _alarm_differs(alarm, have):
    dimensions = {d.get("name"): str(d.get("value")) for d in have.get("dimensions") or []}
    pairs = [
        (alarm["namespace"], have.get("namespace")),
        (alarm["metric_name"], have.get("metric_name")),
        (alarm["statistic"], have.get("statistic")),
        (alarm["comparison"], have.get("comparison_operator")),
        (float(alarm["threshold"]), float(have.get("threshold", "nan"))),
        (int(alarm["period"]), int(have.get("period") or 0)),
        (int(alarm["evaluation_periods"]), int(have.get("evaluation_periods") or 0)),
        (alarm.get("unit"), have.get("unit")),
        ({k: str(v) for k, v in (alarm.get("dimensions") or {}).items()}, dimensions),
        (alarm.get("treat_missing_data", "missing"), have.get("treat_missing_data") or "missing"),
        (alarm.get("description", ""), have.get("alarm_description") or ""),
        (list(alarm.get("alarm_actions") or []), list(have.get("alarm_actions") or [])),
        (list(alarm.get("ok_actions") or []), list(have.get("ok_actions") or [])),
        ([], list(have.get("insufficient_data_actions") or [])),
        # Set outside Ansible, these make cloudwatch_metric_alarm rewrite the alarm without them: so must we.
        (None, have.get("datapoints_to_alarm")),
        (None, have.get("evaluate_low_sample_count_percentile")),
        (None, have.get("extended_statistic")),
        (None, have.get("metrics") or None),
        (None, have.get("threshold_metric_id")),
    ]
    return any(a != b for a, b in pairs)


def lb_services(services, hostvars, names, defaults):
    """Services (inventory hosts) that declare service_load_balancer -> target group / rule specs.

    names: ecsops_names (the naming contract) holds each service's target group name.
    """
    result = []
    for service in services:
        lb = hostvars[service].get("service_load_balancer")
        if not lb:
            continue
        spec = dict(defaults)
        spec.update({k: v for k, v in lb.items() if k in defaults})
        spec.update(
            service=service,
            target_group=names["services"][service]["target_group"],
            port=int(lb.get("container_port", 80)),
            health_check_path=lb.get("health_check_path", "/healthz"),
            success_codes=str(lb.get("success_codes", "200")),
            path_patterns=list(lb.get("path_patterns") or []),
            host_headers=list(lb.get("host_headers") or []),
            priority=int(lb.get("priority", 100)),
        )
        result.append(spec)
    return sorted(result, key=lambda s: s["priority"])


def _rules(services, tg_arns):
    rules = []
    for spec in services:
        arn = tg_arns.get(spec["service"])
        if not arn:
            continue
        conditions = []
        if spec["path_patterns"]:
            conditions.append({"Field": "path-pattern", "Values": spec["path_patterns"]})
        if spec["host_headers"]:
            conditions.append({"Field": "host-header", "Values": spec["host_headers"]})
        rules.append({
            "Conditions": conditions,
            "Priority": str(spec["priority"]),
            "Actions": [{"TargetGroupArn": arn, "Type": "forward"}],
        })
    return rules


def alb_listeners(services, tg_arns, certificate_arn, ssl_policy):
    """The listeners of elb_application_lb: HTTP (rules, or a redirect to HTTPS when a certificate is given)."""
    not_found = [{
        "Type": "fixed-response",
        "FixedResponseConfig": {"ContentType": "text/plain", "MessageBody": "not found", "StatusCode": "404"},
    }]
    rules = _rules(services, tg_arns)
    if not certificate_arn:
        return [{"Protocol": "HTTP", "Port": 80, "DefaultActions": not_found, "Rules": rules}]
    redirect = [{
        "Type": "redirect",
        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                           "Query": "#{query}", "StatusCode": "HTTP_301"},
    }]
    return [
        {"Protocol": "HTTP", "Port": 80, "DefaultActions": redirect, "Rules": []},
        {"Protocol": "HTTPS", "Port": 443, "SslPolicy": ssl_policy,
         "Certificates": [{"CertificateArn": certificate_arn}], "DefaultActions": not_found, "Rules": rules},
    ]


def service_target_group_arns(services, target_groups):
    """lb_services specs + elb_target_group_info results -> {service: target group ARN} (for plans)."""
    by_name = {tg.get("target_group_name"): tg.get("target_group_arn") for tg in target_groups or []}
    return {s["service"]: by_name[s["target_group"]] for s in services if by_name.get(s["target_group"])}


def lb_target_groups(services, tg_arns):
    """lb_services specs + {service: target group ARN} -> the target groups in elb_target_group_info's shape
    (target_group_name, target_group_arn), sorted by name; services without an ARN are left out."""
    groups = [{"target_group_name": s["target_group"], "target_group_arn": tg_arns[s["service"]]}
              for s in services if (tg_arns or {}).get(s["service"])]
    return sorted(groups, key=lambda g: g["target_group_name"])


class FilterModule:
    def filters(self):
        return {
            "asg_tag": asg_tag,
            "asg_drift": asg_drift,
            "alarm_drift": alarm_drift,
            "lb_services": lb_services,
            "alb_listeners": alb_listeners,
            "service_target_group_arns": service_target_group_arns,
            "lb_target_groups": lb_target_groups,
        }
