"""Fault mode: answer a share of AWS API requests with throttling errors or 5xx, as AWS does.

A WSGI middleware step used by :mod:`emulator.server` in front of moto. Off unless configured:

* at start: ``python -m emulator start --faults 0.1 --fault-seed 7 [--fault-kinds throttle,500,503]``
  (the CLI passes ``EMULATOR_FAULT_RATE``, ``EMULATOR_FAULT_SEED``, ``EMULATOR_FAULT_KINDS`` and
  ``EMULATOR_FAULT_ACTIONS`` to the server; setting them yourself works too);
* at run time: ``POST /_emulator/faults`` with ``{"rate": 0.1, "seed": 7, "kinds": [...],
  "actions": "regex"}`` (``{"rate": 0}`` switches it off), ``GET /_emulator/faults`` for the
  configuration and what was injected (``python -m emulator faults ...`` does both).

Each request that is not ``/moto-api/*`` or ``/_emulator/*`` draws from a ``random.Random(seed)``;
with probability ``rate`` it gets a fault of one of ``kinds`` (drawn from the same generator, so a
seed gives the same sequence of decisions for the same sequence of requests; concurrent forks
make the order of requests, hence which one is hit, vary between runs):

``throttle``
    before the backend runs: the service's own throttling error. EC2 ``RequestLimitExceeded``
    (HTTP 503, EC2's ``<Response><Errors>`` XML); query services (autoscaling, elbv2, rds, iam,
    sts, sns) ``Throttling`` (400, ``<ErrorResponse>`` XML); JSON services (ecs, logs, ssm, ecr,
    application-autoscaling, secretsmanager) ``ThrottlingException`` (400, ``x-amzn-ErrorType``
    and ``__type``); CloudWatch (Smithy RPC v2 CBOR) ``Throttling``; S3 ``SlowDown`` (503).
``500`` / ``503``
    before the backend runs: ``InternalError``/``InternalFailure`` (500) or
    ``Unavailable``/``ServiceUnavailable`` (503) in the same wire formats.
``after``
    the backend RUNS (the resource is created), then the client gets a 500 ``InternalError``:
    what a dropped response looks like. A retried create then makes a duplicate unless the API
    is idempotent by name or client token. Not in the default kinds; use with ``actions`` to aim it.
``denied``
    before the backend runs: the caller lacks the permission (EC2 ``UnauthorizedOperation``, query and
    CloudWatch ``AccessDenied`` (403), JSON ``AccessDeniedException``, S3 ``AccessDenied``). Not retried
    by clients and not in the default kinds: aim it with ``actions`` to prove a lookup error stops a run.

``actions`` (a regular expression matched against the operation name, e.g. ``^Create``) limits
faults to matching operations; ``max_faults`` stops injecting after that many.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

KINDS = ("throttle", "500", "503", "after", "denied")
DEFAULT_KINDS = ("throttle", "500", "503")
EXEMPT_PREFIXES = ("/moto-api/", "/moto-api", "/_emulator/")

# Services whose wire protocol is AWS query (XML errors in <ErrorResponse>), by signing name.
QUERY_SERVICES = {"autoscaling", "elasticloadbalancing", "rds", "iam", "sts", "sns", "sqs",
                  "cloudformation", "elasticache", "redshift", "ses"}

_REASONS = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}

# (HTTP status, code, message) per protocol family and kind.
_ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "ec2": {
        "throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
        "500": (500, "InternalError", "An internal error has occurred."),
        "503": (503, "Unavailable", "The server is overloaded and can't handle the request."),
        "denied": (403, "UnauthorizedOperation", "You are not authorized to perform this operation."),
    },
    "query": {
        "throttle": (400, "Throttling", "Rate exceeded"),
        "500": (500, "InternalFailure", "An internal error occurred."),
        "503": (503, "ServiceUnavailable", "Service is unavailable."),
        "denied": (403, "AccessDenied", "This emulated caller is not authorized to perform this operation."),
    },
    "json": {
        "throttle": (400, "ThrottlingException", "Rate exceeded"),
        "500": (500, "InternalFailure", "An internal error occurred."),
        "503": (503, "ServiceUnavailableException", "Service is unavailable."),
        "denied": (400, "AccessDeniedException", "This emulated caller is not authorized to perform this operation."),
    },
    "cbor": {
        "throttle": (400, "Throttling", "Rate exceeded"),
        "500": (500, "InternalFailure", "An internal error occurred."),
        "503": (503, "ServiceUnavailable", "Service is unavailable."),
        "denied": (403, "AccessDenied", "This emulated caller is not authorized to perform this operation."),
    },
    "s3": {
        "throttle": (503, "SlowDown", "Please reduce your request rate."),
        "500": (500, "InternalError", "We encountered an internal error. Please try again."),
        "503": (503, "ServiceUnavailable", "Service is unable to handle request."),
        "denied": (403, "AccessDenied", "Access Denied"),
    },
}
_ERRORS_AFTER = {proto: errors["500"] for proto, errors in _ERRORS.items()}


@dataclass
class Request:
    """What the fault mode needs to know about one request."""

    service: str
    protocol: str
    action: str


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    if n < 24:
        head = bytes([0x60 + n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + data


def _cbor_map(items: dict[str, str]) -> bytes:
    return bytes([0xA0 + len(items)]) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in items.items())


def classify(environ: dict[str, Any]) -> Request:
    """Service (signing name), protocol family and operation of a WSGI request.

    Reads a form-encoded body to find ``Action`` and puts it back (``wsgi.input`` is replaced)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    service = match.group(1) if match else "?"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    ctype = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_SMITHY_PROTOCOL", "") == "rpc-v2-cbor" or "cbor" in ctype:
        path = environ.get("PATH_INFO", "")
        return Request(service, "cbor", path.rsplit("/", 1)[-1])
    if target:
        return Request(service, "json", target.rsplit(".", 1)[-1])
    if service == "s3":
        return Request(service, "s3", f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '')}")
    action = ""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        action = query["Action"][0]
    elif "form-urlencoded" in ctype:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    if service == "ec2":
        return Request(service, "ec2", action)
    if action or service in QUERY_SERVICES:
        return Request(service, "query", action)
    # REST-JSON services (none used by the playbooks): x-amzn-ErrorType works for them too.
    return Request(service, "json", f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '')}")


def error_response(protocol: str, kind: str) -> tuple[int, list[tuple[str, str]], bytes, str]:
    """(status, headers, body, code) of an AWS error of ``kind`` in ``protocol``'s wire format."""
    status, code, message = _ERRORS_AFTER[protocol] if kind == "after" else _ERRORS[protocol][kind]
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
        data = body.encode()
    elif protocol == "query":
        kind_type = "Sender" if status < 500 else "Receiver"
        body = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>{kind_type}</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>")
        headers.append(("Content-Type", "text/xml"))
        data = body.encode()
    elif protocol == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>")
        headers.append(("Content-Type", "application/xml"))
        data = body.encode()
    elif protocol == "cbor":
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-query-error", f"{code};{'Sender' if status < 500 else 'Receiver'}")]
        data = _cbor_map({"__type": code, "message": message})
    else:
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", f"{code}:")]
        data = json.dumps({"__type": code, "message": message}).encode()
    headers.append(("Content-Length", str(len(data))))
    return status, headers, data, code


@dataclass
class FaultInjector:
    """Decides, per request, whether to inject a fault, and keeps count."""

    rate: float = 0.0
    seed: int | None = None
    kinds: tuple[str, ...] = DEFAULT_KINDS
    actions: str = ""
    max_faults: int | None = None
    requests: int = 0
    injected: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(rate=self.rate, seed=self.seed, kinds=list(self.kinds), actions=self.actions,
                       max_faults=self.max_faults)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "FaultInjector":
        env = os.environ if env is None else env
        kinds = tuple(k for k in env.get("EMULATOR_FAULT_KINDS", "").replace(" ", "").split(",") if k)
        seed = env.get("EMULATOR_FAULT_SEED", "")
        return cls(rate=float(env.get("EMULATOR_FAULT_RATE") or 0.0), seed=int(seed) if seed else None,
                   kinds=kinds or DEFAULT_KINDS, actions=env.get("EMULATOR_FAULT_ACTIONS", ""))

    def configure(self, **settings: Any) -> None:
        """Apply settings (rate, seed, kinds, actions, max_faults); restarts the generator and counters."""
        unknown = set(settings) - {"rate", "seed", "kinds", "actions", "max_faults"}
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        rate = float(settings.get("rate", self.rate))
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        kinds = tuple(settings.get("kinds") or self.kinds)
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise ValueError(f"unknown fault kinds {bad}; expected some of {list(KINDS)}")
        actions = settings.get("actions", self.actions) or ""
        re.compile(actions)
        max_faults = settings.get("max_faults", self.max_faults)
        with self._lock:
            self.rate, self.kinds, self.actions = rate, kinds, actions
            self.seed = settings.get("seed", self.seed)
            self.max_faults = None if max_faults in (None, "") else int(max_faults)
            self._random = random.Random(self.seed)
            self.requests = 0
            self.injected = []

    @property
    def enabled(self) -> bool:
        return self.rate > 0.0

    def status(self) -> dict[str, Any]:
        with self._lock:
            by_kind: dict[str, int] = {}
            for fault in self.injected:
                by_kind[fault["kind"]] = by_kind.get(fault["kind"], 0) + 1
            return {"enabled": self.enabled, "rate": self.rate, "seed": self.seed, "kinds": list(self.kinds),
                    "actions": self.actions, "max_faults": self.max_faults, "requests": self.requests,
                    "faults": len(self.injected), "by_kind": by_kind, "injected": list(self.injected)}

    def decide(self, environ: dict[str, Any]) -> str | None:
        """The kind of fault to inject into this request, or None. Records what it injects."""
        path = environ.get("PATH_INFO", "")
        if not self.enabled or path.startswith(EXEMPT_PREFIXES):
            return None
        request = classify(environ)
        with self._lock:
            self.requests += 1
            if self.actions and not re.search(self.actions, request.action):
                return None
            if self.max_faults is not None and len(self.injected) >= self.max_faults:
                return None
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected.append({"service": request.service, "action": request.action, "kind": kind})
        environ["emulator.fault"] = (request.protocol, kind)
        return kind

    def respond(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        protocol, kind = environ["emulator.fault"]
        status, headers, body, _code = error_response(protocol, kind)
        start_response(f"{status} {_REASONS[status]}", headers)
        return [body]

    def wrap(self, environ: dict[str, Any], start_response: Callable[..., Any],
             backend: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]) -> Iterable[bytes]:
        """Serve one request through ``backend`` with faults applied (before or after it runs)."""
        kind = self.decide(environ)
        if kind is None:
            return backend(environ, start_response)
        if kind == "after":
            def swallow(_status: str, _headers: list[tuple[str, str]], _exc_info: Any = None) -> Callable[[bytes], None]:
                return lambda _data: None

            for _chunk in backend(environ, swallow):
                pass
        return self.respond(environ, start_response)
