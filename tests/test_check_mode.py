"""Plan mode (`site.yml --check --diff`) on the converged environment: reports nothing to change and
makes no mutating API call. (The empty-account plan runs after the teardown, in test_teardown.py.)"""

from __future__ import annotations

from typing import Any

from support import Emulator, playbook


def test_plan_on_the_converged_environment_changes_nothing(converged: dict[str, Any], emulator: Emulator) -> None:
    run = playbook(emulator, "site.yml", "--check", "--diff")
    assert run.rc == 0, run.tail()
    assert run.changed == 0, run.recap
    assert run.mutating == [], run.mutating


def test_plan_previews_a_redeploy_without_doing_it(converged: dict[str, Any], emulator: Emulator) -> None:
    ecs = emulator.client("ecs")
    before = ecs.describe_services(cluster="ecsops-local", services=["web"])["services"][0]["taskDefinition"]
    run = playbook(emulator, "site.yml", "--check", "--diff", "--tags", "deploy", "--limit", "web", "-e", "image_tag=9.9.9")
    assert run.rc == 0, run.tail()
    assert run.recap["web"]["changed"] == 1
    assert ":9.9.9" in run.output, "the diff shows the image that would be deployed"
    assert run.mutating == []
    assert ecs.describe_services(cluster="ecsops-local", services=["web"])["services"][0]["taskDefinition"] == before
