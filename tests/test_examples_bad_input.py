"""Bad input in the example inventories (DNS, pinned tags) fails in preflight, before the first API call,
naming the variable. Own emulator (its recorder proves no call was made)."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from support import Emulator, playbook, private_emulator

# (id, example inventory, extra vars, text the message must contain)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("latest-tag-in-the-prod-api", "s3_json_api", {"image_tag": "latest"},
     "'latest' is a moving tag; prod requires a pinned tag"),
    ("alias-outside-the-public-zone", "django_nginx", {"dns_alb_records": ["app.other.org"]},
     "dns_alb_records: app.other.org is not inside dns_public_zone calibrate.example.org"),
    ("malformed-zone-name", "poc_private_dns", {"dns_private_zone": "my org.local"},
     "dns_private_zone: my org.local is not a DNS zone name"),
    ("private-record-type", "poc_private_dns", {"dns_private_records": [{"name": "cache", "type": "PTRX", "values": ["x"]}]},
     "dns_private_records[0].type: PTRX is not one of"),
    ("create-and-zone-id", "django_nginx", {"dns_public_zone_id": "Z0123456789ABC"},
     "dns_public_zone_create: true together with dns_public_zone_id"),
]


@pytest.fixture(scope="module")
def bare_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with private_emulator(tmp_path_factory, "examples-bad-input", reset=True) as emu:
        yield emu


@pytest.mark.parametrize("example, extra, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_example_bad_input_fails_in_preflight_before_any_api_call(bare_emulator: Emulator, example: str,
                                                                   extra: dict[str, Any], expected: str) -> None:
    run = playbook(bare_emulator, "site.yml", "-e", json.dumps(extra), inventory=f"inventories/examples/{example}")
    assert run.rc != 0, run.tail()
    assert expected in run.output, run.tail()
    assert "Traceback" not in run.output
    assert run.calls == [], f"API calls were made: {run.calls}"


def test_a_deploy_only_run_still_refuses_latest_in_prod(bare_emulator: Emulator) -> None:
    """`--tags deploy` validates less (the environment's identity, the services, routing), but the services fully."""
    run = playbook(bare_emulator, "site.yml", "--tags", "deploy", "-e", "image_tag=latest",
                   inventory="inventories/examples/s3_json_api")
    assert run.rc != 0, run.tail()
    assert "'latest' is a moving tag; prod requires a pinned tag" in run.output, run.tail()
    assert run.calls == [], f"API calls were made: {run.calls}"
