"""Interrupted converges: ansible-playbook is killed (SIGKILL to its process group, as a cancelled AWX job
or a dropped SSH session does) after the VPC, in the middle of the platform play and during the deploy,
each time re-run from the state the previous kill left; a last run completes. The result equals an
uninterrupted converge (the session's, read only), with no duplicate of any kind. Own emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import Any, Iterator

import pytest

from inventory_counts import difference, duplicates, inventory
from support import Emulator, ROOT, VENV_BIN, playbook, private_emulator

# (name, TASK header that marks the point, seconds to let that task run before the kill)
KILL_POINTS = [
    ("after the VPC", "TASK [vpc : Create the public and private subnets]", 0.3),
    ("middle of the platform play", "TASK [ecs_capacity : Auto Scaling group over the private subnets", 0.8),
    ("during the deploy", "TASK [service : Register the task definition (only if it changed) and roll the service]", 2.5),
]


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with private_emulator(tmp_path_factory, "interrupted-emulator", env={"PYTHONUNBUFFERED": "1"}) as emulator:
        yield emulator


def run_until(emu: Emulator, marker: str, delay: float, timeout: float = 400) -> tuple[bool, str]:
    """Run site.yml; SIGKILL its process group ``delay`` s after ``marker`` appears. (killed?, output)."""
    proc = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", "inventories/local", "site.yml"], cwd=ROOT,
                            env=emu.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(marker):
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = False
    try:
        deadline = time.monotonic() + timeout
        while not seen.is_set() and proc.poll() is None and time.monotonic() < deadline:
            seen.wait(0.1)
        if seen.is_set():
            time.sleep(delay)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
    finally:
        if proc.poll() is None and not killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(10)
    return killed, "".join(lines)


def test_killed_converges_resume_without_duplicates(emu: Emulator, emulator: Emulator, converged: dict[str, Any]) -> None:
    emu.reset()
    ec2 = emu.client("ec2")
    for number, (point, marker, delay) in enumerate(KILL_POINTS):
        killed, output = run_until(emu, marker, delay)
        assert killed, f"run {number + 1} never reached {point}:\n{output[-3000:]}"
        if number:
            # the previous kill left the lock of a dead pid: taken over, not blocking
            assert "taking over the stale lock" in output, output[-3000:]
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": ["local"]}])["Vpcs"]
        assert len(vpcs) == 1, f"after the kill {point}: {len(vpcs)} VPCs"

    final = playbook(emu, "site.yml", record=False)
    assert final.rc == 0, final.tail()
    found = inventory(emu)
    assert duplicates(found) == {}
    assert difference(found, inventory(emulator)) == {}, "differs from the uninterrupted converge"
