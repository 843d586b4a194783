"""Argo's real workflow-controller as a local process, against the local control plane.

It always listens on :6060 (healthz) and :9090 (metrics), so only one may run on the machine: a
machine-wide flock under the cache dir guards the slot. The lock fd is handed to the controller
process itself, so the slot stays taken exactly as long as the controller lives, whether it was
started by a pytest fixture or by ``argo_controller.py start`` (which then exits).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

from . import build, paths, procs

HEALTHZ = "http://127.0.0.1:6060/healthz"
LOCK = "argo-controller"
# v4.0.5's controller never exits on SIGTERM: util/logging/init.go registers a SIGTERM handler that
# only flushes its start-up log, so the signal is swallowed (a pod of it always waits out its
# terminationGracePeriodSeconds). Waiting longer than this for it only wastes time, then SIGKILL.
SIGTERM_GRACE = 2.0


def _controller_dir(state: str) -> str:
    path = os.path.join(state, "argo-controller")
    os.makedirs(path, exist_ok=True)
    return path


def record_path(state: str, namespace: str) -> str:
    return os.path.join(_controller_dir(state), f"{namespace}.json")


def log_path(state: str, namespace: str) -> str:
    return os.path.join(_controller_dir(state), f"{namespace}.log")


def healthz() -> int | None:
    try:
        with urllib.request.urlopen(HEALTHZ, timeout=2) as response:  # nosec - loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


class ControllerHandle:
    """One controller process. Usable as a context manager (stops on exit)."""

    def __init__(self, pid: int, namespace: str, log_file: str, binary: str, popen=None, record=None):
        self.pid = pid
        self.namespace = namespace
        self.log_file = log_file
        self.binary = binary
        self._popen = popen
        self._record = record

    def running(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return procs.alive(self.pid, self.binary)

    def exit_code(self) -> int | None:
        """The exit status (only known to the process that started it); None while running."""
        if self._popen is not None:
            return self._popen.poll()
        return None if self.running() else -1

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until /healthz answers 200 (the controller is leader and its informers synced)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"workflow-controller exited with {self.exit_code()} before it was ready; "
                                   f"log {self.log_file}:\n{procs.tail(self.log_file)}")
            if healthz() == 200:
                return
            time.sleep(0.5)
        raise TimeoutError(f"workflow-controller not healthy after {timeout:.0f}s; log:\n{procs.tail(self.log_file)}")

    def wait_exit(self, timeout: float = 60.0) -> int | None:
        """The exit code once it exits (e.g. after a fatal config error); None if still running."""
        deadline = time.monotonic() + timeout
        while self.running():  # looked at least once, also with timeout 0
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.3)
        return self.exit_code()

    def log(self) -> str:
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def stop(self) -> None:
        if self._popen is not None:
            if self._popen.poll() is None:
                self._popen.terminate()
                try:
                    self._popen.wait(SIGTERM_GRACE)
                except subprocess.TimeoutExpired:
                    self._popen.kill()
                    self._popen.wait(10)
        else:
            procs.stop(self.pid, self.binary, timeout=SIGTERM_GRACE)
        if self._record and os.path.exists(self._record):
            os.remove(self._record)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(state: str, kubeconfig: str, namespace: str, configmap: str = "workflow-controller-configmap",
          env: dict | None = None, namespaced: bool = True, lock_timeout: float = 1800.0,
          log=print) -> ControllerHandle:
    """Start the controller for ``namespace`` (waiting for the machine-wide slot). It runs in its
    own session, so it outlives the caller (the CLI) unless stopped."""
    argo = build.ensure("argo", log)
    binary = argo.path("workflow-controller")
    log_file = log_path(state, namespace)
    with open(log_file, "w", encoding="utf-8"):
        pass  # a fresh log per start, so a test reads only this run
    lock_fd = paths.acquire_lock(paths.lock_path(LOCK), lock_timeout, "the single workflow-controller slot")
    try:
        argv = [binary, "--kubeconfig", kubeconfig, "-n", namespace, "--configmap", configmap,
                "--executor-image", f"quay.io/argoproj/argoexec:{build.ARGO_VERSION}"]
        if namespaced:
            argv.append("--namespaced")
        full_env = dict(os.environ, LEADER_ELECTION_DISABLE="true", **(env or {}))
        paths.describe_holder(lock_fd, f"workflow-controller for namespace {namespace} (state {state}, log {log_file})")
        with open(log_file, "ab") as out:
            popen = subprocess.Popen(  # pylint: disable=consider-using-with
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=full_env,
                start_new_session=True, pass_fds=(lock_fd,))
    finally:
        os.close(lock_fd)  # the controller now holds the slot
    procs.settle(popen.pid)
    record = record_path(state, namespace)
    with open(record, "w", encoding="utf-8") as handle:
        json.dump({"pid": popen.pid, "namespace": namespace, "configmap": configmap, "log": log_file,
                   "binary": binary}, handle)
    log(f"workflow-controller {build.ARGO_VERSION}: pid {popen.pid}, namespace {namespace}, log {log_file}")
    return ControllerHandle(popen.pid, namespace, log_file, binary, popen, record)


def find(state: str, namespace: str) -> ControllerHandle | None:
    """The controller a previous ``start`` (possibly another process) left for ``namespace``."""
    try:
        with open(record_path(state, namespace), encoding="utf-8") as handle:
            rec = json.load(handle)
    except (OSError, ValueError):
        return None
    return ControllerHandle(rec["pid"], namespace, rec["log"], rec["binary"], record=record_path(state, namespace))


def stop_all(state: str) -> None:
    folder = os.path.join(state, "argo-controller")
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if name.endswith(".json"):
            handle = find(state, name[:-5])
            if handle:
                handle.stop()
