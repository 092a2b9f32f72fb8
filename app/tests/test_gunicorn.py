"""Runs the real container command (gunicorn + gunicorn.conf.py) as a process."""

import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from appsupport import APP_DIR, APP_PASSWORD, _free_port, json_lines, subprocess_env, wait_for

GUNICORN = Path(__import__("sys").executable).with_name("gunicorn")


@pytest.fixture()
def gunicorn_server(pg_server, app_db, clean_notes, tmp_path):
    assert GUNICORN.exists(), f"gunicorn not installed next to the interpreter ({GUNICORN})"
    port = _free_port()
    env = subprocess_env({
        **pg_server.env(app_db),
        "PORT": str(port),
        "S3_BUCKET": "unused",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
        "GUNICORN_ACCESS_LOG": "-",
    })
    logf = tmp_path / "gunicorn.log"
    out = open(logf, "w")
    proc = subprocess.Popen(
        [str(GUNICORN), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=APP_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited early:\n{logf.read_text()}")
        try:
            return urllib.request.urlopen(base + "/healthz", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=20, interval=0.1, what="gunicorn to serve /healthz")
        yield proc, base, logf
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()


def test_gunicorn_serves_logs_json_and_stops_gracefully_on_sigterm(gunicorn_server):
    proc, base, logf = gunicorn_server
    req = urllib.request.Request(
        base + "/notes", data=json.dumps({"text": "via gunicorn"}).encode(),
        headers={"Content-Type": "application/json", "X-Request-ID": "gunicorn-req-1"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 201
        assert resp.headers["X-Request-ID"] == "gunicorn-req-1"
    with urllib.request.urlopen(base + "/notes", timeout=5) as resp:
        assert [n["text"] for n in json.load(resp)["notes"]] == ["via gunicorn"]

    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert time.monotonic() - t0 < 10

    lines = json_lines(logf.read_text())  # every line, gunicorn's own included, is JSON
    app_req = [x for x in lines if x["logger"] == "ecsapp.request" and x.get("request_id") == "gunicorn-req-1"]
    assert len(app_req) == 1
    assert app_req[0]["method"] == "POST" and app_req[0]["path"] == "/notes" and app_req[0]["status"] == 201
    access = [x for x in lines if x["logger"] == "gunicorn.access" and x.get("request_id") == "gunicorn-req-1"]
    assert len(access) == 1 and access[0]["status"] == 201 and access[0]["duration_ms"] >= 0
    errlog = [x["msg"] for x in lines if x["logger"] == "gunicorn.error"]
    assert any("Listening at" in m for m in errlog)
    assert any("Shutting down" in m or "Handling signal" in m for m in errlog)
    assert APP_PASSWORD not in logf.read_text()


def test_gunicorn_halts_on_config_error(tmp_path):
    env = subprocess_env({"PORT": str(_free_port()), "S3_BUCKET": "b", "AWS_REGION": "us-east-1",
                          "DB_HOST": "h", "DB_NAME": "n", "DB_USER": "u"})  # no DB_PASSWORD
    res = subprocess.run(
        [str(GUNICORN), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=30,
    )
    assert res.returncode != 0
    lines = json_lines(res.stdout)
    assert any(x.get("variable") == "DB_PASSWORD" for x in lines), res.stdout + res.stderr
