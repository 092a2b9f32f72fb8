"""Background worker: ``python -m ecsapp.worker`` (the ``worker`` ECS service).

Every ``WORKER_INTERVAL`` seconds (default 30, 1-86400) it does one unit of
work against PostgreSQL, in one short transaction:

* counts the rows of ``notes`` (``null`` while the migration has not created
  the table yet: the worker does not depend on the migration task's timing);
* records a heartbeat row in ``worker_heartbeats`` (worker id, notes count)
  and prunes heartbeats older than ``WORKER_HEARTBEAT_RETENTION_DAYS``
  (default 7).

``worker_heartbeats`` is created by the worker itself, idempotently
(``CREATE TABLE IF NOT EXISTS`` under a transaction-level advisory lock, so
several worker tasks starting at once do not race), the first time an
iteration reaches the database.  It belongs to the worker, not to the web
schema; moving it into ``ecsapp.migrate`` as a versioned migration later is
compatible (the ``IF NOT EXISTS`` then finds it).

Every iteration logs one JSON line.  A database error is logged and retried
at the next interval (a worker outlives a database failover); it never exits
the process.

Signals: SIGTERM/SIGINT (ECS stops a task with SIGTERM, then SIGKILL after
``stopTimeout``) end the process with exit code 0 within a second: during the
sleep the wait returns at once; during a database call the handler raises,
psycopg cancels the statement on the server, the transaction rolls back.

Exit codes: 0 stopped by a signal (or ``--once`` succeeded), 1 ``--once``
iteration failed, 2 configuration error (one JSON line naming the variable).
The database password and ``DATABASE_URL`` never reach a log line.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Mapping

import psycopg

from .config import ConfigError, DatabaseConfig, _int, load_db_config, load_log_level
from .logging_setup import configure_logging, register_secrets

log = logging.getLogger("ecsapp.worker")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2

DEFAULT_INTERVAL = 30
# Fixed key for the schema-creation lock ("ecswrkhb").
SCHEMA_LOCK_KEY = 0x65637377_726B6862

CREATE_HEARTBEATS = """
CREATE TABLE IF NOT EXISTS worker_heartbeats (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id    text NOT NULL,
    notes_count  bigint,
    beat_at      timestamptz NOT NULL DEFAULT now()
)
"""
CREATE_HEARTBEATS_INDEX = (
    "CREATE INDEX IF NOT EXISTS worker_heartbeats_beat_at_idx ON worker_heartbeats (beat_at)"
)


class Stopped(SystemExit):
    """Raised from the signal handler while a database call is in flight.

    A SystemExit subclass: psycopg cancels the running statement on the
    server when its wait is interrupted by one.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(EXIT_OK)
        self.signum = signum


class WorkerConfig:
    __slots__ = ("db", "interval", "retention_days", "worker_id", "log_level")

    def __init__(self, db: DatabaseConfig, interval: int, retention_days: int, worker_id: str, log_level: str) -> None:
        self.db = db
        self.interval = interval
        self.retention_days = retention_days
        self.worker_id = worker_id
        self.log_level = log_level


def load_worker_config(env: Mapping[str, str] | None = None) -> WorkerConfig:
    env = os.environ if env is None else env
    level = load_log_level(env)
    interval = _int(env, "WORKER_INTERVAL", DEFAULT_INTERVAL, 1, 86400)
    retention = _int(env, "WORKER_HEARTBEAT_RETENTION_DAYS", 7, 1, 3650)
    db = load_db_config(env)
    worker_id = (env.get("WORKER_ID") or "").strip() or f"{socket.gethostname()}:{os.getpid()}"
    return WorkerConfig(db, interval, retention, worker_id[:200], level)


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create worker_heartbeats if missing; safe when several workers start at once."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        conn.execute(CREATE_HEARTBEATS)
        conn.execute(CREATE_HEARTBEATS_INDEX)


def run_once(cfg: WorkerConfig, schema_ready: bool = False) -> dict:
    """One unit of work; returns what it did (also the fields of the log line)."""
    started = time.perf_counter()
    with psycopg.connect(autocommit=True, **cfg.db.connect_kwargs()) as conn:
        if not schema_ready:
            ensure_schema(conn)
        with conn.transaction():
            has_notes = conn.execute("SELECT to_regclass('notes') IS NOT NULL").fetchone()[0]
            notes = conn.execute("SELECT count(*) FROM notes").fetchone()[0] if has_notes else None
            heartbeat_id = conn.execute(
                "INSERT INTO worker_heartbeats (worker_id, notes_count) VALUES (%s, %s) RETURNING id",
                (cfg.worker_id, notes),
            ).fetchone()[0]
            pruned = conn.execute(
                "DELETE FROM worker_heartbeats WHERE beat_at < now() - make_interval(days => %s)",
                (cfg.retention_days,),
            ).rowcount
    return {
        "heartbeat_id": heartbeat_id,
        "notes": notes,
        "pruned": pruned,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }


class Worker:
    def __init__(self, cfg: WorkerConfig) -> None:
        self.cfg = cfg
        self.stop = threading.Event()
        self.signum: int | None = None
        self._busy = False
        self._schema_ready = False

    def handle_signal(self, signum, _frame) -> None:
        self.signum = signum
        self.stop.set()
        if self._busy:
            # Abort the database call now; ignore repeats so cleanup can finish.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self._busy = False
            raise Stopped(signum)

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.handle_signal)
        signal.signal(signal.SIGINT, self.handle_signal)

    def iteration(self) -> bool:
        """Run one unit of work and log it; False when it failed."""
        self._busy = True
        try:
            result = run_once(self.cfg, schema_ready=self._schema_ready)
        except Stopped:
            raise
        except Exception as exc:  # a database error: log it, try again next interval
            self._busy = False
            self._schema_ready = False
            log.error(
                "worker iteration failed",
                extra={"error": exc.__class__.__name__, "detail": str(exc)[:2000], "worker_id": self.cfg.worker_id},
            )
            return False
        self._busy = False
        self._schema_ready = True
        log.info("worker heartbeat", extra={"worker_id": self.cfg.worker_id, **result})
        return True

    def run(self, once: bool = False) -> int:
        log.info(
            "worker starting",
            extra={"database": self.cfg.db.describe(), "interval_s": self.cfg.interval,
                   "worker_id": self.cfg.worker_id, "once": once},
        )
        try:
            while not self.stop.is_set():
                ok = self.iteration()
                if once:
                    return EXIT_OK if ok else EXIT_FAILED
                # Event.wait returns as soon as the signal handler sets the event.
                self.stop.wait(self.cfg.interval)
        except Stopped:
            pass
        name = signal.Signals(self.signum).name if self.signum else None
        log.info("worker stopped", extra={"signal": name, "worker_id": self.cfg.worker_id})
        return EXIT_OK


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecsapp.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="run one iteration and exit (0 ok, 1 failed)")
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        level = load_log_level(env)
    except ConfigError:
        level = "INFO"
    configure_logging(level)
    try:
        cfg = load_worker_config(env)
    except ConfigError as exc:
        log.error("worker configuration error",
                  extra={"error": "ConfigError", "variable": exc.variable, "detail": str(exc)})
        return EXIT_CONFIG
    register_secrets(cfg.db.secrets())
    worker = Worker(cfg)
    worker.install_signal_handlers()
    return worker.run(once=args.once)


if __name__ == "__main__":
    sys.exit(main())
