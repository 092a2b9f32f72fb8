"""Tests of the local AWS emulator (emulator/): CLI, compatibility fixes, simulation.

One emulator is started through the CLI for the session on a free port (state in a temporary
directory), and one stock ``moto_server`` (no fixes) on another free port, so each fix is
checked both ways:

* ``test_stock_moto_still_has_gap[<fix>]`` FAILS once moto fixes the gap: delete that fix;
* ``test_emulator_closes_gap[<fix>]`` proves the emulator behaves like AWS.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # so `pytest` works without `python -m`
    sys.path.insert(0, str(PROJECT_ROOT))

from emulator import patches  # noqa: E402
REGION = "eu-west-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def http(method: str, url: str, payload: Any = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    try:
        return json.loads(body)
    except ValueError:
        return body


def client_factory(endpoint: str) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(
            service, endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
    return client


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(os.environ)
    env["EMULATOR_STATE_DIR"] = str(tmp_path_factory.mktemp("emulator-state"))
    env.pop("EMULATOR_PORT", None)
    return env


@pytest.fixture(scope="session")
def emulator(cli_env: dict[str, str]) -> Any:
    port = free_port()
    started = cli("start", "--port", str(port), env=cli_env)
    assert started.returncode == 0, started.stdout + started.stderr
    yield {"port": port, "url": f"http://127.0.0.1:{port}", "env": cli_env}
    cli("stop", "--port", str(port), env=cli_env)


@pytest.fixture(scope="session")
def stock_moto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A stock moto_server (no emulator code imported) in a subprocess."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("stock") / "moto.log", "wb")
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            http("GET", f"{endpoint}/moto-api/data.json")
            return True
        except OSError:
            return False

    assert wait_for(up, timeout=30), "stock moto_server did not start"
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture()
def aws(emulator: dict[str, Any]) -> Callable[[str], Any]:
    """boto3 client factory bound to a freshly reset emulator."""
    http("POST", f"{emulator['url']}/moto-api/reset")
    return client_factory(emulator["url"])


# ----------------------------------------------------------------------------- CLI
def test_cli_status_url_and_idempotent_start(emulator: dict[str, Any]) -> None:
    env, port = emulator["env"], str(emulator["port"])
    status = cli("status", "--port", port, env=env)
    assert status.returncode == 0 and "running" in status.stdout
    assert cli("url", "--port", port, env=env).stdout.strip() == emulator["url"]
    again = cli("start", "--port", port, env=env)
    assert again.returncode == 0 and "already running" in again.stdout
    health = http("GET", f"{emulator['url']}/_emulator/health")
    assert health["status"] == "ok" and health["moto"] == patches.PINNED_MOTO_VERSION
    assert health["fixes"] == [fix.id for fix in patches.FIXES]
    assert (Path(env["EMULATOR_STATE_DIR"]) / f"moto-{port}.pid").read_text().strip() == str(health["pid"])


def test_cli_lifecycle_on_another_port(cli_env: dict[str, str]) -> None:
    port = str(free_port())
    env = dict(cli_env, EMULATOR_PORT=port)  # port from the environment this time
    assert cli("status", env=env).returncode == 3
    assert cli("stop", env=env).returncode == 0  # no-op
    assert cli("start", env=env).returncode == 0
    pid_file = Path(env["EMULATOR_STATE_DIR"]) / f"moto-{port}.pid"
    pid = int(pid_file.read_text())
    assert cli("status", env=env).returncode == 0
    stopped = cli("stop", env=env)
    assert stopped.returncode == 0 and not pid_file.exists()
    assert cli("status", env=env).returncode == 3
    assert not Path(f"/proc/{pid}/cmdline").exists() or Path(f"/proc/{pid}/cmdline").read_bytes() == b""
    assert (Path(env["EMULATOR_STATE_DIR"]) / f"moto-{port}.log").exists()


def test_cli_reset_clears_moto_and_simulation(emulator: dict[str, Any], aws: Any) -> None:
    aws("ecs").create_cluster(clusterName="to-be-reset")
    http("POST", f"{emulator['url']}/_emulator/sim", {"enabled": False})
    reset = cli("reset", "--port", str(emulator["port"]), env=emulator["env"])
    assert reset.returncode == 0, reset.stderr
    assert aws("ecs").list_clusters()["clusterArns"] == []
    assert http("GET", f"{emulator['url']}/_emulator/sim")["enabled"] is True


def test_recorder_records_requests(emulator: dict[str, Any], aws: Any) -> None:
    base = f"{emulator['url']}/moto-api/recorder"
    http("POST", f"{base}/start-recording")
    http("POST", f"{base}/reset-recording")
    aws("ecs").create_cluster(clusterName="recorded")
    aws("ecs").list_clusters()
    recording = http("GET", f"{base}/download-recording")
    text = recording.decode() if isinstance(recording, bytes) else json.dumps(recording)
    assert "CreateCluster" in text and "ListClusters" in text


# ----------------------------------------------------------------------------- fixes
FIX_IDS = [fix.id for fix in patches.FIXES]


@pytest.mark.parametrize("fix_id", FIX_IDS)
def test_stock_moto_still_has_gap(stock_moto: str, fix_id: str) -> None:
    """Fails when moto fixes the gap: then remove the fix from emulator/patches.py."""
    assert patches.fix_by_id(fix_id).probe(client_factory(stock_moto)) is True


@pytest.mark.parametrize("fix_id", FIX_IDS)
def test_emulator_closes_gap(emulator: dict[str, Any], fix_id: str) -> None:
    assert patches.fix_by_id(fix_id).probe(client_factory(emulator["url"])) is False


def test_every_fix_is_documented() -> None:
    readme = (PROJECT_ROOT / "emulator" / "README.md").read_text()
    for fix in patches.FIXES:
        assert fix.symptom and fix.cause and fix.patch
        assert f"`{fix.id}`" in readme


# ----------------------------------------------------------------------------- simulation
def user_data(cluster: str) -> str:
    script = (
        "#!/bin/bash\n"
        "cat <<'EOF' >> /etc/ecs/ecs.config\n"
        f"ECS_CLUSTER={cluster}\n"
        "ECS_ENABLE_TASK_IAM_ROLE=true\n"
        "EOF\n"
    )
    return base64.b64encode(script.encode()).decode()


def make_asg(aws: Any, name: str, cluster: str, size: int = 1) -> None:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")[
        "Subnet"]["SubnetId"]
    template = ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.medium",
                            "UserData": user_data(cluster)},
    )["LaunchTemplate"]["LaunchTemplateId"]
    aws("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=0, MaxSize=size, DesiredCapacity=size,
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"}, VPCZoneIdentifier=subnet,
    )


def container_instances(aws: Any, cluster: str) -> list[dict[str, Any]]:
    arns = aws("ecs").list_container_instances(cluster=cluster)["containerInstanceArns"]
    if not arns:
        return []
    return aws("ecs").describe_container_instances(cluster=cluster, containerInstances=arns)[
        "containerInstances"]


def asg_instance_ids(aws: Any, name: str) -> set[str]:
    group = aws("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return {i["InstanceId"] for i in group["AutoScalingGroups"][0]["Instances"]}


def test_agent_registers_instances_of_the_cluster_named_in_user_data(aws: Any) -> None:
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="prod-ecs")
    ecs.create_cluster(clusterName="other-ecs")
    make_asg(aws, "prod-asg", "prod-ecs", size=2)
    make_asg(aws, "stray-asg", "missing-ecs", size=1)  # names a cluster that does not exist

    registered = wait_for(lambda: len(container_instances(aws, "prod-ecs")) == 2 and container_instances(aws, "prod-ecs"))
    assert registered, "ASG instances did not join prod-ecs"
    assert {ci["ec2InstanceId"] for ci in registered} == asg_instance_ids(aws, "prod-asg")
    resources = {r["name"]: r.get("integerValue") for r in registered[0]["registeredResources"]}
    assert resources["CPU"] == 2048 and 3700 < resources["MEMORY"] < 3900
    assert all(ci["status"] == "ACTIVE" and ci["agentConnected"] for ci in registered)
    time.sleep(0.3)
    assert container_instances(aws, "other-ecs") == []
    assert ecs.describe_clusters(clusters=["prod-ecs"])["clusters"][0]["registeredContainerInstancesCount"] == 2

    # scale in: terminated instances are deregistered
    aws("autoscaling").update_auto_scaling_group(AutoScalingGroupName="prod-asg", MinSize=0, DesiredCapacity=0)
    assert wait_for(lambda: container_instances(aws, "prod-ecs") == []), "terminated instances stayed registered"


def deploy_setup(aws: Any, with_capacity: bool = True) -> Any:
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="prod-ecs")
    if with_capacity:
        make_asg(aws, "prod-asg", "prod-ecs")
        assert wait_for(lambda: container_instances(aws, "prod-ecs"))
    for image in ("repo/web:1.0", "repo/web:broken-1", "repo/web:1.1"):
        ecs.register_task_definition(family="web", containerDefinitions=[
            {"name": "web", "image": image, "memory": 256, "essential": True}])
    return ecs


def describe(ecs: Any, name: str = "web") -> dict[str, Any]:
    return ecs.describe_services(cluster="prod-ecs", services=[name])["services"][0]


def primary_done(ecs: Any) -> Any:
    service = describe(ecs)
    primary = service["deployments"][0]
    return service if primary["rolloutState"] != "IN_PROGRESS" and len(service["deployments"]) == 1 else None


def test_scheduler_completes_a_rollout(aws: Any) -> None:
    ecs = deploy_setup(aws)
    ecs.create_service(cluster="prod-ecs", serviceName="web", taskDefinition="web:1", desiredCount=2,
                       deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    first = wait_for(lambda: primary_done(ecs))
    assert first and first["runningCount"] == 2 and first["deployments"][0]["rolloutState"] == "COMPLETED"

    updated = ecs.update_service(cluster="prod-ecs", service="web", taskDefinition="web:3")["service"]
    new_id = updated["deployments"][0]["id"]
    service = describe(ecs)  # immediately: a new PRIMARY, the old one ACTIVE
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY", "ACTIVE"]
    primary = service["deployments"][0]
    assert primary["id"] == new_id and primary["id"].startswith("ecs-svc/")
    assert primary["rolloutState"] == "IN_PROGRESS" and primary["taskDefinition"].endswith("web:3")

    done = wait_for(lambda: primary_done(ecs))
    assert done, "rollout did not complete"
    primary = done["deployments"][0]
    assert primary["id"] == new_id and primary["rolloutState"] == "COMPLETED"
    assert primary["runningCount"] == primary["desiredCount"] == 2 and done["pendingCount"] == 0
    assert done["taskDefinition"].endswith("web:3")
    assert done["events"][0]["message"] == "(service web) has reached a steady state."


def service_tasks(ecs: Any, status: str | None = None, name: str = "web") -> list[dict[str, Any]]:
    extra = {"desiredStatus": status} if status else {}
    arns = ecs.list_tasks(cluster="prod-ecs", serviceName=name, **extra)["taskArns"]
    return ecs.describe_tasks(cluster="prod-ecs", tasks=arns)["tasks"] if arns else []


def test_service_tasks_follow_the_completed_deployment(aws: Any) -> None:
    """What a waiter that counts tasks (ecs-deploy's) reads: RUNNING tasks of the service's task definition."""
    ecs = deploy_setup(aws)
    ecs.create_service(cluster="prod-ecs", serviceName="web", taskDefinition="web:1", desiredCount=2)
    first = wait_for(lambda: primary_done(ecs))
    assert first
    first_id = first["deployments"][0]["id"]
    tasks = wait_for(lambda: len(service_tasks(ecs)) == 2 and service_tasks(ecs))
    assert tasks, "the completed deployment has no RUNNING tasks"
    assert {(t["lastStatus"], t["taskDefinitionArn"].split("/")[-1], t["startedBy"], t["group"]) for t in tasks} == {
        ("RUNNING", "web:1", first_id, "service:web")}
    one_off = ecs.run_task(cluster="prod-ecs", taskDefinition="web:1")["tasks"][0]["taskArn"]
    assert one_off not in {t["taskArn"] for t in service_tasks(ecs)}, "serviceName filters out one-off tasks"

    new_id = ecs.update_service(cluster="prod-ecs", service="web", taskDefinition="web:3")["service"][
        "deployments"][0]["id"]
    assert wait_for(lambda: {t["taskDefinitionArn"].split("/")[-1] for t in service_tasks(ecs)} == {"web:3"})
    running = service_tasks(ecs)
    assert len(running) == 2 and {t["startedBy"] for t in running} == {new_id}
    stopped = [t for t in service_tasks(ecs, "STOPPED") if t["taskArn"] != one_off]
    assert {t["taskDefinitionArn"].split("/")[-1] for t in stopped} == {"web:1"} and len(stopped) == 2
    assert all(new_id in t["stoppedReason"] for t in stopped)

    ecs.update_service(cluster="prod-ecs", service="web", desiredCount=1)
    assert wait_for(lambda: len(service_tasks(ecs)) == 1), "a lower desired count stops a task"
    ecs.delete_service(cluster="prod-ecs", service="web", force=True)
    assert wait_for(lambda: not service_tasks(ecs)), "a deleted service has no RUNNING tasks"


def test_scheduler_fails_and_rolls_back_a_broken_image(aws: Any) -> None:
    ecs = deploy_setup(aws)
    ecs.create_service(cluster="prod-ecs", serviceName="web", taskDefinition="web:1", desiredCount=1,
                       deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    assert wait_for(lambda: primary_done(ecs))
    broken_id = ecs.update_service(cluster="prod-ecs", service="web", taskDefinition="web:2")[
        "service"]["deployments"][0]["id"]

    def failed_visible() -> Any:
        deployments = {d["id"]: d for d in describe(ecs)["deployments"]}
        return deployments.get(broken_id, {}).get("rolloutState") == "FAILED" and deployments[broken_id]
    failed = wait_for(failed_visible)
    assert failed, "broken deployment never showed FAILED"
    assert failed["status"] == "ACTIVE" and failed["failedTasks"] > 0
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."

    done = wait_for(lambda: primary_done(ecs))
    assert done and done["deployments"][0]["rolloutState"] == "COMPLETED"
    assert done["taskDefinition"].endswith("web:1")  # rolled back
    assert done["deployments"][0]["id"] != broken_id
    messages = [e["message"] for e in done["events"]]
    assert any(broken_id in m and "deployment failed" in m for m in messages)
    sim = http("GET", f"{ecs.meta.endpoint_url}/_emulator/sim")
    assert {d["id"]: d["outcome"] for d in sim["deployments"]}[broken_id] == "ROLLED_BACK"


def test_deployment_stays_in_progress_without_capacity(aws: Any) -> None:
    ecs = deploy_setup(aws, with_capacity=False)
    ecs.create_service(cluster="prod-ecs", serviceName="web", taskDefinition="web:1", desiredCount=1)
    time.sleep(1.0)
    service = describe(ecs)
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS" and service["runningCount"] == 0
    assert "unable to place a task" in service["events"][0]["message"]


def test_pausing_the_simulation_freezes_rollouts(aws: Any, emulator: dict[str, Any]) -> None:
    ecs = deploy_setup(aws)
    http("POST", f"{emulator['url']}/_emulator/sim", {"enabled": False})
    try:
        ecs.create_service(cluster="prod-ecs", serviceName="web", taskDefinition="web:1", desiredCount=1)
        time.sleep(0.8)
        assert describe(ecs)["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    finally:
        http("POST", f"{emulator['url']}/_emulator/sim", {"enabled": True})
    assert wait_for(lambda: primary_done(ecs))


def test_one_off_tasks_exit_codes(aws: Any) -> None:
    ecs = deploy_setup(aws)
    ecs.register_task_definition(family="migrate", containerDefinitions=[
        {"name": "migrate", "image": "repo/app:1.0", "memory": 128}])
    ecs.register_task_definition(family="migrate-broken", containerDefinitions=[
        {"name": "migrate", "image": "repo/app:broken-2", "memory": 128}])
    good = ecs.run_task(cluster="prod-ecs", taskDefinition="migrate")["tasks"][0]
    bad = ecs.run_task(cluster="prod-ecs", taskDefinition="migrate-broken")["tasks"][0]
    assert good["lastStatus"] == "PENDING"

    def stopped() -> Any:
        tasks = ecs.describe_tasks(cluster="prod-ecs", tasks=[good["taskArn"], bad["taskArn"]])["tasks"]
        return all(t["lastStatus"] == "STOPPED" for t in tasks) and {t["taskArn"]: t for t in tasks}
    tasks = wait_for(stopped)
    assert tasks, "tasks did not stop"
    assert tasks[good["taskArn"]]["containers"][0]["exitCode"] == 0
    assert tasks[bad["taskArn"]]["containers"][0]["exitCode"] == 1
    assert tasks[bad["taskArn"]]["stoppedReason"] == "Essential container in task exited"
    ecs.get_waiter("tasks_stopped").wait(cluster="prod-ecs", tasks=[good["taskArn"]])
