"""Long-running local processes: started detached with their output in a log file, stopped by PID.

A PID is only signalled after checking that /proc/PID still runs the binary we started, so a
recycled PID can never make us kill somebody else's process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time


def start(argv: list[str], log_path: str, preexec=None, env: dict | None = None) -> int:
    """Start ``argv`` in its own session (it outlives us); stdout+stderr go to ``log_path``.
    ``preexec`` runs in the child before exec (the real node joins its namespaces there)."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with,subprocess-popen-preexec-fn
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=preexec, env=env)
    settle(proc.pid)
    return proc.pid


def settle(pid: int) -> None:
    """Right after exec, /proc/PID/cmdline reads empty for a moment; wait that out so alive()
    does not mistake a fresh process for a dead one."""
    for _attempt in range(100):
        if cmdline(pid) or is_zombie(pid):
            return
        time.sleep(0.01)


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def alive(pid: int | None, binary: str | None = None) -> bool:
    """True when ``pid`` runs and (if given) its command line mentions ``binary``."""
    if not pid:
        return False
    args = cmdline(pid)
    if not args or is_zombie(pid):
        return False
    if binary is None:
        return True
    name = os.path.basename(binary)
    return any(arg == binary or os.path.basename(arg) == name for arg in args[:4])


def reap(pid: int) -> None:
    """Collect our own exited child (no-op for processes started by another invocation)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(pid: int | None, binary: str | None = None, timeout: float = 20.0) -> bool:
    """SIGTERM, wait, then SIGKILL. Returns True when the process is gone (or was never ours)."""
    if not alive(pid, binary):
        return True
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        if _gone(pid, wait):
            return True
    return False


def _gone(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit (reaping it when it is our child)."""
    deadline = time.monotonic() + timeout
    while True:
        reap(pid)
        if not alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""
