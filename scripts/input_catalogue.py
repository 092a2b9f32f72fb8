#!/usr/bin/env python3
"""Write docs/inputs.md: every inventory input, its type, default and range, and the cross-checks
preflight runs on it, taken from the sources preflight itself uses, so the catalogue cannot drift:

- types, choices, defaults and descriptions from each role's meta/argument_specs.yml;
- the checks from the messages preflight can print: roles/*/tasks/validate.yml,
  roles/preflight/tasks/*.yml (Jinja) and the validation filters (Python).

    .venv/bin/python scripts/input_catalogue.py          # rewrite docs/inputs.md
    .venv/bin/python scripts/input_catalogue.py --check  # exit 1 if docs/inputs.md is out of date
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "inputs.md"
FILTERS = ROOT / "collections/ansible_collections/ecsops/platform/plugins/filter"
# The filters whose messages preflight prints (validation.py: inventory and services; dns.py: dns_errors).
VALIDATION_PY = [FILTERS / "validation.py", FILTERS / "dns.py"]
# A message names what it checks first: "alb_idle_timeout: must be 1-4000 seconds".
_MESSAGE = re.compile(r"^(?:…: )?([a-z_][a-z0-9_]*(?:\[[^\]]*\])?(?:\.[a-z_][a-z0-9_]*)*)(?: …)?: ")
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")
# Placeholders of the Python messages, as the catalogue shows them.
_PLACEHOLDERS = {"p": "<service>: ", "label": "<service>: service_containers[i]", "service": "<service>",
                 "name": "<variable>", "var": "<variable>", "source": "tag", "key": "<key>",
                 "env_name": "<environment>"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def jinja_messages(text: str) -> list[str]:
    """The messages of `'' if <ok> else 'var: ' ~ value ~ ' must be ...'` style checks: a message starts
    at a literal that names a variable and goes on with the literals that continue its sentence."""
    messages: list[str] = []
    current: list[str] = []
    for literal in _LITERAL.findall(text):
        per_service = literal.startswith("\\1: ")  # regex_replace('^(.*)$', '\\1: ...'): the service name
        literal = literal.removeprefix("\\1: ")
        if per_service or re.match(r"^[a-z_][a-z0-9_.\[\]]*: ", literal) or literal.startswith("log group names"):
            if current:
                messages.append(" … ".join(current))
            current = [literal.strip()]
        elif current and len(literal.strip()) <= 1:
            continue  # a separator inside the value expression (split(':'), join(', '))
        elif current and re.match(r"^[ ,;.)(]", literal):
            current.append(literal.strip())
        elif current:
            messages.append(" … ".join(current))
            current = []
    if current:
        messages.append(" … ".join(current))
    return [" ".join(m.split()) for m in messages]


def _render(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                out.append(str(value.value))
            else:
                expr = ast.unparse(value.value)  # type: ignore[attr-defined]
                out.append(_PLACEHOLDERS.get(expr, "…"))
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _render(node.left) + _render(node.right)
    if isinstance(node, ast.Name):
        return _PLACEHOLDERS.get(node.id, "…")
    return "…"


def python_messages(source: str) -> list[str]:
    """Messages the validation filters append or return."""
    messages = []
    for node in ast.walk(ast.parse(source)):
        candidates: list[ast.AST] = []
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "append" and node.args:
            candidates.append(node.args[0])
        if isinstance(node, ast.Return) and isinstance(node.value, (ast.List, ast.ListComp)):
            candidates += node.value.elts if isinstance(node.value, ast.List) else [node.value.elt]
        for candidate in candidates:
            text = " ".join(_render(candidate).split())
            text = text.replace("<service>: ", "")
            if ": " in text:
                messages.append(text)
    return messages


def all_messages() -> list[str]:
    messages: list[str] = []
    for path in sorted(ROOT.glob("roles/*/tasks/validate.yml")) + sorted(ROOT.glob("roles/preflight/tasks/*.yml")):
        messages += jinja_messages(path.read_text())
    for path in VALIDATION_PY:
        messages += python_messages(path.read_text())
    seen: set[str] = set()
    return [m for m in messages if not (m in seen or seen.add(m))]


def _type(option: dict) -> str:
    kind = option.get("type", "str")
    if kind == "list" and option.get("elements"):
        kind = f"list of {option['elements']}"
    if option.get("choices"):
        kind += " (" + ", ".join(str(c) for c in option["choices"]) + ")"
    return kind


def _default(option: dict) -> str:
    if option.get("required"):
        return "required"
    dumped = yaml.safe_dump(option.get("default"), default_flow_style=True, width=10_000).strip()
    return f"`{dumped.removesuffix('...').strip()}`"


def _checks_for(name: str, messages: list[str]) -> list[str]:
    word = re.compile(rf"(?<![a-z0-9_]){re.escape(name)}(?![a-z0-9_])")
    return [m for m in messages if word.search(m)]


def render() -> str:
    messages = all_messages()
    out = [
        "# Inventory inputs",
        "",
        "Every input the playbooks read from an inventory, with its type, default, and the checks",
        "preflight runs on it before the first API call. Generated by `scripts/input_catalogue.py` from the",
        "roles' `meta/argument_specs.yml` (types, choices, defaults) and from the messages of the checks",
        "themselves (`roles/*/tasks/validate.yml`, `roles/preflight/tasks/`, the `ecsops.platform` validation",
        "filters); a test fails when this file is out of date. `…` stands for the offending value.",
        "",
        "Every failure stops the run in the preflight play with `Invalid inventory input: <message>` (or",
        "`Invalid service definition:` for a service host), naming the variable; types and choices are",
        "checked by `validate_argument_spec` first. Unknown `service_*` variables on a service host are",
        "refused (typos), as are unknown keys inside a container, load balancer or autoscaling dict.",
        "",
    ]
    used: set[str] = set()
    roles = sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/argument_specs.yml"))
    sections = []
    for role in roles:
        spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
        where = "each host of group `services` (host_vars)" if role.name == "service" else "group_vars/all"
        sections.append((role.name, where, spec["argument_specs"]["main"].get("options") or {}))
        if role.name == "preflight":
            # playbooks/teardown.yml's own inputs: the preflight role's teardown entry point checks them.
            sections.append(("teardown", "group_vars/all, or with -e for playbooks/teardown.yml",
                             spec["argument_specs"]["teardown"].get("options") or {}))
    for title, where, options in sorted(sections):
        if not options:
            continue
        out += [f"## {title}", "", f"Set in {where}.", "",
                "| Variable | Type | Default | Range and cross-checks |", "|---|---|---|---|"]
        for name, option in sorted(options.items()):
            checks = _checks_for(name, messages)
            used.update(checks)
            description = option.get("description", "")
            description = " ".join(description) if isinstance(description, list) else str(description)
            if option.get("options"):
                description += " Keys (argument_specs nested options, any other key refused): " + ", ".join(
                    f"{key} ({_type(sub)}{', required' if sub.get('required') else ''})"
                    for key, sub in sorted(option["options"].items())) + "."
            cell = _cell(description)
            if checks:
                cell += "<br>" + "<br>".join("• " + _cell(c) for c in checks)
            out.append(f"| `{name}` | {_cell(_type(option))} | {_cell(_default(option))} | {cell} |")
        out.append("")
    rest = [m for m in messages if m not in used]
    if rest:
        out += ["## Other checks", "", "Checks on keys inside service definitions and on the environment as a whole:", ""]
        out += [f"- {_cell(m)}" for m in rest]
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    wanted = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != wanted:
            print("docs/inputs.md is out of date (run scripts/input_catalogue.py)")
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(wanted)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
