"""Static checks of the Dockerfiles, nginx config and pins (no Docker daemon here)."""

import re
import shlex

import pytest
from appsupport import APP_DIR


def instructions(path):
    """Dockerfile instructions as (KEYWORD, args) with continuations joined."""
    text = path.read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kw, _, rest = line.partition(" ")
        out.append((kw.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "nginx/Dockerfile"])
def test_base_images_are_pinned(dockerfile):
    froms = [args for kw, args in instructions(APP_DIR / dockerfile) if kw == "FROM"]
    assert froms
    for args in froms:
        image = args.split()[0]
        assert ":" in image or "@sha256:" in image, image
        tag = image.split("@")[0].rsplit(":", 1)[-1]
        assert tag != "latest" and "latest" not in image
        # An exact version (x.y.z), not a floating major/minor tag.
        assert re.search(r"\d+\.\d+\.\d+", tag) or "@sha256:" in image, image


def test_app_dockerfile_runs_as_non_root_with_healthcheck_and_gunicorn():
    ins = instructions(APP_DIR / "Dockerfile")
    users = [args for kw, args in ins if kw == "USER"]
    assert users, "no USER instruction"
    final_user = users[-1].split(":")[0]
    assert final_user not in ("root", "0")
    # USER must come after the last RUN (which may need root) and before CMD.
    kws = [kw for kw, _ in ins]
    assert max(i for i, k in enumerate(kws) if k == "USER") > max(i for i, k in enumerate(kws) if k == "RUN")

    (health,) = [args for kw, args in ins if kw == "HEALTHCHECK"]
    assert "/healthz" in health and "urllib" in health
    assert "curl" not in health and "wget" not in health

    (cmd,) = [args for kw, args in ins if kw == "CMD"]
    assert cmd.startswith("[")  # exec form: gunicorn is PID 1 and gets SIGTERM
    assert "gunicorn" in cmd and "gunicorn.conf.py" in cmd and "wsgi:app" in cmd


def test_healthcheck_command_is_valid_python():
    ins = instructions(APP_DIR / "Dockerfile")
    (health,) = [args for kw, args in ins if kw == "HEALTHCHECK"]
    exec_form = health[health.index("CMD") + 3:].strip()
    import json

    argv = json.loads(exec_form)
    assert argv[0] == "python" and argv[1] == "-c"
    compile(argv[2], "<healthcheck>", "exec")


def test_nginx_proxies_to_app_link():
    conf = (APP_DIR / "nginx" / "nginx.conf").read_text()
    assert re.search(r"server\s+app:8000", conf)
    assert re.search(r"proxy_pass\s+http://app_upstream;", conf)
    assert conf.count("{") == conf.count("}")
    ins = instructions(APP_DIR / "nginx" / "Dockerfile")
    assert any(kw == "COPY" and "nginx.conf" in args for kw, args in ins)


def test_requirements_are_exactly_pinned():
    reqs = {}
    for line in (APP_DIR / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        assert "==" in line, f"not pinned exactly: {line}"
        name, version = line.split("==")
        reqs[re.sub(r"\[.*\]", "", name).lower()] = version
    assert reqs["boto3"] == "1.44.5" and reqs["botocore"] == "1.44.5"
    assert reqs["psycopg"] == "3.3.9"
    for name in ("flask", "gunicorn"):
        assert name in reqs


def test_dockerfile_copies_only_what_exists():
    for kw, args in instructions(APP_DIR / "Dockerfile"):
        if kw == "COPY" and "--from" not in args:
            *sources, _dest = shlex.split(args)
            for src in sources:
                if src.startswith("--"):
                    continue
                assert (APP_DIR / src).exists(), f"COPY source missing: {src}"
