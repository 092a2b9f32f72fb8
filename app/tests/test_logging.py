import json
import logging
import re

import pytest
from appsupport import APP_PASSWORD

from ecsapp.logging_setup import clear_secrets, configure_logging, register_secrets

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(autouse=True)
def _reset_secrets():
    clear_secrets()
    yield
    clear_secrets()


def test_configure_logging_writes_one_json_object_per_line_to_stdout(capsys):
    configure_logging("INFO")
    log = logging.getLogger("ecsapp.test")
    log.info("hello %s", "world", extra={"answer": 42})
    log.debug("not shown at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed")
    out = capsys.readouterr().out
    lines = [json.loads(x) for x in out.splitlines() if x]
    assert len(lines) == 2
    first, second = lines
    assert TS_RE.match(first["ts"])
    assert first["level"] == "info"
    assert first["logger"] == "ecsapp.test"
    assert first["msg"] == "hello world"
    assert first["answer"] == 42
    assert second["level"] == "error"
    assert second["exc_type"] == "ValueError"
    assert "boom" in second["exc"]
    assert "\n" not in out.splitlines()[1]


def test_registered_secret_is_redacted_everywhere(logs):
    register_secrets([APP_PASSWORD, 'with"quote'])
    log = logging.getLogger("ecsapp.test")
    log.error("password is %s", APP_PASSWORD, extra={"detail": f"dsn password={APP_PASSWORD}"})
    log.warning('tricky with"quote here')
    try:
        raise RuntimeError(f"connect failed for {APP_PASSWORD}")
    except RuntimeError:
        log.exception("with traceback")
    assert APP_PASSWORD not in logs.text
    assert "quote" not in logs.text
    recs = logs.records()
    assert recs[0]["msg"] == "password is ***"
    assert recs[0]["detail"] == "dsn password=***"
    assert "***" in recs[2]["exc"]


def test_request_log_line_has_required_fields(client, logs):
    resp = client.post("/notes", json={"text": "log me"}, headers={"X-Request-ID": "req-abc-123"})
    assert resp.status_code == 201
    assert resp.headers["X-Request-ID"] == "req-abc-123"
    (line,) = logs.find(logger="ecsapp.request")
    assert line["msg"] == "request"
    assert line["level"] == "info"
    assert line["request_id"] == "req-abc-123"
    assert line["method"] == "POST"
    assert line["path"] == "/notes"
    assert line["status"] == 201
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
    assert TS_RE.match(line["ts"])
    # Other log lines emitted while handling the request carry the same id.
    (created,) = logs.find(msg="note created")
    assert created["request_id"] == "req-abc-123"


def test_request_id_generated_when_missing_or_unsafe(client, logs):
    r1 = client.get("/notes")
    r2 = client.get("/notes", headers={"X-Request-ID": "bad id {json} \"injection\""})
    ids = [r1.headers["X-Request-ID"], r2.headers["X-Request-ID"]]
    for rid in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert ids[0] != ids[1]
    assert [x["request_id"] for x in logs.find(logger="ecsapp.request")] == ids


def test_healthz_request_logged_at_debug_only(client, logs):
    client.get("/healthz")
    assert logs.find(logger="ecsapp.request") == []


def test_password_never_logged_by_app(app_env, s3, clean_notes, logs, client):
    # A full round of requests, including failures, through the configured app.
    s3.put_object(Bucket="ecsapp-test-bucket", Key="docs/bad.json", Body=b"{nope")
    client.get("/readyz")
    client.post("/notes", json={"text": "x"})
    client.get("/notes")
    client.get("/api/bad")
    client.get("/api/missing")
    text = logs.text
    assert "app configured" in text  # the startup line (which lists DB settings) was captured
    assert APP_PASSWORD not in text
    assert app_env["DB_PASSWORD"] not in text
