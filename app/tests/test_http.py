import json

import pytest
from appsupport import BUCKET, _free_port

from ecsapp import create_app
from ecsapp.config import load_config
from ecsapp.views import NOTE_MAX_CHARS


def put(s3, key, body):
    s3.put_object(Bucket=BUCKET, Key=f"docs/{key}.json", Body=body)


# ---------------------------------------------------------------- health


def test_healthz_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_healthz_has_no_dependencies(pg_server, app_db, aws_env):
    # Unreachable database and S3 endpoint: liveness must still be 200.
    env = pg_server.env(app_db)
    env.update(DB_PORT=str(_free_port()), S3_BUCKET="nope", AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL="http://127.0.0.1:9")
    app = create_app(load_config(env))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_readyz_ok(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "s3": "ok"}


def _ready(env, logs=None):
    return create_app(load_config(env)).test_client().get("/readyz")


def test_readyz_database_down(app_env, s3, logs):
    resp = _ready({**app_env, "DB_PORT": str(_free_port())})
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "fail", "s3": "ok"}
    assert body["failed"] == ["database"]
    (warn,) = logs.find(msg="readiness check failed")
    assert warn["check"] == "database" and warn["error"] == "OperationalError"


def test_readyz_database_wrong_password(app_env, s3, logs):
    wrong = "Wrong-Pa55-NOT-LOGGED-9"
    resp = _ready({**app_env, "DB_PASSWORD": wrong})
    assert resp.status_code == 503
    assert resp.get_json()["failed"] == ["database"]
    assert logs.find(msg="readiness check failed")
    assert wrong not in logs.text
    assert wrong not in resp.get_data(as_text=True)


def test_readyz_s3_bucket_missing(app_env, s3, logs):
    resp = _ready({**app_env, "S3_BUCKET": "does-not-exist"})
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["checks"] == {"database": "ok", "s3": "fail"}
    assert body["failed"] == ["s3"]
    (warn,) = logs.find(msg="readiness check failed")
    assert warn["check"] == "s3" and warn["error"] == "ClientError"


def test_readyz_both_down(app_env, s3):
    resp = _ready({**app_env, "S3_BUCKET": "does-not-exist", "DB_PORT": str(_free_port())})
    assert resp.status_code == 503
    assert resp.get_json()["failed"] == ["database", "s3"]


# ---------------------------------------------------------------- /api/<key>


def test_api_hit_returns_stored_document(client, s3):
    doc = {"name": "widget", "tags": ["a", "b"], "price": 9.5, "nested": {"ok": True}}
    put(s3, "widget", json.dumps(doc).encode())
    resp = client.get("/api/widget")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_json() == doc


def test_api_uses_prefix_and_nested_keys(client, s3):
    put(s3, "catalog/v1/item-1", b'[1, 2, "three"]')
    s3.put_object(Bucket=BUCKET, Key="item-1.json", Body=b'"wrong: no prefix"')
    resp = client.get("/api/catalog/v1/item-1")
    assert resp.status_code == 200
    assert resp.get_json() == [1, 2, "three"]
    assert client.get("/api/item-1").status_code == 404


def test_api_miss_is_404_json(client):
    resp = client.get("/api/absent")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "not_found"


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00garbage", b"", b'{"x": NaN}'])
def test_api_invalid_json_is_502(client, s3, body):
    put(s3, "broken", body)
    resp = client.get("/api/broken")
    assert resp.status_code == 502
    assert resp.get_json()["error"] == "invalid_document"


def test_api_too_large_is_502(app_env, s3):
    app = create_app(load_config({**app_env, "S3_MAX_OBJECT_BYTES": "10"}))
    put(s3, "big", b'{"padding": "0123456789"}')
    resp = app.test_client().get("/api/big")
    assert resp.status_code == 502
    assert resp.get_json()["error"] == "document_too_large"


@pytest.mark.parametrize("key", ["a/../b", "-leading-dash", "sp ace", "a//b", "x" * 600])
def test_api_invalid_key_is_400(client, key):
    resp = client.get(f"/api/{key}")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "validation_error"


def test_api_s3_error_is_502(app_env, s3):
    app = create_app(load_config({**app_env, "S3_BUCKET": "no-such-bucket"}))
    resp = app.test_client().get("/api/anything")
    assert resp.status_code == 502
    assert resp.get_json()["error"] == "upstream_error"


# ---------------------------------------------------------------- /notes


def test_notes_write_then_read_newest_first(client, pg_server, app_db):
    ids = []
    for text in ["first", "second", "  third  "]:
        resp = client.post("/notes", json={"text": text})
        assert resp.status_code == 201
        body = resp.get_json()
        assert isinstance(body["id"], int)
        ids.append(body["id"])
    assert body["text"] == "third"  # trimmed
    resp = client.get("/notes")
    assert resp.status_code == 200
    notes = resp.get_json()["notes"]
    assert [n["text"] for n in notes] == ["third", "second", "first"]
    assert [n["id"] for n in notes] == ids[::-1]
    assert all("created_at" in n for n in notes)
    # Really stored in PostgreSQL.
    with pg_server.admin_conn(app_db) as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 3


def test_notes_list_is_limited_to_50(client, pg_server, app_db):
    with pg_server.admin_conn(app_db) as conn:
        conn.execute("INSERT INTO notes (text) SELECT 'n' || g FROM generate_series(1, 60) g")
    notes = client.get("/notes").get_json()["notes"]
    assert len(notes) == 50
    assert notes[0]["text"] == "n60"
    assert notes[-1]["text"] == "n11"


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"json": {}}, "text"),
        ({"json": {"text": ""}}, "text"),
        ({"json": {"text": "   "}}, "text"),
        ({"json": {"text": 42}}, "text"),
        ({"json": {"text": None}}, "text"),
        ({"json": {"text": "x" * (NOTE_MAX_CHARS + 1)}}, "text"),
        ({"json": {"text": "ok", "extra": 1}}, "extra"),
        ({"json": ["text"]}, None),
        ({"data": "{broken", "content_type": "application/json"}, None),
        ({"data": "text=hello", "content_type": "application/x-www-form-urlencoded"}, None),
    ],
)
def test_notes_validation_errors_are_400(client, pg_server, app_db, kwargs, field):
    resp = client.post("/notes", **kwargs)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "validation_error"
    assert body["message"]
    assert body.get("field") == field
    with pg_server.admin_conn(app_db) as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


def test_notes_max_length_accepted(client):
    assert client.post("/notes", json={"text": "y" * NOTE_MAX_CHARS}).status_code == 201


def test_notes_database_down_is_503(app_env, s3):
    app = create_app(load_config({**app_env, "DB_PORT": str(_free_port())}))
    c = app.test_client()
    assert c.get("/notes").status_code == 503
    resp = c.post("/notes", json={"text": "x"})
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "database_unavailable"


# ---------------------------------------------------------------- errors


def test_unknown_route_and_method_are_json(client):
    resp = client.get("/nope")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "not_found"
    resp = client.delete("/notes")
    assert resp.status_code == 405
    assert resp.get_json()["error"] == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]


def test_body_too_large_is_413_json(client):
    resp = client.post("/notes", data="x" * 70000, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "request_entity_too_large"
