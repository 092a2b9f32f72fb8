"""ecsapp.worker against a real PostgreSQL server (in process and as `python -m ecsapp.worker`)."""

import logging
import signal
import subprocess
import sys
import time

import pytest
from appsupport import APP_DIR, APP_PASSWORD, json_lines, subprocess_env, wait_for

from ecsapp.config import ConfigError, load_db_config
from ecsapp.migrate import run_migrations
from ecsapp.worker import EXIT_CONFIG, Worker, load_worker_config, run_once


def heartbeats(pg_server, db):
    with pg_server.admin_conn(db) as conn:
        return conn.execute("SELECT worker_id, notes_count FROM worker_heartbeats ORDER BY id").fetchall()


def start_worker(pg_server, db, extra=None, args=()):
    env = subprocess_env({**pg_server.env(db), "WORKER_ID": "test-worker", **(extra or {})})
    return subprocess.Popen([sys.executable, "-m", "ecsapp.worker", *args], cwd=APP_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_one_iteration_writes_a_heartbeat(pg_server, fresh_db, logs):
    logging.getLogger().setLevel(logging.INFO)  # restored by conftest's autouse fixture
    env = {**pg_server.env(fresh_db), "WORKER_ID": "w-1"}
    cfg = load_worker_config(env)
    assert cfg.interval == 30

    # Before the migration: the worker creates its own table, notes is unknown (null).
    first = run_once(cfg)
    assert first["notes"] is None
    assert heartbeats(pg_server, fresh_db) == [("w-1", None)]

    run_migrations(load_db_config(env))
    with pg_server.admin_conn(fresh_db) as conn:
        conn.execute("INSERT INTO notes (text) VALUES ('a'), ('b')")
    worker = Worker(cfg)
    assert worker.iteration() is True
    assert heartbeats(pg_server, fresh_db) == [("w-1", None), ("w-1", 2)]
    line = logs.find(msg="worker heartbeat")[-1]
    assert line["notes"] == 2 and line["worker_id"] == "w-1" and line["heartbeat_id"] > first["heartbeat_id"]
    assert APP_PASSWORD not in logs.text


def test_database_error_is_logged_and_not_fatal(pg_server, fresh_db, logs):
    cfg = load_worker_config({**pg_server.env(fresh_db, password="wrong-password"), "WORKER_ID": "w-2"})
    assert Worker(cfg).iteration() is False
    err = logs.find(msg="worker iteration failed")[-1]
    assert err["error"] == "OperationalError"
    assert "wrong-password" not in logs.text


@pytest.mark.parametrize("value, problem", [("0", "between 1 and 86400"), ("soon", "must be an integer")])
def test_interval_is_validated(pg_server, value, problem):
    with pytest.raises(ConfigError) as err:
        load_worker_config({**pg_server.env("x"), "WORKER_INTERVAL": value})
    assert err.value.variable == "WORKER_INTERVAL" and problem in str(err.value)


@pytest.mark.slow
def test_config_error_names_the_variable(pg_server):
    proc = start_worker(pg_server, "x", extra={"WORKER_INTERVAL": "-5"})
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_CONFIG, out + err
    line = json_lines(out)[-1]
    assert line["level"] == "error" and line["variable"] == "WORKER_INTERVAL"
    assert "WORKER_INTERVAL" in line["detail"]

    env = pg_server.env("x")
    env.pop("DB_PASSWORD")
    proc = subprocess.Popen([sys.executable, "-m", "ecsapp.worker"], cwd=APP_DIR, env=subprocess_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_CONFIG
    assert json_lines(out)[-1]["variable"] == "DB_PASSWORD"


@pytest.mark.slow
def test_sigterm_while_sleeping_exits_0_quickly(pg_server, fresh_db, tmp_path):
    proc = start_worker(pg_server, fresh_db, extra={"WORKER_INTERVAL": "30"})
    try:
        wait_for(lambda: heartbeats_or_empty(pg_server, fresh_db), timeout=20, what="the first heartbeat")
        time.sleep(0.2)  # now in the 30 s sleep
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert elapsed < 1.0, f"took {elapsed:.2f}s to stop"
    lines = json_lines(out)
    assert [x["msg"] for x in lines] == ["worker starting", "worker heartbeat", "worker stopped"]
    assert lines[-1]["signal"] == "SIGTERM"
    assert APP_PASSWORD not in out + err


@pytest.mark.slow
def test_sigterm_during_a_blocked_statement_exits_0_quickly(pg_server, fresh_db):
    # Create the table, then hold a lock that blocks the worker's INSERT.
    run_once(load_worker_config({**pg_server.env(fresh_db), "WORKER_ID": "setup"}))
    with pg_server.admin_conn(fresh_db) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE worker_heartbeats IN ACCESS EXCLUSIVE MODE")
        proc = start_worker(pg_server, fresh_db, extra={"DB_STATEMENT_TIMEOUT_MS": "60000"})
        try:
            def blocked():
                with pg_server.admin_conn(fresh_db) as conn:
                    return conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ecsapp' "
                        "AND wait_event_type = 'Lock'").fetchone()[0]
            wait_for(blocked, timeout=20, what="the worker to block on the lock")
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
            elapsed = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
        holder.execute("ROLLBACK")
    assert proc.returncode == 0, out + err
    assert elapsed < 1.0, f"took {elapsed:.2f}s to stop"
    assert json_lines(out)[-1]["msg"] == "worker stopped"
    assert json_lines(out)[-1]["signal"] == "SIGINT"
    # The interrupted transaction left nothing behind.
    assert heartbeats(pg_server, fresh_db) == [("setup", None)]


def heartbeats_or_empty(pg_server, db):
    with pg_server.admin_conn(db) as conn:
        if not conn.execute("SELECT to_regclass('worker_heartbeats') IS NOT NULL").fetchone()[0]:
            return []
        return conn.execute("SELECT id FROM worker_heartbeats").fetchall()
