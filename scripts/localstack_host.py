#!/usr/bin/env python3
"""Run LocalStack's open core on the host (no Docker), on a loopback port, for the layers it serves
free (EC2/VPC, IAM, CloudWatch Logs, SSM, S3, STS).

    scripts/localstack_host.py start  [--port 4566] [--state-dir .localstack] [--venv .venv-localstack]
    scripts/localstack_host.py stop   [--state-dir .localstack]
    scripts/localstack_host.py status [--state-dir .localstack]

The virtualenv comes from scripts/localstack_venv.sh (requirements-localstack.txt: localstack-core 4.9.2,
frozen). start installs the project's compatibility hook (molecule/localstack/init/ready.d) into the
state dir's init folder, starts `python -m localstack.runtime.main` in the background and returns when
the server is healthy and its init hooks have run. stop sends SIGTERM to its process group (LocalStack
takes about 8 s to shut down, and can hang doing so) and SIGKILL after 15 s. Standard library only: any Python 3 runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "molecule" / "localstack" / "init" / "ready.d"


def _get(url: str, timeout: float = 2) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read())


def _alive(pid: int) -> bool:
    """Running, and not a zombie (its parent, the launcher, may be gone and init slow to reap it)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as fd:
            return fd.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:  # no /proc (not Linux): kill(0) answered
        return True
    except OSError:
        return False


def _pid(state: Path) -> int | None:
    try:
        pid = int((state / "localstack.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _env(port: int, state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_"))}
    env.update(
        GATEWAY_LISTEN=f"127.0.0.1:{port}",
        # The default server ignores the host and listens on 0.0.0.0.
        GATEWAY_SERVER="hypercorn",
        # Else it believes it runs in a container and may start a DNS server on port 53.
        DNS_ADDRESS="0",
        OVERRIDE_IN_DOCKER="0",
        DISABLE_EVENTS="1",
        SKIP_SSL_CERT_DOWNLOAD="1",
        FILESYSTEM_ROOT=str(state / "fs"),
        LOCALSTACK_VOLUME_DIR=str(state / "volume"),
    )
    return env


def start(port: int, state: Path, venv: Path, timeout: float) -> int:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"ERROR: {python} not found; build it with scripts/localstack_venv.sh", file=sys.stderr)
        return 2
    state.mkdir(parents=True, exist_ok=True)
    if _pid(state):
        print(f"LocalStack already running (pid {_pid(state)})")
        return 0
    init = state / "fs" / "etc" / "localstack" / "init" / "ready.d"
    shutil.rmtree(init, ignore_errors=True)
    shutil.copytree(HOOKS, init, ignore=shutil.ignore_patterns("__pycache__"))
    log = open(state / "localstack.log", "w")  # noqa: SIM115 (handed to the child)
    proc = subprocess.Popen([str(python), "-m", "localstack.runtime.main"], env=_env(port, state),
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=state, start_new_session=True)
    (state / "localstack.pid").write_text(str(proc.pid))
    (state / "localstack.port").write_text(str(port))
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            print(f"ERROR: LocalStack exited with {proc.returncode}:\n"
                  + (state / "localstack.log").read_text()[-3000:], file=sys.stderr)
            return 1
        try:
            init_state = _get(f"{url}/_localstack/init/ready")
            if init_state.get("completed"):
                failed = [s for s in init_state.get("scripts", []) if s.get("state") != "SUCCESSFUL"]
                if failed:
                    print(f"ERROR: LocalStack init hooks failed: {failed}", file=sys.stderr)
                    stop(state)
                    return 1
                print(f"LocalStack {_get(f'{url}/_localstack/health').get('version')} ready on {url} "
                      f"(pid {proc.pid}, {time.monotonic() - started:.1f} s)")
                return 0
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    print(f"ERROR: LocalStack not ready on {url} after {timeout:.0f} s; log: {state / 'localstack.log'}", file=sys.stderr)
    stop(state)
    return 1


def stop(state: Path, timeout: float = 15) -> int:
    pid = _pid(state)
    if pid is None:
        print("LocalStack not running")
        return 0
    os.killpg(pid, signal.SIGTERM)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not _alive(pid):
            break
        try:  # reap it when start and stop ran in this one process
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    else:
        # Its shutdown usually takes about 8 s but can hang in "Stopping all services" (seen here).
        os.killpg(pid, signal.SIGKILL)
        print(f"LocalStack did not stop within {timeout:.0f} s of SIGTERM: killed")
    (state / "localstack.pid").unlink(missing_ok=True)
    print(f"LocalStack stopped ({time.monotonic() - started:.1f} s)")
    return 0


def status(state: Path) -> int:
    pid = _pid(state)
    if pid is None:
        print("LocalStack not running")
        return 1
    port = (state / "localstack.port").read_text().strip()
    print(f"LocalStack running (pid {pid}) on http://127.0.0.1:{port}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCALSTACK_PORT", "4566")))
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".localstack")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-localstack")
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    state = args.state_dir.resolve()
    if args.command == "start":
        return start(args.port, state, args.venv.resolve(), args.timeout)
    if args.command == "stop":
        return stop(state)
    return status(state)


if __name__ == "__main__":
    sys.exit(main())
