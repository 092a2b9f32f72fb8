import signal
import subprocess
import sys
import time

import pytest
from appsupport import APP_DIR, APP_PASSWORD, json_lines, subprocess_env, wait_for

from ecsapp.config import load_db_config
from ecsapp.migrate import ADVISORY_LOCK_KEY, MIGRATIONS, run_migrations

LATEST = max(m.version for m in MIGRATIONS)


def versions(pg_server, db):
    with pg_server.admin_conn(db) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def table_exists(pg_server, db, name):
    with pg_server.admin_conn(db) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def start_migrate(pg_server, db, extra=None, code=None, out=None):
    env = subprocess_env({**pg_server.env(db), "MIGRATE_LOCK_WAIT_SECONDS": "20", **(extra or {})})
    cmd = [sys.executable, "-m", "ecsapp.migrate"] if code is None else [sys.executable, "-c", code]
    return subprocess.Popen(cmd, cwd=APP_DIR, env=env, stdout=out or subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run_migrate(pg_server, db, extra=None):
    proc = start_migrate(pg_server, db, extra)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_migrate_fresh_database_then_idempotent(pg_server, fresh_db):
    rc, out, err = run_migrate(pg_server, fresh_db)
    assert rc == 0, out + err
    assert err == ""
    lines = json_lines(out)
    applied = [x["version"] for x in lines if x["msg"] == "migration applied"]
    assert applied == [m.version for m in MIGRATIONS]
    assert lines[-1]["msg"] == "migrations complete"
    assert lines[-1]["applied"] == applied
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]
    assert table_exists(pg_server, fresh_db, "notes")

    # Second run: nothing to do, still success, nothing duplicated.
    rc, out, err = run_migrate(pg_server, fresh_db)
    assert rc == 0, out + err
    lines = json_lines(out)
    assert not [x for x in lines if x["msg"] == "migration applied"]
    assert lines[-1]["msg"] == "migrations complete" and lines[-1]["applied"] == []
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]
    assert APP_PASSWORD not in out + err


def test_migrate_concurrent_runs_are_serialised(pg_server, fresh_db, tmp_path):
    # Hold the migration lock so both processes are certainly running at once
    # and contending for it; then let them go.
    with pg_server.admin_conn(fresh_db) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        outs = [open(tmp_path / f"m{i}.log", "w+") for i in range(2)]
        procs = [start_migrate(pg_server, fresh_db, out=o) for o in outs]

        def both_waiting():
            return all("waiting for migration lock" in (tmp_path / f"m{i}.log").read_text() for i in range(2))

        wait_for(both_waiting, timeout=20, what="both migrate processes to wait for the lock")
        holder.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    for p in procs:
        p.wait(timeout=30)
    results = []
    for p, o in zip(procs, outs, strict=True):
        o.close()
        text = (tmp_path / o.name.split("/")[-1]).read_text()
        assert p.returncode == 0, text + p.stderr.read()
        results.append(json_lines(text)[-1])
    applied = sorted((r["applied"] for r in results), key=len)
    assert applied == [[], [m.version for m in MIGRATIONS]]
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]


def test_migrate_unlocked_concurrent_runs_both_succeed(pg_server, fresh_db):
    procs = [start_migrate(pg_server, fresh_db) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]


def test_migrate_sigterm_while_waiting_for_lock(pg_server, fresh_db, tmp_path):
    logf = tmp_path / "m.log"
    with pg_server.admin_conn(fresh_db) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        with open(logf, "w") as out:
            proc = start_migrate(pg_server, fresh_db, out=out)
            wait_for(lambda: "waiting for migration lock" in logf.read_text(), what="lock wait")
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        assert time.monotonic() - t0 < 5
    assert proc.returncode == 143
    assert proc.stderr.read() == ""  # no traceback
    last = json_lines(logf.read_text())[-1]
    assert last["level"] == "warning"
    assert "interrupted" in last["msg"]
    assert last["signal"] == "SIGTERM"
    assert not table_exists(pg_server, fresh_db, "notes")


SLOW_MIGRATION = f"""
import sys
from ecsapp import migrate
migrate.MIGRATIONS = migrate.MIGRATIONS + (
    migrate.Migration({LATEST + 1}, "slow",
        "CREATE TABLE slow_marker (id int); SELECT pg_sleep(60)"),
)
sys.exit(migrate.main())
"""


def test_migrate_sigterm_mid_migration_rolls_back_and_cancels(pg_server, fresh_db, tmp_path):
    logf = tmp_path / "m.log"
    with open(logf, "w") as out:
        proc = start_migrate(pg_server, fresh_db, code=SLOW_MIGRATION, out=out)
        wait_for(lambda: '"migration":"slow"' in logf.read_text(), timeout=20, what="slow migration start")

        def sleeping():
            with pg_server.admin_conn() as c:
                return c.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(60)%%' "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()[0]

        wait_for(sleeping, what="pg_sleep to be running")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert time.monotonic() - t0 < 8
    assert proc.returncode == 143, logf.read_text() + proc.stderr.read()
    last = json_lines(logf.read_text())[-1]
    assert last["signal"] == "SIGTERM" and "rolled back" in last["msg"]
    # The earlier migrations stay; the interrupted one left no trace.
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]
    assert not table_exists(pg_server, fresh_db, "slow_marker")
    # The server-side statement was cancelled, and the lock is free again.
    wait_for(lambda: sleeping() == 0, timeout=5, what="pg_sleep to be cancelled")
    with pg_server.admin_conn(fresh_db) as c:
        assert c.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()[0]


def test_migrate_failure_exits_nonzero_with_json_line(pg_server, fresh_db):
    code = f"""
import sys
from ecsapp import migrate
migrate.MIGRATIONS = migrate.MIGRATIONS + (migrate.Migration({LATEST + 1}, "broken", "CREATE TABLE notes (id int)"),)
sys.exit(migrate.main())
"""
    proc = start_migrate(pg_server, fresh_db, code=code)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    last = json_lines(out)[-1]
    assert last["level"] == "error"
    assert last["msg"] == "migration failed"
    assert last["error"] == "DuplicateTable"
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]


def test_migrate_config_error_names_variable(pg_server, fresh_db):
    rc, out, err = run_migrate(pg_server, fresh_db, extra={"DB_HOST": ""})
    assert rc == 2
    last = json_lines(out)[-1]
    assert last["msg"] == "migration failed"
    assert last["variable"] == "DB_HOST"
    assert "DB_HOST" in last["detail"]


def test_migrate_connection_failure_does_not_log_password(pg_server, fresh_db):
    wrong = "Wrong-Migrate-Pw-42"
    rc, out, err = run_migrate(pg_server, fresh_db, extra={"DB_PASSWORD": wrong})
    assert rc == 1
    last = json_lines(out)[-1]
    assert last["error"] == "OperationalError"
    assert "password authentication failed" in last["detail"]
    assert wrong not in out + err


def test_migrate_via_database_url(pg_server, fresh_db):
    url = f"postgresql://ecsapp:{APP_PASSWORD.replace('!', '%21')}@127.0.0.1:{pg_server.port}/{fresh_db}"
    extra = {"DATABASE_URL": url, "DB_HOST": "", "DB_PASSWORD": ""}
    rc, out, err = run_migrate(pg_server, fresh_db, extra=extra)
    assert rc == 0, out + err
    assert APP_PASSWORD not in out and url not in out
    assert versions(pg_server, fresh_db) == [m.version for m in MIGRATIONS]


def test_run_migrations_in_process_returns_applied(pg_server, fresh_db):
    cfg = load_db_config(pg_server.env(fresh_db))
    assert run_migrations(cfg) == [m.version for m in MIGRATIONS]
    assert run_migrations(cfg) == []


@pytest.mark.parametrize("bad", ["abc"])
def test_migrate_bad_lock_wait_is_config_error(pg_server, fresh_db, bad):
    rc, out, _ = run_migrate(pg_server, fresh_db, extra={"MIGRATE_LOCK_WAIT_SECONDS": bad})
    assert rc == 2
    assert json_lines(out)[-1]["variable"] == "MIGRATE_LOCK_WAIT_SECONDS"


def test_migrate_lock_timeout_exits_3(pg_server, fresh_db):
    with pg_server.admin_conn(fresh_db) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        rc, out, err = run_migrate(pg_server, fresh_db, extra={"MIGRATE_LOCK_WAIT_SECONDS": "0.5"})
    assert rc == 3, out + err
    last = json_lines(out)[-1]
    assert last["level"] == "error" and last["error"] == "LockTimeout"
    assert not table_exists(pg_server, fresh_db, "notes")
