"""Unit tests of the emulator's fault mode (emulator/faults.py): the errors it writes are what botocore
parses into the AWS error codes, and what botocore's retry logic retries; decisions are seeded and
never touch /moto-api/ or /_emulator/."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.parsers import create_parser
from botocore.retries import standard

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator import faults  # noqa: E402

# service, operation, protocol family of the emulator, expected codes per kind
CASES = [
    ("ec2", "DescribeVpcs", "ec2", {"throttle": "RequestLimitExceeded", "500": "InternalError", "503": "Unavailable"}),
    ("autoscaling", "DescribeAutoScalingGroups", "query", {"throttle": "Throttling", "500": "InternalFailure", "503": "ServiceUnavailable"}),
    ("elbv2", "DescribeLoadBalancers", "query", {"throttle": "Throttling"}),
    ("rds", "DescribeDBInstances", "query", {"throttle": "Throttling"}),
    ("iam", "ListRoles", "query", {"throttle": "Throttling"}),
    ("ecs", "ListClusters", "json", {"throttle": "ThrottlingException", "500": "InternalFailure", "503": "ServiceUnavailableException"}),
    ("logs", "DescribeLogGroups", "json", {"throttle": "ThrottlingException"}),
    ("ssm", "GetParameter", "json", {"throttle": "ThrottlingException"}),
    ("ecr", "DescribeRepositories", "json", {"throttle": "ThrottlingException"}),
    ("s3", "ListBuckets", "s3", {"throttle": "SlowDown", "500": "InternalError", "503": "ServiceUnavailable"}),
    ("cloudwatch", "DescribeAlarms", "cbor", {"throttle": "Throttling", "500": "InternalFailure"}),
]

_SESSION = botocore.session.get_session()


def _parse(service: str, operation: str, protocol: str, kind: str) -> tuple[dict[str, Any], int]:
    model = _SESSION.get_service_model(service)
    op = model.operation_model(operation)
    status, headers, body, _code = faults.error_response(protocol, kind)
    parser = create_parser(model.protocol)
    parsed = parser.parse({"status_code": status, "headers": dict(headers), "body": body}, op.output_shape)
    return parsed, status


@pytest.mark.parametrize(("service", "operation", "protocol", "codes"), CASES, ids=[c[0] for c in CASES])
def test_botocore_parses_the_error_codes(service: str, operation: str, protocol: str, codes: dict[str, str]) -> None:
    for kind, code in codes.items():
        parsed, status = _parse(service, operation, protocol, kind)
        assert parsed["Error"]["Code"] == code, (service, kind, parsed)
        assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.mark.parametrize(("service", "operation", "protocol", "codes"), CASES, ids=[c[0] for c in CASES])
def test_botocore_retries_every_kind(service: str, operation: str, protocol: str, codes: dict[str, str]) -> None:
    """Standard/adaptive mode classify each fault as throttling or transient, hence retried."""
    del codes
    model = _SESSION.get_service_model(service)
    checker = standard.OrRetryChecker([standard.TransientRetryableChecker(), standard.ThrottledRetryableChecker(),
                                       standard.ModeledRetryableChecker()])
    for kind in ("throttle", "500", "503", "after"):
        parsed, status = _parse(service, operation, protocol, kind)
        http = AWSResponse("http://x", status, {}, None)
        context = standard.RetryContext(attempt_number=1, operation_model=model.operation_model(operation),
                                        parsed_response=parsed, http_response=http)
        assert checker.is_retryable(context), (service, kind)
    # legacy mode (botocore's default) retries these codes and any 500/502/503/504
    throttle, _ = _parse(service, operation, protocol, "throttle")
    assert throttle["Error"]["Code"] in {"Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown"}


def _environ(service: str, path: str = "/", target: str = "", body: bytes = b"Action=DescribeVpcs&Version=2016-11-15") -> dict[str, Any]:
    env = {
        "PATH_INFO": path,
        "REQUEST_METHOD": "POST",
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=testing/20261123/eu-west-1/{service}/aws4_request, "
                              "SignedHeaders=host, Signature=x",
        "CONTENT_TYPE": "application/x-amz-json-1.1" if target else "application/x-www-form-urlencoded; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if target:
        env["HTTP_X_AMZ_TARGET"] = target
    return env


def test_classify_reads_the_action_and_puts_the_body_back() -> None:
    env = _environ("ec2")
    request = faults.classify(env)
    assert (request.service, request.protocol, request.action) == ("ec2", "ec2", "DescribeVpcs")
    assert env["wsgi.input"].read() == b"Action=DescribeVpcs&Version=2016-11-15"
    env = _environ("ecs", target="AmazonEC2ContainerServiceV20141113.CreateService", body=b"{}")
    assert faults.classify(env) == faults.Request("ecs", "json", "CreateService")
    env = _environ("autoscaling", body=b"Action=CreateAutoScalingGroup")
    assert faults.classify(env) == faults.Request("autoscaling", "query", "CreateAutoScalingGroup")


def _decisions(injector: faults.FaultInjector, n: int = 200) -> list[str | None]:
    return [injector.decide(_environ("ec2")) for _ in range(n)]


def test_seeded_decisions_repeat_and_rate_is_respected() -> None:
    first = _decisions(faults.FaultInjector(rate=0.1, seed=7))
    again = _decisions(faults.FaultInjector(rate=0.1, seed=7))
    other = _decisions(faults.FaultInjector(rate=0.1, seed=8))
    assert first == again
    assert first != other
    hits = [d for d in first if d]
    assert 8 <= len(hits) <= 35, len(hits)
    assert set(hits) <= {"throttle", "500", "503"}
    assert _decisions(faults.FaultInjector()) == [None] * 200  # off by default


def test_exempt_paths_filters_and_cap() -> None:
    injector = faults.FaultInjector(rate=1.0, seed=1)
    assert injector.decide(_environ("ec2", path="/moto-api/reset")) is None
    assert injector.decide(_environ("ec2", path="/_emulator/sim")) is None
    injector.configure(actions="^Create", max_faults=2)
    assert injector.decide(_environ("ec2")) is None  # DescribeVpcs does not match
    create = b"Action=CreateVpc&CidrBlock=10.0.0.0%2F16"
    decided = [injector.decide(_environ("ec2", body=create)) for _ in range(3)]
    assert decided[0] and decided[1] and decided[2] is None  # at most max_faults
    status = injector.status()
    assert status["faults"] == 2 and status["requests"] == 4
    assert all(f["action"] == "CreateVpc" for f in status["injected"])
    with pytest.raises(ValueError, match="unknown fault kinds"):
        injector.configure(kinds=["slow"])
    with pytest.raises(ValueError, match="rate"):
        injector.configure(rate=2)


def test_wrap_before_and_after_the_backend() -> None:
    ran: list[str] = []

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        ran.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<ok/>"]

    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    for kind, backend_ran in (("throttle", False), ("500", False), ("503", False), ("after", True)):
        ran.clear()
        statuses.clear()
        injector = faults.FaultInjector(rate=1.0, seed=3, kinds=(kind,))
        body = b"".join(injector.wrap(_environ("ec2"), start_response, backend))
        assert bool(ran) is backend_ran, kind
        assert len(statuses) == 1 and statuses[0][:3] in {"500", "503"}, (kind, statuses)
        assert b"<Code>" in body
    ran.clear()
    statuses.clear()
    assert b"".join(faults.FaultInjector().wrap(_environ("ec2"), start_response, backend)) == b"<ok/>"
    assert statuses == ["200 OK"] and ran == ["/"]


def test_from_env() -> None:
    injector = faults.FaultInjector.from_env({"EMULATOR_FAULT_RATE": "0.05", "EMULATOR_FAULT_SEED": "7",
                                              "EMULATOR_FAULT_KINDS": "throttle,503", "EMULATOR_FAULT_ACTIONS": "^Create"})
    assert (injector.rate, injector.seed, injector.kinds, injector.actions) == (0.05, 7, ("throttle", "503"), "^Create")
    assert not faults.FaultInjector.from_env({}).enabled
