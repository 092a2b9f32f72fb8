"""Configuration loaded from environment variables.

Every required variable that is missing or malformed raises ``ConfigError``
whose message names the variable, so a task that fails at startup says
exactly what the task definition is missing.  The database password is never
part of any ``repr``/``str`` of these objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A required setting is missing or invalid.  ``variable`` names it."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"configuration error: {variable} {problem}")


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _require(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if value is None:
        raise ConfigError(name, "is required but not set")
    return value


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, got {value}")
    return value


@dataclass(frozen=True)
class DatabaseConfig:
    host: str | None = None
    port: int = 5432
    name: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    url: str | None = field(default=None, repr=False)
    connect_timeout: int = 3
    statement_timeout_ms: int = 5000

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect``."""
        kwargs: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "application_name": "ecsapp",
            "options": f"-c statement_timeout={self.statement_timeout_ms}",
        }
        if self.url:
            kwargs["conninfo"] = self.url
        else:
            kwargs.update(
                host=self.host,
                port=self.port,
                dbname=self.name,
                user=self.user,
                password=self.password,
            )
        return kwargs

    def secrets(self) -> list[str]:
        """Values that must never reach a log line."""
        out = []
        if self.password:
            out.append(self.password)
        if self.url:
            out.append(self.url)
            parts = urlsplit(self.url)
            if parts.password:
                out.append(parts.password)
                out.append(unquote(parts.password))
        return out

    def describe(self) -> str:
        """Password-free description for logs."""
        if self.url:
            parts = urlsplit(self.url)
            host = parts.hostname or "(socket)"
            return f"{parts.username or ''}@{host}:{parts.port or 5432}/{parts.path.lstrip('/')}"
        return f"{self.user}@{self.host}:{self.port}/{self.name}"


@dataclass(frozen=True)
class S3Config:
    bucket: str
    prefix: str = ""
    region: str = "us-east-1"
    endpoint_url: str | None = None
    max_object_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class Config:
    db: DatabaseConfig
    s3: S3Config
    log_level: str = "INFO"


def load_log_level(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def load_db_config(env: Mapping[str, str] | None = None) -> DatabaseConfig:
    env = os.environ if env is None else env
    connect_timeout = _int(env, "DB_CONNECT_TIMEOUT", 3, 1, 60)
    statement_timeout = _int(env, "DB_STATEMENT_TIMEOUT_MS", 5000, 0, 3_600_000)
    url = _get(env, "DATABASE_URL")
    if url:
        scheme = urlsplit(url).scheme
        if scheme not in ("postgres", "postgresql"):
            # Do not echo the URL: it may contain the password.
            raise ConfigError("DATABASE_URL", "must start with postgresql:// or postgres://")
        return DatabaseConfig(
            url=url,
            connect_timeout=connect_timeout,
            statement_timeout_ms=statement_timeout,
        )
    host = _require(env, "DB_HOST")
    port = _int(env, "DB_PORT", 5432, 1, 65535)
    name = _require(env, "DB_NAME")
    user = _require(env, "DB_USER")
    # Not stripped: a password may legitimately have surrounding spaces.
    password = env.get("DB_PASSWORD")
    if not password:
        raise ConfigError(
            "DB_PASSWORD",
            "is required but not set (ECS injects it from SSM via the task definition 'secrets')",
        )
    return DatabaseConfig(
        host=host,
        port=port,
        name=name,
        user=user,
        password=password,
        connect_timeout=connect_timeout,
        statement_timeout_ms=statement_timeout,
    )


def load_s3_config(env: Mapping[str, str] | None = None) -> S3Config:
    env = os.environ if env is None else env
    bucket = _require(env, "S3_BUCKET")
    region = _get(env, "AWS_REGION") or _get(env, "AWS_DEFAULT_REGION")
    if region is None:
        raise ConfigError("AWS_REGION", "is required but not set")
    prefix = env.get("S3_PREFIX", "") or ""
    if prefix.startswith("/"):
        raise ConfigError("S3_PREFIX", "must not start with '/'")
    return S3Config(
        bucket=bucket,
        prefix=prefix,
        region=region,
        endpoint_url=_get(env, "AWS_ENDPOINT_URL"),
        max_object_bytes=_int(env, "S3_MAX_OBJECT_BYTES", 5 * 1024 * 1024, 1, 100 * 1024 * 1024),
    )


def load_config(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    return Config(
        db=load_db_config(env),
        s3=load_s3_config(env),
        log_level=load_log_level(env),
    )
