"""Shared harness for the ecsops.platform module unit tests.

* ``run_module(module, args, check_mode=False, diff=False)`` (also available
  as ``aws.run``, so tests need no ``import conftest``) runs a module's
  ``main()`` in-process with the given arguments and returns the dict passed to
  ``exit_json``/``fail_json`` (``failed`` is set for the latter).
* ``aws`` fixture: moto's in-process ``mock_aws`` plus a recorder of every
  botocore API call (``aws.calls``) with optional per-operation stubs
  (``aws.stubs["DescribeTasks"] = fn(params, original)``), and a boto3 ECS
  client (``aws.ecs``) for setting up and asserting state.
* moto 5.2.5 ignores several CreateService parameters and never starts a new
  deployment on UpdateService; ``_patch_moto_ecs`` fills those gaps the way ECS
  behaves so comparisons can stay strict.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402
from moto import mock_aws  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
READ_PREFIXES = ("Describe", "List", "Get")


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs)


def _fail_json(self, msg=None, **kwargs):
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise ModuleExit(kwargs)


def run_module(module, args, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args``; return the exit_json/fail_json payload."""
    args = dict(args)
    args.setdefault("region", REGION)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    with (
        patch_module_args(args),
        mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json),
    ):
        try:
            module.main()
        except ModuleExit as e:
            return e.result
    raise AssertionError("module returned without calling exit_json/fail_json")


class ApiRecorder:
    def __init__(self):
        self.calls = []
        self.stubs = {}
        self.ecs = None

    @staticmethod
    def run(module, args, check_mode=False, diff=False):
        return run_module(module, args, check_mode=check_mode, diff=diff)

    def reset(self):
        self.calls.clear()

    def ops(self, service="ecs"):
        return [op for svc, op, _params in self.calls if svc == service]

    def params(self, operation):
        return [p for _svc, op, p in self.calls if op == operation]

    def mutating(self):
        return [op for op in self.ops() if not op.startswith(READ_PREFIXES)]


def _patch_moto_ecs(monkeypatch):
    """Make moto's ECS service model behave like ECS for the fields the modules manage."""
    from moto.ecs import models as ecs_models
    from moto.ecs.responses import EC2ContainerServiceResponse

    original_create = EC2ContainerServiceResponse.create_service
    original_update = ecs_models.EC2ContainerServiceBackend.update_service

    def create_service(self):
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.deployment_configuration = self._get_param("deploymentConfiguration") or {
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        }
        for param, attr, default in (
            ("capacityProviderStrategy", "capacity_provider_strategy", None),
            ("healthCheckGracePeriodSeconds", "health_check_grace_period_seconds", None),
            ("placementStrategy", "placement_strategy", None),
            ("enableExecuteCommand", "enable_execute_command", False),
        ):
            value = self._get_param(param)
            setattr(service, attr, value if value is not None else default)
        for deployment in service.deployments:
            deployment["rolloutState"] = "COMPLETED"
            deployment["rolloutStateReason"] = "ECS deployment completed."
        return result

    def update_service(self, service_properties):
        new_td = service_properties.get("task_definition")
        service = original_update(self, service_properties)
        if new_td:
            service.deployments = [
                {
                    "id": f"ecs-svc/{len(new_td)}{service.desired_count}",
                    "status": "PRIMARY",
                    "taskDefinition": new_td,
                    "desiredCount": service.desired_count,
                    "runningCount": service.desired_count,
                    "pendingCount": 0,
                    "rolloutState": "COMPLETED",
                    "rolloutStateReason": "ECS deployment completed.",
                }
            ]
        return service

    monkeypatch.setattr(EC2ContainerServiceResponse, "create_service", create_service)
    monkeypatch.setattr(ecs_models.EC2ContainerServiceBackend, "update_service", update_service)


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader():
    """Every module call builds a new boto3 session; share one data loader so
    the service models are parsed once per test run instead of once per call."""
    import botocore.loaders
    import botocore.session

    loaders = {}

    def create_loader(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    with mock.patch.object(botocore.session, "create_loader", create_loader):
        yield


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL", "EC2_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr("time.sleep", lambda _s: None)

    recorder = ApiRecorder()
    original = botocore.client.BaseClient._make_api_call

    def _make_api_call(client, operation_name, api_params):
        service = client.meta.service_model.service_name
        recorder.calls.append((service, operation_name, api_params))
        stub = recorder.stubs.get(operation_name)
        if stub is not None:
            return stub(api_params, lambda: original(client, operation_name, api_params))
        return original(client, operation_name, api_params)

    with mock_aws():
        _patch_moto_ecs(monkeypatch)
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _make_api_call)
        recorder.ecs = boto3.client("ecs", region_name=REGION)
        recorder.ecs.create_cluster(clusterName="test")
        recorder.reset()
        yield recorder


@pytest.fixture(autouse=True)
def _no_real_env(monkeypatch):
    # Modules must never pick up a developer's credentials or endpoints.
    monkeypatch.delenv("AWS_ENDPOINT_URL_ECS", raising=False)
    os.environ.pop("ANSIBLE_MODULE_ARGS", None)
