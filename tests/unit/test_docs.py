"""Generated documentation stays in step with its sources: role READMEs and docs/inputs.md are
rebuilt from meta/argument_specs.yml and the preflight checks; a stale file fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import input_catalogue  # noqa: E402


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, f"scripts/{script}", "--check"], cwd=ROOT, capture_output=True, text=True)


def test_role_readmes_match_argument_specs() -> None:
    result = _run("role_docs.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_input_catalogue_is_current() -> None:
    result = _run("input_catalogue.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_catalogue_lists_every_input_of_every_role() -> None:
    text = (ROOT / "docs" / "inputs.md").read_text()
    for spec_file in ROOT.glob("roles/*/meta/argument_specs.yml"):
        options = yaml.safe_load(spec_file.read_text())["argument_specs"]["main"].get("options") or {}
        for name in options:
            assert f"| `{name}` |" in text, f"{name} ({spec_file.parent.parent.name}) missing from docs/inputs.md"


def test_checks_are_extracted_from_jinja_and_python() -> None:
    jinja = input_catalogue.jinja_messages(
        "- \"{{ '' if 1 <= x_timeout | int <= 9 else 'x_timeout: must be 1-9 seconds' }}\"\n"
        "- \"{{ '' if x_arn is match('^arn:') else 'x_arn: ' ~ x_arn ~ ' is not an ARN' }}\"\n")
    assert jinja == ["x_timeout: must be 1-9 seconds", "x_arn: … is not an ARN"]
    python = input_catalogue.python_messages(
        "def f(errors, label, n):\n"
        "    errors.append(f\"{label}.port: {n} must be 1-65535\")\n"
        "    return [f\"{name}: '{n}' is not a CIDR\"]\n")
    assert sorted(python) == ["<variable>: '…' is not a CIDR", "service_containers[i].port: … must be 1-65535"]
    # The catalogue holds the real checks, e.g. a range and a cross-check between two inputs.
    text = (ROOT / "docs" / "inputs.md").read_text()
    assert "alb_health_check_timeout: must be 2-120 seconds and less than alb_health_check_interval" in text
    assert "is a moving tag" in text
