"""Session fixtures: one emulator for the whole run, one converged environment shared by the
tests that only read it. Tests that need a clean account reset the emulator themselves and
are ordered after the readers (see pytest_collection_modifyitems)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from support import Emulator, Run, base_env, free_port, playbook

# Files whose tests change or empty the shared environment run last, in this order (teardown empties it,
# bad_input resets it); everything else only reads the shared converge.
_RESETTING = ["test_deploy.py", "test_awx.py", "test_teardown.py", "test_bad_input.py"]


# Fixtures of the session emulator: a test that uses one runs in the `shared` group (below).
_SHARED_FIXTURES = {"emulator", "converged", "ec2"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def key(item: pytest.Item) -> int:
        name = Path(str(item.fspath)).name
        return _RESETTING.index(name) + 1 if name in _RESETTING else 0

    items.sort(key=key)
    # `make pytest` runs two pytest-xdist workers with --dist loadgroup: every test of the session emulator (the
    # shared converge, the resetting files after the readers, in the order above) runs in one worker, in one
    # group; every other test module has its own emulator, PostgreSQL or none and is a group of its own, so
    # the other worker takes those modules whole (a module fixture converges once). The app's tests share one
    # PostgreSQL server per worker: one group.
    for item in items:
        path = Path(str(item.fspath))
        if _SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            group = "shared"
        elif "app" in path.parts and "tests" in path.parts and path.parts.index("app") < path.parts.index("tests"):
            group = "app"
        else:
            group = path.stem
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    port = free_port()
    emu = Emulator(port, base_env(port, tmp_path_factory.mktemp("emulator")))
    started = emu.cli("start")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield emu
    finally:
        emu.cli("stop")


@pytest.fixture(scope="session")
def converged(emulator: Emulator) -> dict[str, Any]:
    """site.yml on an empty account, then again (the no-change re-run); the state is shared."""
    emulator.reset()
    first = playbook(emulator, "site.yml")
    assert first.rc == 0, first.tail()
    second = playbook(emulator, "site.yml")
    assert second.rc == 0, second.tail()
    return {"first": first, "second": second}


@pytest.fixture()
def ec2(emulator: Emulator) -> Any:
    return emulator.client("ec2")


def recap_line(run: Run) -> str:
    return str(run.recap)
