"""The emulator server process: moto + compatibility fixes + simulation, on one port.

Run as ``python -m emulator.server --port P`` (the CLI does this, detached). It

1. sets moto's environment (managed IAM policies, request recording) before importing moto,
2. applies :mod:`emulator.patches`,
3. serves moto's WSGI application (``DomainDispatcherApplication(create_backend_app)``, as
   ``moto_server`` does) through a small middleware that adds the ``/_emulator/*``
   endpoints and serialises requests with one lock shared with the simulation thread,
4. starts the simulation thread (:mod:`emulator.sim`).

Endpoints added to moto's:

* ``GET  /_emulator/health`` -> 200 ``{"status": "ok", "pid", "port", "moto", "fixes", "sim"}``
* ``GET  /_emulator/sim``    -> simulation status (registered instances, deployments, tasks)
* ``POST /_emulator/sim``    -> body ``{"enabled": false|true}`` pauses/resumes the simulation;
  ``{"tick": true}`` runs one tick synchronously (handy in tests)
* ``GET  /_emulator/faults`` -> fault mode configuration and what it injected (:mod:`emulator.faults`)
* ``POST /_emulator/faults`` -> body ``{"rate": 0.1, "seed": 7, "kinds": [...], "actions": "regex"}``
  reconfigures the fault mode (``{"rate": 0}`` switches it off)
* ``POST /moto-api/reset``   -> moto's reset, then the simulation's reset as well

The fault mode is off unless ``EMULATOR_FAULT_RATE`` (``start --faults``) or the endpoint sets a rate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from typing import Any, Callable, Iterable

DEFAULT_HOST = "127.0.0.1"

SERVER_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ENABLE_RECORDING": "True",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


class EmulatorApp:
    """WSGI middleware: ``/_emulator/*`` endpoints, a request lock, reset propagation."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], sim: Any, lock: threading.RLock,
                 port: int, fixes: list[str], faults: Any = None) -> None:
        from emulator.faults import FaultInjector

        self.moto_app = moto_app
        self.sim = sim
        self.lock = lock
        self.port = port
        self.fixes = fixes
        self.faults = faults if faults is not None else FaultInjector()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_emulator/"):
            return self._emulator(path, method, environ, start_response)
        if self.faults.enabled:
            return self.faults.wrap(environ, start_response, self._backend)
        return self._backend(environ, start_response)

    def _backend(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        with self.lock:
            # Collect the whole body under the lock: moto builds it eagerly anyway.
            body = list(self.moto_app(environ, start_response))
            if path.rstrip("/") == "/moto-api/reset" and method == "POST":
                self.sim.reset()
        return body

    def _emulator(self, path: str, method: str, environ: dict[str, Any],
                  start_response: Callable[..., Any]) -> Iterable[bytes]:
        import moto

        if path == "/_emulator/health" and method == "GET":
            return _json(start_response, 200, {
                "status": "ok",
                "pid": os.getpid(),
                "port": self.port,
                "moto": moto.__version__,
                "fixes": self.fixes,
                "sim": {"enabled": self.sim.enabled},
                "faults": {"enabled": self.faults.enabled, "rate": self.faults.rate, "seed": self.faults.seed},
            })
        if path == "/_emulator/faults" and method == "GET":
            return _json(start_response, 200, self.faults.status())
        if path == "/_emulator/faults" and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                self.faults.configure(**json.loads(environ["wsgi.input"].read(length) or b"{}"))
            except (ValueError, KeyError, TypeError, re.error) as exc:
                return _json(start_response, 400, {"error": f"invalid fault settings: {exc}"})
            return _json(start_response, 200, self.faults.status())
        if path == "/_emulator/sim" and method == "GET":
            return _json(start_response, 200, self.sim.status())
        if path == "/_emulator/sim" and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                payload = json.loads(environ["wsgi.input"].read(length) or b"{}")
            except (ValueError, KeyError) as exc:
                return _json(start_response, 400, {"error": f"invalid JSON body: {exc}"})
            if "enabled" in payload:
                self.sim.enabled = bool(payload["enabled"])
            if payload.get("tick"):
                with self.lock:
                    self.sim.tick()
            return _json(start_response, 200, self.sim.status())
        return _json(start_response, 404, {"error": f"no such endpoint: {method} {path}"})


def _json(start_response: Callable[..., Any], status: int, payload: Any) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found"}
    body = json.dumps(payload, default=str).encode()
    start_response(f"{status} {reasons[status]}", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def build_app(port: int) -> tuple[EmulatorApp, Any]:
    """Import moto, apply the fixes, install the simulation; return (app, simulation)."""
    for key, value in SERVER_ENV.items():
        os.environ.setdefault(key, value)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from emulator import patches, sim

    fixes = patches.apply_all()
    lock = threading.RLock()
    simulation = sim.Simulation(lock)
    simulation.install_hooks()
    from emulator.faults import FaultInjector

    app = EmulatorApp(DomainDispatcherApplication(create_backend_app), simulation, lock, port, fixes,
                      FaultInjector.from_env())
    return app, simulation


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "5055")))
    parser.add_argument("--host", default=DEFAULT_HOST)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs from it

    app, simulation = build_app(args.port)
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)

    def shutdown(signum: int, _frame: Any) -> None:
        simulation.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    simulation.start()
    print(f"emulator: serving moto on http://{args.host}:{args.port} (pid {os.getpid()})", flush=True)
    server.serve_forever()
    print("emulator: stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
