"""Gunicorn configuration for the ecsapp container.

Every value can be tuned from the task definition's environment.

Shutdown: on SIGTERM (what `docker stop` / ECS send first) the gunicorn
master stops accepting connections and gives workers ``graceful_timeout``
seconds to finish in-flight requests before killing them.  ECS waits the
container's ``stopTimeout`` (default 30 s on EC2, via ECS_CONTAINER_STOP_TIMEOUT)
before sending SIGKILL, so keep GUNICORN_GRACEFUL_TIMEOUT below it (default
20 s) and keep the ALB target group's deregistration delay >= it.
"""

import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsapp.gunicorn_logging import JsonGunicornLogger  # noqa: E402


def _int(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"configuration error: {name} must be an integer, got {raw!r}") from None


bind = f"0.0.0.0:{_int('PORT', 8000)}"

# gthread: a few processes x threads; requests mostly wait on PostgreSQL/S3.
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2))
threads = _int("GUNICORN_THREADS", 4)

timeout = _int("GUNICORN_TIMEOUT", 30)  # a worker silent this long is killed
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)  # see module docstring
# Longer than nginx's upstream keepalive_timeout (60 s) so nginx never reuses
# a connection gunicorn has just closed (which would surface as a 502).
keepalive = _int("GUNICORN_KEEPALIVE", 75)

max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Heartbeat files in memory, not on the (possibly read-only) container layer.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Only nginx in the same task talks to us; trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# No runtime control socket: the container user has no writable home.
control_socket_disable = True

# Logging: JSON lines on stdout (awslogs / CloudWatch picks them up).
logger_class = JsonGunicornLogger
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
errorlog = "-"
# The app already logs one JSON line per request (with request_id), so the
# gunicorn JSON access log is off unless GUNICORN_ACCESS_LOG is set ("-" for
# stdout).  Its lines carry the same fields plus bytes and user_agent.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
capture_output = False
