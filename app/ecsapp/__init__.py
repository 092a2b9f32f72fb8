"""ecsapp: a small Flask service deployed on ECS (EC2 launch type)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Mapping

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import storage
from .config import Config, ConfigError, load_config
from .logging_setup import configure_logging, register_secrets

__all__ = ["create_app", "Config", "ConfigError"]

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_PATHS = frozenset({"/healthz"})  # container/ALB health checks: DEBUG only

request_log = logging.getLogger("ecsapp.request")
log = logging.getLogger("ecsapp")


def create_app(config: Config | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the Flask app.

    ``config`` wins; otherwise configuration is read from ``environ`` (default
    ``os.environ``).  Raises ``ConfigError`` naming the offending variable.
    """
    if config is None:
        config = load_config(environ)
    register_secrets(config.db.secrets())
    configure_logging(config.log_level)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False
    app.extensions["ecsapp"] = {"config": config, "s3": storage.make_client(config.s3)}

    from .views import bp

    app.register_blueprint(bp)
    _install_request_logging(app)
    _install_error_handlers(app)
    log.info(
        "app configured",
        extra={
            "database": config.db.describe(),
            "s3_bucket": config.s3.bucket,
            "s3_prefix": config.s3.prefix,
            "aws_region": config.s3.region,
            "aws_endpoint_url": config.s3.endpoint_url,
        },
    )
    return app


def _install_request_logging(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        g.start = time.perf_counter()

    @app.after_request
    def _finish(response):
        rid = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = rid
        start = g.get("start")
        duration_ms = round((time.perf_counter() - start) * 1000, 2) if start else None
        level = logging.DEBUG if request.path in _QUIET_PATHS and response.status_code < 400 else logging.INFO
        request_log.log(
            level,
            "request",
            extra={
                "request_id": rid,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "remote_addr": request.headers.get("X-Forwarded-For", request.remote_addr),
            },
        )
        return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        resp = jsonify(error=code, message=exc.description)
        resp.status_code = exc.code or 500
        if exc.code == 405 and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        log.exception("unhandled error", extra={"error": exc.__class__.__name__})
        return jsonify(error="internal_error", message="internal server error"), 500
