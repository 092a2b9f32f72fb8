"""misc/pythonpath/sitecustomize.py of the collection: one botocore data loader per interpreter, shared by every
boto3 session, put on PYTHONPATH by ecsops.platform.mitogen_linear (ECSOPS_BOTO_CACHE=0 switches it off)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / "collections/ansible_collections/ecsops/platform/misc/pythonpath"
PROBE = r"""
import json, sys
heavy_at_start = sorted(m for m in ("botocore", "boto3") if m in sys.modules)
import boto3, botocore.session
sessions = [boto3.session.Session(region_name="eu-west-1") for _ in range(5)]
loaders = {id(s._loader) for s in sessions}
clients = [s.client("ecs", aws_access_key_id="a", aws_secret_access_key="b") for s in sessions[:2]]
print(json.dumps({
    "heavy_at_start": heavy_at_start,
    "shared_flag": getattr(botocore.session.create_loader, "_ecsops_shared", False),
    "loaders": len(loaders),
    "boto3_data_paths": sum(p.endswith("boto3/data") for p in sessions[0]._loader.search_paths),
    "service": [c.meta.service_model.service_name for c in clients],
    "operations_equal": clients[0].meta.service_model.operation_names == clients[1].meta.service_model.operation_names,
    "chained": getattr(sys.modules.get("builtins"), "_chained_sitecustomize", False),
}))
"""


def _probe(*pythonpath: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ECSOPS_BOTO_CACHE")}
    environ.update(env, PYTHONPATH=os.pathsep.join(str(p) for p in pythonpath))
    proc = subprocess.run([sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_sessions_share_one_loader_and_clients_still_work() -> None:
    got = _probe(CACHE_DIR)
    assert got["heavy_at_start"] == [], "the sitecustomize must not import botocore at startup"
    assert got["shared_flag"] is True
    assert got["loaders"] == 1
    assert got["boto3_data_paths"] == 1, "boto3's data path is appended once, not once per session"
    assert got["service"] == ["ecs", "ecs"] and got["operations_equal"]


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
def test_switch_off_gives_each_session_its_own_loader(value: str) -> None:
    got = _probe(CACHE_DIR, ECSOPS_BOTO_CACHE=value)
    assert got["shared_flag"] is False
    assert got["loaders"] == 5


def test_without_the_path_botocore_is_untouched() -> None:
    got = _probe()
    assert got["shared_flag"] is False and got["loaders"] == 5


def test_a_shadowed_sitecustomize_still_runs(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text("import builtins\nbuiltins._chained_sitecustomize = True\n")
    got = _probe(CACHE_DIR, tmp_path)
    assert got["chained"] is True
    assert got["loaders"] == 1
