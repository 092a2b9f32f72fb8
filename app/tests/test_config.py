import subprocess
import sys

import pytest
from appsupport import APP_DIR, json_lines, subprocess_env

from ecsapp.config import ConfigError, load_config, load_db_config

BASE = {
    "DB_HOST": "db.internal",
    "DB_NAME": "app",
    "DB_USER": "app",
    "DB_PASSWORD": "hunter2-secret",
    "S3_BUCKET": "bucket",
    "AWS_REGION": "eu-west-1",
}


def without(name):
    return {k: v for k, v in BASE.items() if k != name}


def test_complete_config_and_defaults():
    cfg = load_config(BASE)
    assert cfg.db.port == 5432
    assert cfg.db.host == "db.internal"
    assert cfg.s3.prefix == ""
    assert cfg.s3.region == "eu-west-1"
    assert cfg.s3.endpoint_url is None
    assert cfg.log_level == "INFO"
    kwargs = cfg.db.connect_kwargs()
    assert kwargs["password"] == "hunter2-secret" and kwargs["port"] == 5432


@pytest.mark.parametrize("name", ["DB_HOST", "DB_NAME", "DB_USER", "DB_PASSWORD", "S3_BUCKET", "AWS_REGION"])
def test_missing_required_variable_is_named(name):
    with pytest.raises(ConfigError) as exc:
        load_config(without(name))
    assert exc.value.variable == name
    assert name in str(exc.value)


def test_empty_value_counts_as_missing():
    with pytest.raises(ConfigError, match="DB_HOST"):
        load_config({**BASE, "DB_HOST": "  "})


@pytest.mark.parametrize(
    "name,value",
    [("DB_PORT", "abc"), ("DB_PORT", "70000"), ("LOG_LEVEL", "LOUD"), ("DB_CONNECT_TIMEOUT", "0")],
)
def test_malformed_values_are_named(name, value):
    with pytest.raises(ConfigError) as exc:
        load_config({**BASE, name: value})
    assert exc.value.variable == name


def test_aws_default_region_fallback():
    env = without("AWS_REGION")
    env["AWS_DEFAULT_REGION"] = "us-west-2"
    assert load_config(env).s3.region == "us-west-2"


def test_database_url_replaces_db_variables():
    env = {k: v for k, v in BASE.items() if not k.startswith("DB_")}
    env["DATABASE_URL"] = "postgresql://u:s3cr%40t@h:6543/d"
    cfg = load_config(env)
    assert cfg.db.connect_kwargs()["conninfo"] == env["DATABASE_URL"]
    assert cfg.db.describe() == "u@h:6543/d"
    assert "s3cr@t" in cfg.db.secrets() and "s3cr%40t" in cfg.db.secrets()


def test_database_url_bad_scheme_does_not_echo_url():
    env = {**BASE, "DATABASE_URL": "mysql://u:topsecretpw@h/d"}
    with pytest.raises(ConfigError) as exc:
        load_db_config(env)
    assert exc.value.variable == "DATABASE_URL"
    assert "topsecretpw" not in str(exc.value)


def test_password_not_in_repr():
    cfg = load_config(BASE)
    assert "hunter2-secret" not in repr(cfg)
    assert "hunter2-secret" not in str(cfg.db)
    assert "hunter2-secret" not in cfg.db.describe()


def test_wsgi_startup_fails_naming_the_variable():
    env = {k: v for k, v in BASE.items() if k != "S3_BUCKET"}
    res = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=APP_DIR, env=subprocess_env(env), capture_output=True, text=True, timeout=30,
    )
    assert res.returncode == 3, res.stderr
    lines = json_lines(res.stdout)
    assert lines[-1]["level"] == "error"
    assert lines[-1]["variable"] == "S3_BUCKET"
    assert "S3_BUCKET" in lines[-1]["detail"]
    assert "hunter2-secret" not in res.stdout + res.stderr
