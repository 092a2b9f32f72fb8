"""Gunicorn logger class emitting the same JSON lines as the app, on stdout.

Used by ``gunicorn.conf.py`` (``logger_class``).  The error log (boot,
worker start/exit, timeouts) and, when enabled, the access log are JSON.
"""

from __future__ import annotations

import logging
import sys

from gunicorn.glogging import Logger

from .logging_setup import JsonFormatter


class JsonGunicornLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not getattr(handler, "_gunicorn", False):
                    continue
                handler.setFormatter(formatter)
                # errorlog "-" means stderr in gunicorn; we want one stream.
                if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
                    handler.setStream(sys.stdout)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            try:
                status = int(status)
            except (TypeError, ValueError):
                pass
            headers = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
            request_id = next((v for k, v in headers if k.lower() == "x-request-id"), None)
            self.access_log.info(
                "access",
                extra={
                    "request_id": request_id,
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("PATH_INFO"),
                    "status": status,
                    "duration_ms": round(
                        request_time.seconds * 1000 + request_time.microseconds / 1000, 2
                    ),
                    "bytes": getattr(resp, "sent", None),
                    "remote_addr": environ.get("HTTP_X_FORWARDED_FOR") or environ.get("REMOTE_ADDR"),
                    "user_agent": environ.get("HTTP_USER_AGENT"),
                },
            )
        except Exception:  # never let logging break a response
            self.error_log.exception("failed to write access log")
