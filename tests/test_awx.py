"""AWX as code (awx/): the generated assets are current and consistent with the repository, the
execution environment definitions produce a sane build context, and the `<env> redeploy` job
template runs the way AWX runs it (ansible-runner, private data directory) against the emulator."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import LOCAL_NAMES, ROOT, VENV_BIN, Emulator, playbook

AWX = ROOT / "awx"
PROJECT_TAGS = {"network", "platform", "edge", "data", "deploy", "scaling", "always"}
SECRET_RE = re.compile(r"password|secret|token|key=|AKIA[0-9A-Z]{12,}", re.I)
PREFIX = LOCAL_NAMES["prefix"]

# Every survey variable the templates may ask for: (AWX question type, required).
KNOWN_SURVEY_VARS = {
    "deploy_services": ("text", True),
    "image_tag": ("text", True),
    "nginx_image_tag": ("text", False),
    "rollback_to": ("text", False),
    "confirm_teardown": ("text", True),
}


def _validation() -> Any:
    path = ROOT / "collections/ansible_collections/ecsops/platform/plugins/filter/validation.py"
    spec = importlib.util.spec_from_file_location("ecsops_validation_for_tests", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def assets() -> dict[str, Any]:
    return yaml.safe_load((AWX / "assets.yml").read_text())


def _templates(assets: dict[str, Any]) -> list[dict[str, Any]]:
    return assets["job_templates"]


def _env_of(jt: dict[str, Any]) -> str:
    return jt["inventory"]["name"].removeprefix("ecsops-")


def _survey(jt: dict[str, Any]) -> list[dict[str, Any]]:
    return (jt.get("related", {}).get("survey_spec") or {}).get("spec", [])


def test_assets_are_current_and_load(assets: dict[str, Any]) -> None:
    res = subprocess.run([sys.executable, str(AWX / "build.py"), "--check"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert [o["name"] for o in assets["organizations"]] == ["ecsops"]
    assert [p["name"] for p in assets["projects"]] == ["ecsops-playbooks"]
    project = assets["projects"][0]
    assert (project["scm_type"], project["scm_branch"], project["scm_update_on_launch"]) == ("git", "main", True)
    assert [e["image"] for e in assets["execution_environments"]] == ["registry.example.com/ecsops-ee:1.0.0"]
    names = {jt["name"] for jt in _templates(assets)}
    assert names == {f"{env} {kind}" for env in ("staging", "prod")
                     for kind in ("provision", "redeploy", "rollback", "plan", "teardown")}
    # Every reference resolves to an object of the file (awx import resolves them by natural key).
    keys = {yaml.safe_dump(o["natural_key"]) for kind in ("organizations", "projects", "inventory", "credentials",
                                                          "execution_environments") for o in assets[kind]}
    for jt in _templates(assets):
        for ref in (jt["inventory"], jt["project"], jt["execution_environment"], *jt["related"]["credentials"]):
            assert yaml.safe_dump(ref) in keys, (jt["name"], ref)


def test_inventories_map_to_repository_directories(assets: dict[str, Any]) -> None:
    sources = {s["inventory"]["name"]: s for s in assets["inventory_sources"]}
    assert set(sources) == {i["name"] for i in assets["inventory"]} == {"ecsops-staging", "ecsops-prod"}
    for name, src in sources.items():
        env = name.removeprefix("ecsops-")
        assert src["source"] == "scm" and src["source_project"]["name"] == "ecsops-playbooks"
        assert src["source_path"] == f"inventories/{env}"
        assert (ROOT / src["source_path"] / "hosts.yml").is_file()
        assert (ROOT / src["source_path"] / "group_vars/all/env.yml").is_file()
        assert src["overwrite"] and src["update_on_launch"]


def test_job_templates_are_consistent_with_the_project(assets: dict[str, Any]) -> None:
    inventories = {i["name"] for i in assets["inventory"]}
    credentials = {c["name"] for c in assets["credentials"]}
    for jt in _templates(assets):
        env = _env_of(jt)
        assert (ROOT / jt["playbook"]).is_file(), f"{jt['name']}: playbook {jt['playbook']} does not exist"
        assert jt["inventory"]["name"] in inventories and (ROOT / "inventories" / env).is_dir()
        assert [c["name"] for c in jt["related"]["credentials"]] == [f"ecsops-aws-{env}"]
        assert f"ecsops-aws-{env}" in credentials
        assert jt["execution_environment"]["name"] == "ecsops-ee"
        assert jt["allow_simultaneous"] is False, jt["name"]
        assert jt["verbosity"] == 0
        tags = {t for t in jt["job_tags"].split(",") if t}
        assert tags <= PROJECT_TAGS, f"{jt['name']}: unknown tag(s) {tags - PROJECT_TAGS}"
        assert jt["survey_enabled"] is bool(_survey(jt))
        kind = jt["name"].split()[-1]
        if kind == "redeploy":
            assert tags == {"deploy"} and jt["ask_limit_on_launch"] is True
        if kind == "plan":
            assert jt["job_type"] == "check" and jt["diff_mode"] is True
        else:
            assert jt["job_type"] == "run"


def test_job_template_playbooks_pass_syntax_check(assets: dict[str, Any]) -> None:
    for env in sorted({_env_of(jt) for jt in _templates(assets)}):
        books = sorted({jt["playbook"] for jt in _templates(assets) if _env_of(jt) == env})
        res = subprocess.run([str(VENV_BIN / "ansible-playbook"), "--syntax-check", "-i", f"inventories/{env}", *books],
                             cwd=ROOT, capture_output=True, text=True, timeout=300,
                             env={**_clean_env(), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")})
        assert res.returncode == 0, res.stdout + res.stderr


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}


def test_surveys_ask_only_known_variables_with_valid_samples(assets: dict[str, Any]) -> None:
    validation = _validation()
    teardown_spec = yaml.safe_load((ROOT / "roles/preflight/meta/argument_specs.yml").read_text())
    confirm_spec = teardown_spec["argument_specs"]["teardown"]["options"]["confirm_teardown"]
    for jt in _templates(assets):
        env = _env_of(jt)
        services = list(yaml.safe_load((ROOT / f"inventories/{env}/hosts.yml").read_text())
                        ["all"]["children"]["services"]["hosts"])
        for q in _survey(jt):
            var = q["variable"]
            assert var in KNOWN_SURVEY_VARS, f"{jt['name']}: survey variable {var} is not one the playbooks read"
            assert (q["type"], q["required"]) == KNOWN_SURVEY_VARS[var], (jt["name"], var)
            if var in ("image_tag", "nginx_image_tag"):
                assert validation._TAG_RE.pattern in q["question_description"]
                svc = {"service_containers": [{"name": "app", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
                                               "tag": "1.0.0", "tag_var": var}]}
                for good in ("1.2.0", "4f2c1ab", "v2026.05.01"):
                    assert validation.service_errors(svc, "web", env, ["staging", "prod"], {var: good}) == []
                    assert q["min"] <= len(good) <= q["max"]
                bad = validation.service_errors(svc, "web", env, ["staging", "prod"], {var: "latest"})
                assert bad and "moving tag" in bad[0]
                assert q["max"] == 128  # the longest tag the rule accepts
            elif var == "deploy_services":
                for svc_name in services:
                    assert svc_name in q["question_description"]
                    assert re.fullmatch(r"[a-z][a-z0-9-]{0,30}", svc_name)
            elif var == "rollback_to":
                assert q["default"] == "previous"
            elif var == "confirm_teardown":
                assert confirm_spec["type"] == "str" and confirm_spec["required"] is True
                assert not q["default"], "the confirmation must be typed, never pre-filled"
                assert env in q["question_name"]


def test_no_secrets_in_extra_vars_defaults_or_inputs(assets: dict[str, Any]) -> None:
    for jt in _templates(assets):
        assert not SECRET_RE.search(jt["extra_vars"]), jt["name"]
        for q in _survey(jt):
            assert q["type"] != "password"
            assert not SECRET_RE.search(str(q.get("default", ""))), (jt["name"], q["variable"])
    for cred in assets["credentials"]:
        assert cred["inputs"] == {}, f"{cred['name']}: credential inputs are filled in AWX, never here"
    assert not re.search(r"AKIA[0-9A-Z]{12,}|aws_secret_access_key", (AWX / "assets.yml").read_text(), re.I)


# ---------------------------------------------------------------------------------------------
# Execution environment
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("definition", ["execution-environment.yml", "execution-environment-offline.yml"])
def test_execution_environment_build_context(definition: str, tmp_path: Path) -> None:
    context = tmp_path / "context"
    res = subprocess.run([sys.executable, "-m", "ansible_builder", "create", "-f", str(AWX / definition),
                          "--context", str(context), "--output-filename", "Containerfile"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.21.5 ansible-runner==2.4.3"' in containerfile
    assert 'PYCMD="/usr/bin/python3.12"' in containerfile
    pins = {line for line in (build / "requirements.txt").read_text().split() if "==" in line}
    project_pins = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    # mitogen: the opt-in strategy ecsops.platform.mitogen_linear cannot load without it.
    assert {"boto3==1.44.5", "botocore==1.44.5", "jmespath==1.0.1", "mitogen==0.3.54"} <= pins <= project_pins
    # The project's own collection is copied in, whole.
    ours = ROOT / "collections/ansible_collections/ecsops"
    assert (build / "ecsops_collection/platform/galaxy.yml").is_file() or (build / "ecsops_collection/platform/MANIFEST.json").is_file()
    for f in (ours / "platform/plugins").rglob("*.py"):
        assert (build / "ecsops_collection" / f.relative_to(ours)).is_file(), f
    assert "COPY _build/ecsops_collection /usr/share/ansible/collections/ansible_collections/ecsops" in containerfile
    if definition == "execution-environment.yml":
        galaxy = yaml.safe_load((build / "requirements.yml").read_text())
        assert galaxy == yaml.safe_load((ROOT / "collections/requirements.yml").read_text())
        assert "ansible-galaxy collection install" in containerfile
    else:
        assert "ansible==14.5.0" in pins and "ansible==14.5.0" in project_pins
        assert not (build / "requirements.yml").exists() and "ansible-galaxy collection install" not in containerfile


# ---------------------------------------------------------------------------------------------
# The redeploy job template, run as AWX runs it
# ---------------------------------------------------------------------------------------------

def _service(emulator: Emulator, name: str) -> dict[str, Any]:
    found = emulator.client("ecs").describe_services(cluster=PREFIX, services=[name])["services"]
    return found[0] if found else {}


def _images(emulator: Emulator, task_definition: str) -> dict[str, str]:
    td = emulator.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return {c["name"]: c["image"] for c in td["containerDefinitions"]}


def _awx_private_data_dir(tmp_path: Path, jt: dict[str, Any], answers: dict[str, Any], emulator: Emulator) -> Path:
    """What AWX hands ansible-runner: project/ (the checkout), inventory/, env/{extravars,cmdline,envvars}."""
    pdd = tmp_path / "pdd"
    project = pdd / "project"
    project.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for item in ("site.yml", "ansible.cfg", "requirements.yml"):
        shutil.copy2(ROOT / item, project / item)
    for item in ("playbooks", "roles", "collections", "inventories"):
        shutil.copytree(ROOT / item, project / item, ignore=ignore)
    # AWX writes the synced inventory; here the emulator's inventory stands in for ecsops-<env>.
    shutil.copytree(ROOT / "inventories/local", pdd / "inventory", ignore=ignore)
    (pdd / "env").mkdir()
    # Survey answers are checked against the survey spec, as AWX does before launching.
    spec = {q["variable"]: q for q in _survey(jt)}
    assert set(answers) <= set(spec)
    for var, q in spec.items():
        if q["required"]:
            assert q["min"] <= len(str(answers[var])) <= q["max"], var
    extravars = {**(yaml.safe_load(jt["extra_vars"]) or {}), **answers}
    (pdd / "env/extravars").write_text(yaml.safe_dump(extravars))
    cmdline = []
    if jt["job_tags"]:
        cmdline += ["--tags", jt["job_tags"]]
    if jt["job_type"] == "check":
        cmdline.append("--check")
    if jt["diff_mode"]:
        cmdline.append("--diff")
    (pdd / "env/cmdline").write_text(" ".join(cmdline))
    # The AWS credential injects these (the emulator's dummy keys); EMULATOR_PORT points the inventory at it.
    envvars = {k: emulator.env[k] for k in ("EMULATOR_PORT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    envvars["PATH"] = emulator.env["PATH"]
    (pdd / "env/envvars").write_text(yaml.safe_dump(envvars))
    return pdd


@pytest.fixture()
def converged_now(converged: dict[str, Any], emulator: Emulator) -> Emulator:
    """The converged environment; converged again if a resetting test (teardown, bad input) emptied it."""
    svc = _service(emulator, "web")
    if svc.get("status") != "ACTIVE":
        emulator.reset()
        run = playbook(emulator, "site.yml")
        assert run.rc == 0, run.tail()
    return emulator


@pytest.mark.slow
def test_redeploy_template_runs_as_awx_runs_it(assets: dict[str, Any], converged_now: Emulator, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import ansible_runner

    emulator = converged_now
    for var in [k for k in os.environ if k.startswith(("ANSIBLE_", "AWS_"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("PATH", f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    jt = next(t for t in _templates(assets) if t["name"] == "staging redeploy")
    before = {s: _service(emulator, s)["taskDefinition"] for s in ("web", "worker")}
    before_images = _images(emulator, before["web"])
    pdd = _awx_private_data_dir(tmp_path, jt, {"deploy_services": "web", "image_tag": "1.2.0"}, emulator)
    try:
        # (ansible-runner's `binary=` would drop the playbook argument: PATH selects the venv's ansible-playbook.)
        result = ansible_runner.run(private_data_dir=str(pdd), playbook=jt["playbook"], quiet=True, timeout=900)
        stdout = result.stdout.read()
        assert (result.status, result.rc) == ("successful", 0), stdout[-6000:]
        # --tags deploy with deploy_services=web: only the web host (and preflight's account) ran.
        assert set(result.stats["ok"]) <= {"account", "web"}, result.stats
        web = _service(emulator, "web")
        assert web["taskDefinition"] != before["web"]
        assert int(web["taskDefinition"].rsplit(":", 1)[1]) > int(before["web"].rsplit(":", 1)[1])
        images = _images(emulator, web["taskDefinition"])
        assert images["app"].endswith(":1.2.0"), images
        assert images["nginx"] == before_images["nginx"]
        assert web["deployments"][0]["rolloutState"] == "COMPLETED"
        assert _service(emulator, "worker")["taskDefinition"] == before["worker"]
    finally:
        # Later tests expect the converged images: roll web back the normal way.
        back = playbook(emulator, "playbooks/rollback.yml", "--limit", "web",
                        "-e", f"rollback_to={before['web'].split('/')[-1]}")
        assert back.rc == 0, back.tail()
    assert _service(emulator, "web")["taskDefinition"] == before["web"]
    assert _images(emulator, before["web"]) == before_images
