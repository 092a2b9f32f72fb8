#!/usr/bin/env python3
"""Keep each role's README variable table in step with its meta/argument_specs.yml.

    .venv/bin/python scripts/role_docs.py          # rewrite the '## Variables' section of every roles/*/README.md
    .venv/bin/python scripts/role_docs.py --check  # exit 1 if any README is out of date (tests run this)

A README without one gets a title, the role's short description, and the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HEADER = "## Variables"


def _cell(value: object) -> str:
    text = " ".join(str(value).split())
    return text.replace("|", "\\|")


def _rows(options: dict, first: str) -> list[str]:
    rows = [f"| {first} | Type | Default | Description |", "|---|---|---|---|"]
    for name, option in sorted(options.items()):
        kind = option.get("type", "str")
        if kind == "list" and option.get("elements"):
            kind = f"list of {option['elements']}"
        if option.get("choices"):
            kind += " (" + ", ".join(str(c) for c in option["choices"]) + ")"
        shown = yaml.safe_dump(option.get("default"), default_flow_style=True).strip().removesuffix("...").strip()
        default = "required" if option.get("required") else f"`{shown}`"
        description = option.get("description", "")
        if isinstance(description, list):
            description = " ".join(description)
        rows.append(f"| `{name}` | {_cell(kind)} | {_cell(default)} | {_cell(description)} |")
    return rows


def _nested(options: dict, path: str = "") -> list[str]:
    """A sub-table per option with nested `options` (the keys argument_specs accepts, and nothing else)."""
    sections = []
    for name, option in sorted(options.items()):
        if option.get("options"):
            label = f"{path}.{name}" if path else name
            if option.get("elements") == "dict":
                label += "[]"
            sections.append(f"\n### Keys of `{label}`\n\n" + "\n".join(_rows(option["options"], "Key")) + "\n")
            sections.extend(_nested(option["options"], label))
    return sections


def table(spec: dict) -> str:
    options = spec["argument_specs"]["main"].get("options") or {}
    return HEADER + "\n\n" + "\n".join(_rows(options, "Variable")) + "\n" + "".join(_nested(options))


def render(role: Path) -> str:
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    readme = role / "README.md"
    section = table(spec)
    if readme.exists():
        text = readme.read_text()
        if HEADER in text:
            before, _, rest = text.partition(HEADER)
            after = ""
            next_header = rest.find("\n## ")
            if next_header != -1:
                after = rest[next_header + 1:]
            return before + section + ("\n" + after if after else "")
        return text.rstrip() + "\n\n" + section
    main = spec["argument_specs"]["main"]
    description = main.get("description") or []
    description = " ".join(description) if isinstance(description, list) else str(description)
    return f"# {role.name}\n\n{main.get('short_description', '')}.\n\n{description}\n\n{section}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for role in sorted((ROOT / "roles").iterdir()):
        if not (role / "meta" / "argument_specs.yml").exists():
            continue
        wanted = render(role)
        readme = role / "README.md"
        if not readme.exists() or readme.read_text() != wanted:
            stale.append(str(readme.relative_to(ROOT)))
            if not args.check:
                readme.write_text(wanted)
    if args.check and stale:
        print("out of date (run scripts/role_docs.py):", ", ".join(stale))
        return 1
    if not args.check:
        print(f"wrote {len(stale)} README(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
