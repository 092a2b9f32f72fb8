"""WSGI entry point: ``gunicorn --config gunicorn.conf.py wsgi:app``.

A configuration error is reported as one JSON log line naming the variable,
then the worker exits with gunicorn's boot-error code (3) so the master halts
and the container stops instead of respawning workers in a loop.
"""

import logging
import sys

from ecsapp import ConfigError, create_app
from ecsapp.logging_setup import configure_logging

try:
    app = create_app()
except ConfigError as exc:
    configure_logging("INFO")
    logging.getLogger("ecsapp").error(
        "startup failed: invalid configuration",
        extra={"error": "ConfigError", "variable": exc.variable, "detail": str(exc)},
    )
    sys.exit(3)
