"""S3 access (boto3).  Credentials come from the standard AWS chain; on ECS
that is the task role via the container credentials endpoint."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from .config import S3Config


class ObjectNotFound(Exception):
    pass


class InvalidDocument(Exception):
    pass


class ObjectTooLarge(Exception):
    pass


def make_client(cfg: S3Config):
    return boto3.session.Session().client(
        "s3",
        region_name=cfg.region,
        endpoint_url=cfg.endpoint_url,
        config=BotoConfig(
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 3, "mode": "standard"},
            # Path-style works with emulators (moto, MinIO, LocalStack).
            s3={"addressing_style": "path"} if cfg.endpoint_url else None,
        ),
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def head_bucket(client, cfg: S3Config) -> None:
    client.head_bucket(Bucket=cfg.bucket)


def object_key(cfg: S3Config, key: str) -> str:
    return f"{cfg.prefix}{key}.json"


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not valid JSON (RFC 8259); refuse to pass them on.
    raise ValueError(f"invalid JSON constant {name}")


def get_json(client, cfg: S3Config, key: str) -> Any:
    s3_key = object_key(cfg, key)
    try:
        resp = client.get_object(Bucket=cfg.bucket, Key=s3_key)
    except ClientError as exc:
        if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            raise ObjectNotFound(s3_key) from None
        raise
    body = resp["Body"]
    try:
        length = resp.get("ContentLength")
        if length is not None and length > cfg.max_object_bytes:
            raise ObjectTooLarge(s3_key)
        data = body.read(cfg.max_object_bytes + 1)
        if len(data) > cfg.max_object_bytes:
            raise ObjectTooLarge(s3_key)
    finally:
        body.close()
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidDocument(f"{s3_key}: {exc.__class__.__name__}") from None
