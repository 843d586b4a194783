"""Where things live: the repository, the binary cache (outside the repo) and the cluster state."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time

CONTROLPLANE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(os.path.dirname(CONTROLPLANE_DIR))


def cache_dir() -> str:
    """Binaries and locks shared by every checkout on the machine, never inside the repository."""
    explicit = os.environ.get("ARGOOPS_CACHE")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "argoops-workflows")


def state_dir() -> str:
    """The running cluster's state (PIDs, logs, certificates, data): git-ignored, under .build/."""
    return os.environ.get("ARGOOPS_CLUSTER_DIR") or os.path.join(REPO_ROOT, ".build", "cluster")


def lock_path(name: str) -> str:
    locks = os.path.join(cache_dir(), "locks")
    os.makedirs(locks, exist_ok=True)
    return os.path.join(locks, name + ".lock")


def acquire_lock(path: str, timeout: float, what: str) -> int:
    """Take an exclusive flock on ``path`` (waiting up to ``timeout``) and return the open fd.

    The lock lives as long as any process holds the fd, so passing it to a child keeps it held
    after this process exits (how the single Argo controller slot works).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
        if time.monotonic() > deadline:
            os.close(fd)
            raise TimeoutError(f"waited {timeout:.0f}s for the lock {path} ({what}); held by: {_holder(path)}")
        if not announced:
            print(f"waiting for the lock {path} ({what}); held by: {_holder(path)}", flush=True)
            announced = True
        time.sleep(0.5)


def _holder(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or "unknown"
    except OSError:
        return "unknown"


def describe_holder(fd: int, text: str) -> None:
    """Say in the lock file who holds it, for the messages of those who wait."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode() + b"\n", 0)


@contextlib.contextmanager
def locked(name: str, timeout: float = 3600.0, what: str = ""):
    fd = acquire_lock(lock_path(name), timeout, what or name)
    describe_holder(fd, f"pid {os.getpid()} ({what or name})")
    try:
        yield
    finally:
        os.close(fd)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
