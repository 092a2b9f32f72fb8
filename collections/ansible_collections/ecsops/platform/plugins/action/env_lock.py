# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ecsops.platform.env_lock: an environment lock file on the controller.

Runs on the controller whatever the connection (an action plugin, not a module), in the worker process
that ansible-playbook forks for the task: the worker's parent is the ansible-playbook process, whose pid
the lock records. A lock whose pid is gone on this host is stale, so a crashed, killed or failed run
never blocks the next one.
"""

from __future__ import annotations

import datetime
import fcntl
import getpass
import json
import os
import re
import socket
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

ARGS = {"name", "state", "dir", "stale_minutes"}


def lock_dir(configured: str | None) -> str:
    if configured:
        return os.path.expanduser(configured)
    if os.environ.get("ECSOPS_LOCK_DIR"):
        return os.path.expanduser(os.environ["ECSOPS_LOCK_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "ecsops", "locks")


def _start_ticks(pid: int) -> str | None:
    """Start time of ``pid`` (clock ticks since boot), or None: guards against pid reuse."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if start is None:
        return True
    now = _start_ticks(pid)
    return now is None or now == start


def _playbooks(pid: int) -> list[str]:
    """The playbook files on ansible-playbook's command line (nothing else: -e may carry secrets)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return []
    return [os.path.basename(a) for a in argv if a.endswith((".yml", ".yaml")) and not a.startswith("-")]


def describe(holder: dict, now: float) -> str:
    started = holder.get("started", "?")
    minutes = (now - float(holder.get("epoch", now))) / 60
    what = ", ".join(holder.get("playbooks") or []) or "ansible-playbook"
    return (f"{holder.get('user', '?')}@{holder.get('host', '?')} pid {holder.get('pid', '?')} ({what}) "
            f"since {started} ({minutes:.0f} min ago)")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        unknown = set(args) - ARGS
        if unknown:
            raise AnsibleActionFail(f"env_lock: unsupported parameters {', '.join(sorted(unknown))}")
        name = str(args.get("name") or "")
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,200}$", name):
            raise AnsibleActionFail(f"env_lock: name must be letters, digits, '_.@-' (got {name!r})")
        state = args.get("state", "present")
        if state not in ("present", "absent"):
            raise AnsibleActionFail(f"env_lock: state must be present or absent (got {state!r})")
        try:
            stale_minutes = float(args.get("stale_minutes", 240))
        except (TypeError, ValueError) as exc:
            raise AnsibleActionFail(f"env_lock: stale_minutes must be a number: {exc}") from exc
        directory = lock_dir(args.get("dir"))
        path = os.path.join(directory, f"{name}.lock")
        check_mode = bool(self._task.check_mode if self._task.check_mode is not None else self._play_context.check_mode)

        pid = os.getppid()  # the ansible-playbook process that forked this worker
        me = {"pid": pid, "pid_start": _start_ticks(pid), "host": socket.gethostname(), "user": getpass.getuser()}
        result.update(changed=False, path=path, name=name)
        if check_mode and state == "present":
            holder = self._read(path)
            if holder and not self._mine(holder, me) and not self._stale(holder, me, stale_minutes)[0]:
                result["holder"] = holder
                result["msg"] = f"environment lock {name} is held by {describe(holder, time.time())}: this plan may see a change in progress"
                self._display.warning(result["msg"])
            else:
                result["msg"] = "check mode: the lock is not taken"
            return result

        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            with open(path + ".guard", "a", encoding="utf-8") as guard:
                fcntl.flock(guard, fcntl.LOCK_EX)  # serialises acquirers and releasers on this host
                try:
                    holder = self._read(path)
                    if state == "absent":
                        return self._release(result, path, holder, me)
                    return self._acquire(result, path, holder, me, stale_minutes)
                finally:
                    fcntl.flock(guard, fcntl.LOCK_UN)
        except OSError as exc:
            result.update(failed=True, msg=(
                f"env_lock: cannot use the lock directory {directory}: {exc}. Set env_lock_dir (or ECSOPS_LOCK_DIR) "
                "to a writable directory, or env_lock_enabled: false"))
            return result

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            return data if isinstance(data, dict) else {"corrupt": True}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"corrupt": True}

    @staticmethod
    def _mine(holder: dict, me: dict) -> bool:
        return holder.get("host") == me["host"] and holder.get("pid") == me["pid"] and holder.get("pid_start") == me["pid_start"]

    @staticmethod
    def _stale(holder: dict, me: dict, stale_minutes: float) -> tuple[bool, str]:
        if holder.get("corrupt"):
            return True, "unreadable lock file"
        if holder.get("host") == me["host"]:
            if not _alive(int(holder.get("pid", 0)), holder.get("pid_start")):
                return True, f"its ansible-playbook (pid {holder.get('pid')}) is gone"
            return False, ""
        age = (time.time() - float(holder.get("epoch", 0))) / 60
        if age > stale_minutes:
            return True, f"taken on another host {age:.0f} min ago (stale after {stale_minutes:.0f})"
        return False, ""

    def _acquire(self, result: dict, path: str, holder: dict | None, me: dict, stale_minutes: float) -> dict:
        now = time.time()
        if holder and self._mine(holder, me):
            result.update(msg=f"lock {result['name']} already held by this run", holder=holder)
            return result
        if holder:
            stale, why = self._stale(holder, me, stale_minutes)
            if not stale:
                result.update(failed=True, holder=holder, msg=(
                    f"environment {result['name']} is being changed by {describe(holder, now)}. "
                    f"Nothing was changed by this run. Wait for that run to finish and retry; if it is no longer "
                    f"running (another host, a lost controller), remove {path}"))
                return result
            result["took_over"] = holder
            self._display.warning(f"taking over the stale lock {path} ({why}): held by {describe(holder, now)}")
        record = dict(me, epoch=now, playbooks=_playbooks(me["pid"]),
                      started=datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        tmp_path = f"{path}.{me['pid']}.tmp"
        with open(tmp_path, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp_path, path)  # atomic: readers see the old or the new lock, never half of one
        result.update(msg=f"lock {result['name']} taken", holder=record)
        return result

    def _release(self, result: dict, path: str, holder: dict | None, me: dict) -> dict:
        if holder is None:
            result["msg"] = f"lock {result['name']} was not held"
        elif self._mine(holder, me):
            os.unlink(path)
            result["msg"] = f"lock {result['name']} released"
        else:
            result.update(msg=f"lock {result['name']} is held by another run ({describe(holder, time.time())}); left alone",
                          holder=holder)
        return result
