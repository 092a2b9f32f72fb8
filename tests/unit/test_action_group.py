"""Every AWS module the project calls gets its connection from one action group.

Each play sets `module_defaults: group/ecsops.platform.aws: "{{ aws_connection }}"`; a module that is
not listed in the collection's meta/runtime.yml would silently run against the default endpoint and
region (real AWS from a laptop, or the wrong account), so a missing entry fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "collections/ansible_collections/ecsops/platform/meta/runtime.yml"
PREFIXES = ("amazon.aws.", "community.aws.", "ecsops.platform.")
# Action plugins that take no AWS connection options.
NOT_AWS = {"ecsops.platform.env_lock"}


def _yaml_files() -> Iterator[Path]:
    yield ROOT / "site.yml"
    for folder in ("roles", "playbooks", "molecule"):
        yield from (ROOT / folder).rglob("*.yml")


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _group() -> set[str]:
    entries = yaml.safe_load(RUNTIME.read_text())["action_groups"]["aws"]
    return {e if "." in e else f"ecsops.platform.{e}" for e in entries}


def test_every_aws_module_called_is_in_the_group() -> None:
    group = _group()
    used: dict[str, Path] = {}
    for path in _yaml_files():
        for key in _keys(yaml.safe_load(path.read_text())):
            if key.startswith(PREFIXES) and key.count(".") == 2 and key not in NOT_AWS:
                used.setdefault(key, path)
    assert len(used) > 40, sorted(used)  # the walk found the roles' tasks
    missing = {m: str(p.relative_to(ROOT)) for m, p in used.items() if m not in group}
    assert not missing, f"add to {RUNTIME.relative_to(ROOT)} action_groups.aws: {missing}"


def test_plays_use_the_one_group() -> None:
    for path in _yaml_files():
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, list):
            continue
        for play in doc:
            defaults = (play or {}).get("module_defaults") if isinstance(play, dict) else None
            if defaults:
                assert set(defaults) == {"group/ecsops.platform.aws"}, f"{path.relative_to(ROOT)}: {set(defaults)}"
