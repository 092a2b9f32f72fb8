"""JSON structured logging: one JSON object per line on stdout.

Fields: ``ts`` (UTC, ISO 8601, ms), ``level``, ``logger``, ``msg`` and, when
present, ``request_id``, ``method``, ``path``, ``status``, ``duration_ms`` and
any other ``extra=`` keys.  Registered secrets (the database password and
DATABASE_URL) are replaced by ``***`` in every emitted line, including
exception text, as a last line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import datetime, timezone
from typing import Any, Iterable

REDACTED = "***"

# Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secrets(values: Iterable[str | None]) -> None:
    """Make sure these strings never appear in a log line."""
    with _secrets_lock:
        for value in values:
            if value and len(value) >= 3:
                _secrets.add(value)
                # Also the form json.dumps would produce inside a string.
                escaped = json.dumps(value)[1:-1]
                if escaped != value:
                    _secrets.add(escaped)


def clear_secrets() -> None:
    with _secrets_lock:
        _secrets.clear()


def redact(text: str) -> str:
    # Longest first so a secret containing another is fully masked.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, tz=timezone.utc)
        payload: dict[str, Any] = {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in payload:
                payload[key] = _jsonable(value)
        if record.exc_info:
            payload["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return redact(line)


class RequestContextFilter(logging.Filter):
    """Adds the current Flask request id (if any) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            try:
                from flask import g, has_request_context

                if has_request_context():
                    rid = g.get("request_id")
                    if rid:
                        record.request_id = rid
            except Exception:  # pragma: no cover - never break logging
                pass
        return True


_HANDLER_MARK = "_ecsapp_json_handler"


def configure_logging(level: str = "INFO", stream=None) -> logging.Handler:
    """Install a single JSON handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    # Chatty third-party loggers: keep them at WARNING unless debugging.
    noisy_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("botocore", "boto3", "urllib3", "s3transfer", "werkzeug"):
        logging.getLogger(name).setLevel(noisy_level)
    return handler
