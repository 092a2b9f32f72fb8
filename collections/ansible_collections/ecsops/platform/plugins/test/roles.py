# -*- coding: utf-8 -*-
"""Jinja tests about the project's roles."""

from __future__ import annotations

import os


def role_has_validate(role, roles_dir):
    """True when roles/<role>/tasks/validate.yml exists (its cross-checks run in preflight)."""
    return os.path.isfile(os.path.join(roles_dir, role, "tasks", "validate.yml"))


class TestModule:
    def tests(self):
        return {"role_has_validate": role_has_validate}
