#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: env_lock
short_description: Take or release an environment lock on the controller (one converge at a time)
version_added: 1.1.0
description:
  - Gap filled - two ansible-playbook runs of the same environment at once would both change it; no module
    takes a lock. This one is an action plugin (it runs on the controller whatever the connection; this file
    only documents it).
  - C(state=present) creates C(<dir>/<name>.lock) holding the ansible-playbook process's pid (and its start
    time, against pid reuse), host, user, playbooks and start time. If another live run holds it, the task
    fails with a message naming that run. A lock is stale, and is taken over with a warning, when its pid is
    gone on this host (a crashed, killed or failed run), or when it comes from another host and is older
    than O(stale_minutes). Taking and releasing are serialised by C(flock) on C(<name>.lock.guard).
  - C(state=absent) removes the lock when this run holds it; a lock of another run is left alone.
  - Always reports C(changed=false) (the lock is not a change of the environment, so idempotence checks
    are unaffected), makes no API call. In check mode nothing is written; a lock held by another run gives
    a warning.
options:
  name:
    description: Lock name (letters, digits, C(_.@-)), e.g. C(<project>-<env>-<account>-<region>).
    type: str
    required: true
  state:
    description: C(present) takes the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  dir:
    description:
      - Directory of the lock files. Empty for C($ECSOPS_LOCK_DIR), else C($XDG_CACHE_HOME/ecsops/locks),
        else C(~/.cache/ecsops/locks).
    type: str
    default: ""
  stale_minutes:
    description: A lock taken on another host (shared directory) is stale after this many minutes.
    type: float
    default: 240
author:
  - ecsops maintainers (@ecsops)
"""

EXAMPLES = r"""
- name: Take the environment lock
  ecsops.platform.env_lock:
    name: ecsops-prod-123456789012-eu-west-1

- name: Release it
  ecsops.platform.env_lock:
    name: ecsops-prod-123456789012-eu-west-1
    state: absent
"""

RETURN = r"""
path:
  description: The lock file.
  returned: always
  type: str
holder:
  description: The lock's record (pid, pid_start, host, user, playbooks, started, epoch) after the call, or the other run's.
  returned: when a lock exists
  type: dict
took_over:
  description: The record of a stale lock that was taken over.
  returned: when a stale lock was taken over
  type: dict
"""
