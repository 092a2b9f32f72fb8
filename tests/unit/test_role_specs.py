"""The plays skip a role's automatic argument_specs validation (rolespec_validate: false) only where the preflight
play has validated the same options already: these tests fail when that stops being true."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Roles whose argument_specs preflight validates without an include of its own: preflight's own (its first task),
# the service hosts' (tasks/validate.yml in the preflight play), env_lock's (taken in the preflight play).
VALIDATED_ELSEWHERE = {"preflight", "service", "env_lock"}


def _specs(role: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def _without_description(option: dict) -> dict:
    return {k: v for k, v in option.items() if k != "description"}


def _includes(node: object):
    """Every include_role / import_role argument dict in a loaded playbook or task file."""
    if isinstance(node, dict):
        for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
            if isinstance(node.get(key), dict):
                yield node[key]
        for value in node.values():
            yield from _includes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _includes(item)


def _unvalidated_includes() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted([*ROOT.glob("playbooks/*.yml"), *ROOT.glob("roles/*/tasks/*.yml")]):
        for args in _includes(yaml.safe_load(path.read_text())):
            if args.get("rolespec_validate") is False:
                found.append((path.relative_to(ROOT).as_posix(), str(args["name"]), args.get("tasks_from", "main")))
    return found


def test_skipped_validations_are_of_roles_that_preflight_validates() -> None:
    preflight_roles = set(yaml.safe_load((ROOT / "roles/preflight/defaults/main.yml").read_text())["preflight_roles"])
    found = _unvalidated_includes()
    assert len(found) >= 17, found  # the 13 account-play roles, rds ready, preflight, the deploy, the release
    for where, role, _entry in found:
        if role.startswith("{{"):
            assert where == "roles/preflight/tasks/roles.yml", (where, role)  # the loop over preflight's own roles
            continue
        assert role in preflight_roles | VALIDATED_ELSEWHERE, (where, role)


def test_entry_points_included_without_validation_take_a_subset_of_main() -> None:
    """A skipped `validate`, `ready` or `release` validation is safe only when preflight validated the same options,
    with the same definitions, through the role's `main` entry point."""
    entries = {(role, entry) for _where, role, entry in _unvalidated_includes() if entry != "main" and not role.startswith("{{")}
    entries |= {(path.parts[-3], "validate") for path in ROOT.glob("roles/*/tasks/validate.yml")}
    checked = 0
    for role, entry in sorted(entries):
        specs = _specs(role)
        if entry not in specs:
            continue  # no argument_specs entry: nothing was skipped
        main = specs["main"]["options"]
        for name, option in (specs[entry].get("options") or {}).items():
            assert name in main, f"{role} {entry}: {name} is not a main option, and nothing else validates it"
            assert _without_description(option) == _without_description(main[name]), f"{role} {entry}: {name} differs from main"
        checked += 1
    assert checked >= 9, entries
