"""Command line: start, stop, restart, reset, status and url of the local emulator.

    python -m emulator start   [--port P]   # idempotent; detached; waits until healthy
    python -m emulator stop    [--port P]   # SIGTERM, then SIGKILL; no-op if not running
    python -m emulator restart [--port P]
    python -m emulator reset   [--port P]   # POST /moto-api/reset (also resets the simulation)
    python -m emulator status  [--port P]   # exit 0 if running, 3 if stopped
    python -m emulator url     [--port P]   # http://127.0.0.1:P
    python -m emulator start --faults 0.1 [--fault-seed 7] [--fault-kinds throttle,500,503] [--fault-actions RE]
    python -m emulator faults  [--port P] [--faults R ...]  # show, or change at run time (--faults 0: off)

The port comes from ``--port``, else ``EMULATOR_PORT``, else 5055; the server listens on
127.0.0.1 only. State lives in ``<project>/.emulator/`` (``EMULATOR_STATE_DIR`` overrides):
``moto-<port>.pid``, ``moto-<port>.log`` and the request recording ``moto-<port>.recording``.
Fault mode (throttling and 5xx answers): see :mod:`emulator.faults`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
DEFAULT_PORT = 5055
START_TIMEOUT = 30.0
STOP_GRACE = 5.0
EXIT_STOPPED = 3
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    return Path(os.environ.get("EMULATOR_STATE_DIR", PROJECT_ROOT / ".emulator"))


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def pid_file(port: int) -> Path:
    return state_dir() / f"moto-{port}.pid"


def log_file(port: int) -> Path:
    return state_dir() / f"moto-{port}.log"


def recording_file(port: int) -> Path:
    return state_dir() / f"moto-{port}.recording"


def health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """The emulator's health JSON, or None if nothing (or not the emulator) answers."""
    try:
        with urllib.request.urlopen(f"{url(port)}/_emulator/health", timeout=timeout) as resp:
            data = json.loads(resp.read())
            return data if data.get("status") == "ok" else None
    except (OSError, ValueError):
        return None


def _read_pid(port: int) -> int | None:
    try:
        return int(pid_file(port).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _log_tail(port: int, lines: int = 30) -> str:
    try:
        return "\n".join(log_file(port).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def server_env(port: int, faults: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the server process (``faults``: EMULATOR_FAULT_* settings to pass on)."""
    env = dict(os.environ)
    env.update(faults or {})
    env.update(
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        MOTO_ENABLE_RECORDING="True",
        MOTO_RECORDER_FILEPATH=str(recording_file(port)),
        MOTO_PORT=str(port),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=env.get("AWS_DEFAULT_REGION", "eu-west-1"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL"):
        env.pop(key, None)
    return env


def start(port: int, faults: dict[str, str] | None = None) -> int:
    info = health(port)
    if info:
        print(f"emulator already running at {url(port)} (pid {info['pid']})")
        if faults:
            print("emulator: --faults ignored by a running emulator; use `python -m emulator faults`",
                  file=sys.stderr)
        return 0
    state_dir().mkdir(parents=True, exist_ok=True)
    old = _read_pid(port)
    if old and _alive(old):
        print(f"emulator: pid {old} from {pid_file(port)} is alive but not healthy; stopping it")
        stop(port)
    with open(log_file(port), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator.server", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=server_env(port, faults),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file(port).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"emulator: server exited with {proc.returncode}; log tail:\n{_log_tail(port)}",
                  file=sys.stderr)
            pid_file(port).unlink(missing_ok=True)
            return 1
        info = health(port, timeout=0.5)
        if info and info.get("pid") == proc.pid:
            print(f"emulator started at {url(port)} (pid {proc.pid})")
            return 0
        time.sleep(0.1)
    print(f"emulator: not healthy after {START_TIMEOUT:.0f}s; log tail:\n{_log_tail(port)}",
          file=sys.stderr)
    stop(port)
    return 1


def stop(port: int) -> int:
    pid = _read_pid(port)
    if pid is None:
        info = health(port)
        pid = info["pid"] if info else None
    if pid is None or not _alive(pid):
        pid_file(port).unlink(missing_ok=True)
        print(f"emulator not running on port {port}")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
    pid_file(port).unlink(missing_ok=True)
    print(f"emulator stopped (pid {pid})")
    return 0


def reset(port: int) -> int:
    try:
        req = urllib.request.Request(f"{url(port)}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass
    except (OSError, urllib.error.URLError) as exc:
        print(f"emulator: reset failed at {url(port)}: {exc}", file=sys.stderr)
        return 1
    print(f"emulator at {url(port)} reset")
    return 0


def fault_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The fault options given on the command line, as /_emulator/faults settings."""
    settings: dict[str, Any] = {}
    if args.faults is not None:
        settings["rate"] = args.faults
    if args.fault_seed is not None:
        settings["seed"] = args.fault_seed
    if args.fault_kinds:
        settings["kinds"] = [k for k in args.fault_kinds.split(",") if k]
    if args.fault_actions is not None:
        settings["actions"] = args.fault_actions
    return settings


def fault_env(settings: dict[str, Any]) -> dict[str, str]:
    names = {"rate": "EMULATOR_FAULT_RATE", "seed": "EMULATOR_FAULT_SEED", "kinds": "EMULATOR_FAULT_KINDS",
             "actions": "EMULATOR_FAULT_ACTIONS"}
    return {names[k]: ",".join(v) if isinstance(v, list) else str(v) for k, v in settings.items()}


def faults(port: int, settings: dict[str, Any]) -> int:
    """Show the fault mode of a running emulator, or change it (``settings`` non-empty)."""
    try:
        req = urllib.request.Request(
            f"{url(port)}/_emulator/faults", method="POST" if settings else "GET",
            data=json.dumps(settings).encode() if settings else None, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        print(f"emulator: {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"emulator: no emulator at {url(port)}: {exc}", file=sys.stderr)
        return 1
    data.pop("injected", None)
    print(json.dumps(data, sort_keys=True))
    return 0


def status(port: int) -> int:
    info = health(port)
    if info:
        print(f"running {url(port)} pid {info['pid']}")
        return 0
    print(f"stopped {url(port)}")
    return EXIT_STOPPED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Local AWS emulator (moto + fixes + simulation).")
    parser.add_argument("command", choices=["start", "stop", "restart", "reset", "status", "url", "faults"])
    parser.add_argument("--port", type=int, default=None, help=f"default: $EMULATOR_PORT or {DEFAULT_PORT}")
    group = parser.add_argument_group("fault mode (start, restart, faults)")
    group.add_argument("--faults", type=float, default=None, metavar="RATE",
                       help="share of AWS requests answered with a throttling error or 5xx (0-1; 0: off)")
    group.add_argument("--fault-seed", type=int, default=None, metavar="N", help="seed of the fault generator")
    group.add_argument("--fault-kinds", default=None, metavar="K,K",
                       help="some of throttle,500,503,after,denied (default throttle,500,503)")
    group.add_argument("--fault-actions", default=None, metavar="REGEX", help="fault only operations matching it")
    args = parser.parse_args(argv)
    port = args.port or int(os.environ.get("EMULATOR_PORT", DEFAULT_PORT))
    settings = fault_settings(args)
    if args.command == "url":
        print(url(port))
        return 0
    if args.command == "faults":
        return faults(port, settings)
    if args.command == "restart":
        stop(port)
        return start(port, fault_env(settings))
    if args.command == "start":
        return start(port, fault_env(settings))
    return {"stop": stop, "reset": reset, "status": status}[args.command](port)
