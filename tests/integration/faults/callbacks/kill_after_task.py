"""Test-only callback: SIGKILL a process right after a named task reports a change.

Enabled by the fault tier (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED=kill_after_task) to kill the
kube-apiserver at an exact moment of a role run: ARGOOPS_KILL_AFTER_TASK is the start of the task name,
ARGOOPS_KILL_PID the process to kill. It kills once."""
from __future__ import annotations

import os
import signal

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kill_after_task
type: aggregate
short_description: test-only - kill a process after a named task changed something
description: Used by tests/integration/faults only.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kill_after_task"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.done = False

    def v2_runner_on_ok(self, result):
        name = result.task_name or ""
        wanted = os.environ.get("ARGOOPS_KILL_AFTER_TASK", "")
        if not self.done and wanted and wanted in name and result._result.get("changed"):
            os.kill(int(os.environ["ARGOOPS_KILL_PID"]), signal.SIGKILL)
            self.done = True
