from __future__ import annotations

from ansible_collections.ecsops.platform.plugins.module_utils.ecs import (
    normalize_container,
    normalize_task_definition,
    tag_changes,
    task_definition_differences,
    td_family_revision,
)

AWS_RETURNED = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
    "family": "web",
    "revision": 3,
    "status": "ACTIVE",
    "networkMode": "awsvpc",
    "compatibilities": ["EC2", "FARGATE"],
    "requiresCompatibilities": ["EC2"],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
    "registeredAt": "2024-01-01T00:00:00Z",
    "registeredBy": "arn:aws:iam::123456789012:role/deployer",
    "placementConstraints": [],
    "volumes": [],
    "cpu": "256",
    "memory": "512",
    "enableFaultInjection": False,
    "containerDefinitions": [
        {
            "name": "web",
            "image": "repo/web:1",
            "cpu": 0,
            "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
            "secrets": [{"name": "S", "valueFrom": "arn:s"}],
            "mountPoints": [],
            "volumesFrom": [],
            "systemControls": [],
            "ulimits": [],
            "versionConsistency": "enabled",
            "healthCheck": {"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3},
        }
    ],
}

DESIRED = {
    "family": "web",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["EC2"],
    "cpu": 256,
    "memory": "512",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "repo/web:1",
            "portMappings": [{"containerPort": "8080"}],
            "environment": [{"name": "A", "value": 1}, {"name": "B", "value": "2"}],
            "secrets": [{"name": "S", "valueFrom": "arn:s"}],
            "healthCheck": {"command": ["CMD", "true"]},
        }
    ],
}


def test_aws_filled_defaults_compare_equal():
    assert normalize_task_definition(AWS_RETURNED) == normalize_task_definition(DESIRED)
    assert task_definition_differences(DESIRED, AWS_RETURNED) == []


def test_real_differences_are_reported():
    changed = dict(DESIRED, memory="1024")
    changed["containerDefinitions"] = [dict(DESIRED["containerDefinitions"][0], image="repo/web:2", essential=False)]
    assert task_definition_differences(changed, AWS_RETURNED) == [
        "containerDefinitions[web].essential",
        "containerDefinitions[web].image",
        "memory",
    ]


def test_bridge_host_port_zero_is_dynamic():
    a = normalize_container({"name": "a", "portMappings": [{"containerPort": 80, "hostPort": 0}]}, "bridge")
    b = normalize_container({"name": "a", "portMappings": [{"containerPort": 80}]}, "bridge")
    assert a == b
    fixed = normalize_container({"name": "a", "portMappings": [{"containerPort": 80, "hostPort": 8080}]}, "bridge")
    assert fixed != b


def test_tag_changes_protects_reserved_prefixes():
    current = {"a": "1", "old": "x", "ecsops:previous-task-definition": "web:1", "aws:cloudformation": "y"}
    to_set, to_remove = tag_changes(current, {"a": "2"}, purge=True)
    assert to_set == {"a": "2"} and to_remove == ["old"]
    assert tag_changes(current, None, purge=True) == ({}, [])


def test_family_revision_parsing():
    assert td_family_revision("arn:aws:ecs:us-east-1:1:task-definition/my-app:12") == ("my-app", 12)
    assert td_family_revision("my-app:3") == ("my-app", 3)
    assert td_family_revision("my-app") == ("my-app", None)
