"""PostgreSQL access (psycopg 3).

One short-lived connection per request keeps the service simple and safe with
gunicorn's pre-fork model (no connection is ever shared across a fork).  The
connect timeout and a server-side statement timeout bound every request.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.rows import dict_row

from .config import DatabaseConfig

NOTES_LIST_LIMIT = 50


@contextmanager
def connect(cfg: DatabaseConfig, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """Open a connection; commit on success, roll back on error, always close."""
    conn = psycopg.connect(autocommit=autocommit, row_factory=dict_row, **cfg.connect_kwargs())
    try:
        with conn:
            yield conn
    finally:
        if not conn.closed:
            conn.close()


def ping(cfg: DatabaseConfig) -> None:
    with connect(cfg, autocommit=True) as conn:
        row = conn.execute("SELECT 1 AS ok").fetchone()
        if not row or row["ok"] != 1:
            raise RuntimeError("SELECT 1 returned an unexpected result")


def _note(row: dict) -> dict:
    return {"id": row["id"], "text": row["text"], "created_at": row["created_at"].isoformat()}


def insert_note(cfg: DatabaseConfig, text: str) -> dict:
    with connect(cfg) as conn:
        row = conn.execute(
            "INSERT INTO notes (text) VALUES (%s) RETURNING id, text, created_at", (text,)
        ).fetchone()
    return _note(row)


def list_notes(cfg: DatabaseConfig, limit: int = NOTES_LIST_LIMIT) -> list[dict]:
    with connect(cfg, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, text, created_at FROM notes ORDER BY created_at DESC, id DESC LIMIT %s",
            (limit,),
        ).fetchall()
    return [_note(r) for r in rows]
