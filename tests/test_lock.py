"""The environment lock (roles/env_lock, ecsops.platform.env_lock): two runs of the same environment at
once never both change it. Own emulator; lock files in a temporary ECSOPS_LOCK_DIR."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from support import Emulator, ROOT, VENV_BIN, base_env, free_port, playbook, private_emulator


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    locks = str(tmp_path_factory.mktemp("locks"))
    with private_emulator(tmp_path_factory, "lock-emulator", env={"ECSOPS_LOCK_DIR": locks}) as emulator:
        yield emulator


def lock_dir(emu: Emulator) -> Path:
    return Path(emu.env["ECSOPS_LOCK_DIR"])


def lock_path(emu: Emulator) -> Path:
    return lock_dir(emu) / f"ecsops-local-123456789012-eu-west-1@127.0.0.1_{emu.port}.lock"


def start_ticks(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def write_lock(emu: Emulator, **holder: Any) -> None:
    lock_dir(emu).mkdir(parents=True, exist_ok=True)
    record = {"pid": 1, "pid_start": None, "host": socket.gethostname(), "user": "someone", "epoch": time.time(),
              "started": "2026-11-23T10:00:00Z", "playbooks": ["site.yml"]}
    record.update(holder)
    lock_path(emu).write_text(json.dumps(record))


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_second_run_fails_fast_and_changes_nothing(emu: Emulator) -> None:
    emu.reset()
    first = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", "inventories/local", "site.yml", "--tags", "network"],
                             cwd=ROOT, env=emu.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not lock_path(emu).exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
        assert lock_path(emu).exists(), "the first run never took the lock"
        holder = json.loads(lock_path(emu).read_text())
        assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()
        assert holder["playbooks"] == ["site.yml"]

        # a redeploy of the same environment while the network converge runs
        second = playbook(emu, "site.yml", "--tags", "deploy", record=False)
        assert first.poll() is None, "the first run ended before the second one was tried: the test proves nothing"
        assert second.rc != 0
        assert f"environment ecsops-local-123456789012-eu-west-1@127.0.0.1_{emu.port} is being changed by" in second.output
        assert f"pid {first.pid} (site.yml)" in second.output
        assert "Nothing was changed by this run" in second.output
        # it stopped at the lock: no account check (the first API call), no layer ran, nothing changed
        assert "Ask AWS which account" not in second.output
        assert "PLAY [Deploy" not in second.output
        assert second.changed == 0
        assert second.seconds < 30, second.seconds
        assert json.loads(lock_path(emu).read_text())["pid"] == first.pid  # untouched
        out, _ = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, 9)
            first.wait()
    assert first.returncode == 0, out[-3000:]
    assert not lock_path(emu).exists(), "the lock outlived the run that held it"
    vpcs = emu.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": ["local"]}])["Vpcs"]
    assert len(vpcs) == 1


def test_stale_lock_of_a_dead_run_is_taken_over(emu: Emulator) -> None:
    gone = dead_pid()
    write_lock(emu, pid=gone)
    run = playbook(emu, "site.yml", "--tags", "always", record=False)
    assert run.rc == 0, run.tail()
    assert "taking over the stale lock" in run.output and f"pid {gone}) is gone" in run.output
    assert not lock_path(emu).exists()


def test_reused_pid_is_stale_too(emu: Emulator) -> None:
    # a live pid whose start time differs from the recorded one is another process: stale
    write_lock(emu, pid=os.getpid(), pid_start="1")
    run = playbook(emu, "site.yml", "--tags", "always", record=False)
    assert run.rc == 0, run.tail()
    assert "taking over the stale lock" in run.output


def test_lock_of_a_live_run_blocks_even_for_rollback_and_teardown(emu: Emulator) -> None:
    write_lock(emu, pid=os.getpid(), pid_start=start_ticks(os.getpid()))
    try:
        for args in (["playbooks/rollback.yml"], ["playbooks/teardown.yml", "-e", "confirm_teardown=local"]):
            run = playbook(emu, *args, record=False)
            assert run.rc != 0, args
            assert "is being changed by someone@" in run.output and f"pid {os.getpid()} (site.yml)" in run.output, run.tail()
        assert emu.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": ["local"]}])["Vpcs"]
    finally:
        lock_path(emu).unlink()


def test_lock_from_another_host_is_stale_only_when_old(emu: Emulator) -> None:
    write_lock(emu, host="elsewhere", pid=4242, epoch=time.time() - 60)
    try:
        run = playbook(emu, "site.yml", "--tags", "always", record=False)
        assert run.rc != 0 and "someone@elsewhere pid 4242 (site.yml) since 2026-11-23T10:00:00Z (1 min ago)" in run.output
    finally:
        lock_path(emu).unlink()
    write_lock(emu, host="elsewhere", pid=4242, epoch=time.time() - 5 * 3600)
    run = playbook(emu, "site.yml", "--tags", "always", record=False)
    assert run.rc == 0, run.tail()
    assert "taken on another host 300 min ago" in run.output
    assert not lock_path(emu).exists()


def test_check_mode_neither_takes_nor_is_stopped_by_the_lock(emu: Emulator) -> None:
    write_lock(emu, pid=os.getpid(), pid_start=start_ticks(os.getpid()))
    try:
        before = lock_path(emu).read_text()
        run = playbook(emu, "site.yml", "--check", "--tags", "network")
        assert run.rc == 0, run.tail()
        assert "this plan may see a change in progress" in run.output
        assert run.mutating == []
        assert lock_path(emu).read_text() == before
    finally:
        lock_path(emu).unlink()
    run = playbook(emu, "site.yml", "--check", "--tags", "always", record=False)
    assert run.rc == 0 and not lock_path(emu).exists()


def test_lock_tasks_run_with_any_tag() -> None:
    env = base_env(free_port(), Path("/tmp"))
    for tags in ("deploy", "network", "scaling"):
        listed = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "inventories/local", "site.yml", "--list-tasks",
                                 "--tags", tags], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert "Take the environment lock" in listed.stdout and "Release the environment lock" in listed.stdout, tags
