"""The stand-in's "Docker": one JSON file (path in $K3D_STANDIN_STATE), locked while a command runs.

$K3D_STANDIN_DOCKER_DOWN=1 makes every runtime call fail the way k3d does when the Docker daemon
cannot be reached (naming the endpoint as k3d does: $DOCKER_HOST, else the default socket).
"""
import fcntl
import json
import os
import tempfile

from . import logs

STATE_ENV = "K3D_STANDIN_STATE"
DOWN_ENV = "K3D_STANDIN_DOCKER_DOWN"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def docker_down_message():
    endpoint = os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    return "Cannot connect to the Docker daemon at %s. Is the docker daemon running?" % endpoint


def docker_down():
    return os.environ.get(DOWN_ENV, "") not in ("", "0", "false")


class Store:
    """``with Store() as state:`` -> dict {"clusters": {...}}, written back (atomically) when changed."""

    def __init__(self):
        self.path = os.environ.get(STATE_ENV)
        if not self.path:
            logs.fatal("k3d stand-in: set %s to the path of its state file" % STATE_ENV)
        self.data = None
        self._lock = None
        self._before = None

    def __enter__(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._lock = open(self.path + ".lock", "a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            with open(self.path) as handle:
                self.data = json.load(handle)
        except FileNotFoundError:
            self.data = {"clusters": {}}
        self._before = json.dumps(self.data, sort_keys=True)
        return self.data

    def __exit__(self, exc_type, exc, trace):
        try:
            after = json.dumps(self.data, sort_keys=True)
            if exc_type is None and after != self._before:
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.path)), prefix=".k3d-standin-")
                with os.fdopen(fd, "w") as handle:
                    json.dump(self.data, handle, indent=1, sort_keys=True)
                os.replace(tmp, self.path)
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
        return False
