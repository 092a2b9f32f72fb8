"""Schema migrations: ``python -m ecsapp.migrate``.

ECS runs this as a one-off task before the service rolls.  It is:

* versioned - applied versions are recorded in ``schema_migrations``;
* idempotent - already-applied versions are skipped, so re-running is a no-op;
* safe to run concurrently - a session-level PostgreSQL advisory lock
  serialises runs (the second run waits, then finds nothing to do);
* transactional - each migration and its ``schema_migrations`` row commit
  together, or not at all;
* signal aware - SIGTERM/SIGINT cancel the running statement, roll back the
  current migration, release the lock and exit with code 143 (128 + SIGTERM).

Exit codes: 0 success, 1 migration/database failure, 2 configuration error,
3 timed out waiting for the lock, 143 interrupted by a signal.  Every outcome
is one JSON log line on stdout.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from dataclasses import dataclass

import psycopg

from .config import ConfigError, DatabaseConfig, load_db_config, load_log_level
from .logging_setup import configure_logging, register_secrets

log = logging.getLogger("ecsapp.migrate")

# Arbitrary but fixed 64-bit key: every ecsapp migrate run contends on it.
ADVISORY_LOCK_KEY = 0x65637361_70706D67  # "ecsappmg"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_LOCK_TIMEOUT = 3
EXIT_INTERRUPTED = 128 + signal.SIGTERM  # 143


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "create_notes",
        """
        CREATE TABLE notes (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            text        text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2000),
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """,
    ),
    Migration(
        2,
        "notes_created_at_index",
        "CREATE INDEX notes_created_at_id_idx ON notes (created_at DESC, id DESC)",
    ),
)

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


class Interrupted(SystemExit):
    """Raised from the signal handler.

    Subclassing SystemExit matters: psycopg cancels an in-flight query on the
    server when a wait is interrupted by KeyboardInterrupt or SystemExit.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(EXIT_INTERRUPTED)
        self.signum = signum


class LockTimeout(Exception):
    pass


def _raise_interrupted(signum, _frame):
    # One interrupt is enough: ignore repeats so the rollback / cancel /
    # unlock cleanup that the first one triggers can finish.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGINT, _raise_interrupted)


def _acquire_lock(conn: psycopg.Connection, wait_seconds: float, poll: float = 0.2) -> None:
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()[0]
        if got:
            if announced:
                log.info("migration lock acquired")
            return
        if not announced:
            log.info("waiting for migration lock (another migrate run holds it)")
            announced = True
        if time.monotonic() >= deadline:
            raise LockTimeout(f"could not acquire migration lock within {wait_seconds:g}s")
        time.sleep(poll)


def run_migrations(
    cfg: DatabaseConfig,
    migrations: tuple[Migration, ...] | None = None,
    lock_wait_seconds: float = 300.0,
) -> list[int]:
    """Apply pending migrations; return the versions applied by this run."""
    if migrations is None:
        migrations = MIGRATIONS
    applied_now: list[int] = []
    with psycopg.connect(autocommit=True, **cfg.connect_kwargs()) as conn:
        # DDL may legitimately take longer than the app's per-request timeout.
        conn.execute("SET statement_timeout = 0")
        _acquire_lock(conn, lock_wait_seconds)
        try:
            conn.execute(_CREATE_MIGRATIONS_TABLE)
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            known = {m.version for m in migrations}
            newer = sorted(done - known)
            if newer:
                log.warning(
                    "database has migrations this release does not know (newer release?)",
                    extra={"unknown_versions": newer},
                )
            for m in sorted(migrations, key=lambda m: m.version):
                if m.version in done:
                    continue
                log.info("applying migration", extra={"version": m.version, "migration": m.name})
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(m.sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (m.version, m.name),
                    )
                applied_now.append(m.version)
                log.info(
                    "migration applied",
                    extra={
                        "version": m.version,
                        "migration": m.name,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
        finally:
            if not conn.closed and not conn.broken:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
                except psycopg.Error:
                    pass  # closing the session releases it anyway
    return applied_now


def main(argv: list[str] | None = None, environ=None) -> int:
    env = os.environ if environ is None else environ
    try:
        level = load_log_level(env)
    except ConfigError:
        level = "INFO"
    configure_logging(level)
    install_signal_handlers()
    started = time.perf_counter()
    try:
        level = load_log_level(env)
        cfg = load_db_config(env)
        register_secrets(cfg.secrets())
        lock_wait = float(env.get("MIGRATE_LOCK_WAIT_SECONDS") or 300)
        log.info("migration starting", extra={"database": cfg.describe()})
        applied = run_migrations(cfg, lock_wait_seconds=lock_wait)
    except ConfigError as exc:
        log.error("migration failed", extra={"error": "ConfigError", "variable": exc.variable, "detail": str(exc)})
        return EXIT_CONFIG
    except ValueError as exc:
        log.error("migration failed", extra={"error": "ConfigError", "variable": "MIGRATE_LOCK_WAIT_SECONDS", "detail": str(exc)})
        return EXIT_CONFIG
    except Interrupted as exc:
        log.warning(
            "migration interrupted by signal; current migration rolled back",
            extra={"signal": signal.Signals(exc.signum).name},
        )
        return EXIT_INTERRUPTED
    except LockTimeout as exc:
        log.error("migration failed", extra={"error": "LockTimeout", "detail": str(exc)})
        return EXIT_LOCK_TIMEOUT
    except Exception as exc:
        log.error(
            "migration failed",
            extra={"error": exc.__class__.__name__, "detail": str(exc)[:2000]},
        )
        return EXIT_FAILED
    log.info(
        "migrations complete",
        extra={
            "applied": applied,
            "latest_version": max(m.version for m in MIGRATIONS),
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
