"""Test fixtures: a real throwaway PostgreSQL server and moto's in-process S3.

The PostgreSQL server is started once per test session from the local
PostgreSQL binaries (initdb + pg_ctl) on a free loopback port, with its data
directory and unix socket in a temporary directory.  When running as root the
server runs as the ``postgres`` OS user (initdb refuses root).  Missing
binaries FAIL the run with an explanation; they are never a reason to skip.
Set PG_BIN to point at a specific bin directory.
"""

from __future__ import annotations

import glob
import io
import json
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
from moto import mock_aws

APP_DIR = Path(__file__).resolve().parent.parent
if str(APP_DIR) not in sys.path:  # pytest.ini's pythonpath does this too
    sys.path.insert(0, str(APP_DIR))

from ecsapp import create_app  # noqa: E402
from ecsapp.config import load_config, load_db_config  # noqa: E402
from ecsapp.logging_setup import JsonFormatter, RequestContextFilter, clear_secrets  # noqa: E402
from ecsapp.migrate import run_migrations  # noqa: E402

APP_USER = "ecsapp"
# Distinctive so "is it in the logs?" assertions cannot match by accident.
APP_PASSWORD = "Pw-7f3K9!q_SECRET_zX2"
SUPERUSER_PASSWORD = "su-" + uuid.uuid4().hex
BUCKET = "ecsapp-test-bucket"
REGION = "us-east-1"


# --------------------------------------------------------------------------
# PostgreSQL server
# --------------------------------------------------------------------------

def _find_pg_bin() -> Path:
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file() and (c / "postgres").is_file():
            return c
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{', '.join(str(c) for c in candidates) or '(no candidates)'}. "
        "The app tests need a real PostgreSQL server: install it "
        "(e.g. `apt-get install -y postgresql`) or set PG_BIN to its bin directory.",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    bin: Path
    base: Path
    data: Path
    sockdir: Path
    port: int
    run_as: list[str]

    def admin_conn(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.sockdir), port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin_conn() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {APP_USER}')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def env(self, dbname: str, password: str = APP_PASSWORD) -> dict[str, str]:
        """DB_* variables as ECS would inject them (TCP + password auth)."""
        return {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.port),
            "DB_NAME": dbname,
            "DB_USER": APP_USER,
            "DB_PASSWORD": password,
        }


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture(scope="session")
def pg_server():
    pg_bin = _find_pg_bin()
    base = Path(tempfile.mkdtemp(prefix="ecsapp-pg-"))
    data, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    pwfile = base / "pwfile"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root but there is no 'postgres' OS user to run the server as", pytrace=False)
        for p in (base, sockdir, pwfile):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else []
        if not run_as:
            pytest.fail("running as root but `runuser` is not available", pytrace=False)
    os.chmod(base, 0o700)

    _run(run_as + [
        str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(pwfile),
        "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
        "--locale=C",
    ])
    last_err = None
    for _attempt in range(3):
        port = _free_port()
        opts = (
            f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        try:
            _run(run_as + [
                str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                "-o", opts, "-w", "-t", "30", "start",
            ])
            break
        except RuntimeError as exc:  # port raced away: try another
            last_err = exc
    else:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        pytest.fail(f"could not start PostgreSQL: {last_err}\n{log}", pytrace=False)

    server = PgServer(pg_bin, base, data, sockdir, port, run_as)
    with server.admin_conn() as conn:
        conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")
    try:
        yield server
    finally:
        subprocess.run(
            run_as + [str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def fresh_db(pg_server):
    """An empty database owned by the app role; dropped afterwards."""
    name = pg_server.create_database("fresh")
    yield name
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def app_db(pg_server):
    """A migrated database shared by the HTTP tests."""
    name = pg_server.create_database("app")
    run_migrations(load_db_config(pg_server.env(name)))
    return name


# --------------------------------------------------------------------------
# AWS (moto) and the Flask app
# --------------------------------------------------------------------------

@pytest.fixture()
def aws_env(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture()
def s3(aws_env):
    """moto in-process S3 with the app bucket created."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture()
def app_env(pg_server, app_db):
    """A complete environment as the ECS task definition provides it."""
    env = pg_server.env(app_db)
    env.update({"S3_BUCKET": BUCKET, "S3_PREFIX": "docs/", "AWS_REGION": REGION, "LOG_LEVEL": "INFO"})
    return env


@pytest.fixture()
def clean_notes(pg_server, app_db):
    with pg_server.admin_conn(app_db) as conn:
        conn.execute("TRUNCATE notes RESTART IDENTITY")


class LogCapture:
    """Collects the JSON lines the app's formatter produces."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def find(self, **match) -> list[dict]:
        return [r for r in self.records() if all(r.get(k) == v for k, v in match.items())]


@pytest.fixture()
def logs():
    cap = LogCapture()
    handler = logging.StreamHandler(cap.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield cap
    root.removeHandler(handler)


@pytest.fixture()
def app(s3, app_env, clean_notes, logs):
    application = create_app(load_config(app_env))
    application.config["TESTING"] = True
    yield application
    clear_secrets()


@pytest.fixture()
def client(app):
    return app.test_client()


# --------------------------------------------------------------------------
# Subprocess helpers (migrate / gunicorn run as real processes)
# --------------------------------------------------------------------------

def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DB_", "DATABASE_URL", "S3_", "AWS_", "GUNICORN_", "WEB_CONCURRENCY"))
    }
    env["PYTHONPATH"] = str(APP_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def json_lines(text: str) -> list[dict]:
    """Parse every non-empty line as JSON (fails the test if one is not)."""
    out = []
    for line in text.splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"log line is not JSON: {line!r}") from None
    return out


@pytest.fixture(autouse=True)
def _restore_root_logger():
    """configure_logging() mutates the root logger; undo it after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
