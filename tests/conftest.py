"""Session fixtures: one emulator for the whole run, one converged environment shared by the
tests that only read it. Tests that need a clean account reset the emulator themselves and
are ordered after the readers (see pytest_collection_modifyitems)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from support import Emulator, Run, playbook, private_emulator

# Files whose tests change or empty the shared environment run last, in this order (teardown empties it,
# bad_input resets it); everything else only reads the shared converge.
_RESETTING = ["test_drift.py", "test_deploy.py", "test_awx.py", "test_teardown.py", "test_bad_input.py"]


# Files whose tests use the session emulator (fixtures `emulator`, `converged`, `ec2`): they share one converge and
# must run in one process, in the order above. Checked at collection (a test using those fixtures elsewhere fails).
SHARED_FILES = {"test_check_mode.py", "test_converge.py", "test_data.py", "test_emulator.py", "test_faults.py",
                "test_interrupted.py", "test_drift.py", "test_deploy.py", "test_awx.py", "test_teardown.py", "test_bad_input.py"}
_SHARED_FIXTURES = {"emulator", "converged", "ec2"}
# Other slow modules (their own emulator): started first by the second worker.
_SLOW_FIRST = ["test_examples.py", "test_localstack.py", "test_lock.py", "test_bench.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def key(item: pytest.Item) -> tuple[int, int]:
        name = Path(str(item.fspath)).name
        if name in SHARED_FILES:
            return 0, _RESETTING.index(name) + 1 if name in _RESETTING else 0
        return 1, _SLOW_FIRST.index(name) if name in _SLOW_FIRST else len(_SLOW_FIRST)

    for item in items:
        name = Path(str(item.fspath)).name
        if _SHARED_FIXTURES & set(getattr(item, "fixturenames", ())) and name not in SHARED_FILES:
            raise pytest.UsageError(f"{item.nodeid} uses the session emulator: add {name} to SHARED_FILES in tests/conftest.py")
    items.sort(key=key)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make pytest` runs two pytest-xdist workers. Every test of the session emulator goes to one worker as one
    work unit, in the order above; every other module (its own emulator, PostgreSQL or none) is a unit of its own
    that the other worker takes whole (a module fixture converges once); the app's tests share one PostgreSQL per
    worker: one unit. (--dist loadgroup cannot do this here: pytest 9 ignores the node id suffix it relies on.)"""
    from xdist.scheduler import LoadScopeScheduling

    if config.getvalue("dist") not in ("load", "loadscope"):
        return None  # an explicit other --dist mode (each, loadfile, worksteal) is left to pytest-xdist
    config.option.loadscopereorder = False  # keep the order above (xdist would sort the units by size)

    class SharedEmulatorScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.rsplit("/", 1)[-1] in SHARED_FILES:
                return "shared"
            if path.startswith("app/tests/"):
                return "app"
            return path

    return SharedEmulatorScheduling(config, log)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with private_emulator(tmp_path_factory, "emulator") as emu:
        yield emu


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
