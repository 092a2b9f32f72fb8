"""HTTP endpoints."""

from __future__ import annotations

import logging
import re

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, current_app, jsonify, request

from . import db, storage

log = logging.getLogger("ecsapp.views")

bp = Blueprint("ecsapp", __name__)

NOTE_MAX_CHARS = 2000
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_KEY_MAX_LEN = 512


def error(status: int, code: str, message: str, **extra):
    body = {"error": code, "message": message}
    body.update(extra)
    return jsonify(body), status


def _cfg():
    return current_app.extensions["ecsapp"]["config"]


def _s3():
    return current_app.extensions["ecsapp"]["s3"]


@bp.get("/healthz")
def healthz():
    """Liveness: the process is up and serving.  No dependency checks."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: PostgreSQL answers SELECT 1 and the app bucket is reachable."""
    cfg = _cfg()
    checks: dict[str, str] = {}
    try:
        db.ping(cfg.db)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = "fail"
        log.warning(
            "readiness check failed",
            extra={"check": "database", "error": exc.__class__.__name__, "detail": str(exc)[:500]},
        )
    try:
        storage.head_bucket(_s3(), cfg.s3)
        checks["s3"] = "ok"
    except Exception as exc:
        checks["s3"] = "fail"
        log.warning(
            "readiness check failed",
            extra={"check": "s3", "error": exc.__class__.__name__, "detail": str(exc)[:500]},
        )
    failed = sorted(k for k, v in checks.items() if v != "ok")
    if failed:
        return jsonify(status="unavailable", checks=checks, failed=failed), 503
    return jsonify(status="ok", checks=checks)


def _valid_key(key: str) -> bool:
    if len(key) > _KEY_MAX_LEN:
        return False
    return all(_KEY_SEGMENT.match(seg) for seg in key.split("/"))


@bp.get("/api/<path:key>")
def get_document(key: str):
    if not _valid_key(key):
        return error(
            400,
            "validation_error",
            "key must be '/'-separated segments of letters, digits, '.', '_' or '-' "
            "(each starting with a letter or digit)",
            field="key",
        )
    cfg = _cfg()
    try:
        doc = storage.get_json(_s3(), cfg.s3, key)
    except storage.ObjectNotFound:
        return error(404, "not_found", f"no document for key {key!r}")
    except storage.InvalidDocument:
        log.warning("stored document is not valid JSON", extra={"key": key})
        return error(502, "invalid_document", f"stored document for key {key!r} is not valid JSON")
    except storage.ObjectTooLarge:
        log.warning("stored document too large", extra={"key": key})
        return error(502, "document_too_large", f"stored document for key {key!r} is too large")
    except (ClientError, BotoCoreError) as exc:
        log.error("s3 request failed", extra={"key": key, "error": exc.__class__.__name__, "detail": str(exc)[:500]})
        return error(502, "upstream_error", "object storage request failed")
    return jsonify(doc)


@bp.get("/notes")
def list_notes():
    try:
        notes = db.list_notes(_cfg().db)
    except psycopg.OperationalError as exc:
        log.error("database unavailable", extra={"error": exc.__class__.__name__, "detail": str(exc)[:500]})
        return error(503, "database_unavailable", "database is unavailable")
    return jsonify(notes=notes)


@bp.post("/notes")
def create_note():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error(400, "validation_error", "request body must be a JSON object like {\"text\": \"...\"}")
    unknown = sorted(set(payload) - {"text"})
    if unknown:
        return error(400, "validation_error", f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    text = payload.get("text")
    if not isinstance(text, str):
        return error(400, "validation_error", "text is required and must be a string", field="text")
    text = text.strip()
    if not text:
        return error(400, "validation_error", "text must not be empty", field="text")
    if len(text) > NOTE_MAX_CHARS:
        return error(400, "validation_error", f"text must be at most {NOTE_MAX_CHARS} characters", field="text")
    if "\x00" in text:
        return error(400, "validation_error", "text must not contain NUL characters", field="text")
    try:
        note = db.insert_note(_cfg().db, text)
    except psycopg.OperationalError as exc:
        log.error("database unavailable", extra={"error": exc.__class__.__name__, "detail": str(exc)[:500]})
        return error(503, "database_unavailable", "database is unavailable")
    log.info("note created", extra={"note_id": note["id"]})
    return jsonify(note), 201
