"""Helpers for tests that run the REAL k3d binary where no Docker engine is needed (see README.md here).

Every run gets a Docker endpoint nobody answers on (a closed unix socket or TCP port), so these tests
create nothing even on a machine with a Docker engine; and private kubeconfig, config and temp dirs.
"""
import json
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "controlplane"))

from cplane import build, paths  # noqa: E402  pylint: disable=wrong-import-position

COMPONENT = "k3d"
_TIME = re.compile(r'time="[^"]*"')
# Docker settings of the caller that would let k3d reach some engine after all
_DOCKER_VARS = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


def binary(log=print):
    """The real k3d (built on first use, then cached); RuntimeError when the build fails."""
    return build.ensure(COMPONENT, log).path()


def version():
    """The k3d version the wrapper module requires (what the binary is stamped with)."""
    return build.components()[COMPONENT].version


def closed_unix_socket(directory):
    """unix:// URL of a socket file nobody listens on (bound, then closed: connecting is refused)."""
    path = os.path.join(str(directory), "docker.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
    finally:
        sock.close()
    return "unix://" + path


def closed_tcp_port():
    return "tcp://127.0.0.1:%d" % paths.free_port()


def environment(tmp_path, docker_host, base=None, **extra):
    """Env for real-k3d runs (``base`` or ours, plus ``extra``): no reachable Docker, private kubeconfig,
    config and temp dirs, plain logs."""
    env = dict((k, v) for k, v in (base or os.environ).items() if k not in _DOCKER_VARS)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env.update({
        "DOCKER_HOST": docker_host, "DOCKER_CONFIG": str(tmp_path / "docker-config"), "LOG_COLORS": "false",
        "KUBECONFIG": str(tmp_path / "default-kubeconfig"), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "TMPDIR": str(tmpdir),
    })
    env.update(extra)
    return env


def run(path, env, *args, stdin=None):
    return subprocess.run([path] + list(args), env=env, input=stdin, capture_output=True, text=True, check=False)


def comparable(done):
    """(rc, stdout, stderr) without what differs from run to run: timestamps, and cobra's usage text
    after an ``Error:`` line (the stand-in does not reproduce it)."""
    def keep(text):
        lines = _TIME.sub('time="T"', text).splitlines()
        if not any(line.startswith("Error: ") for line in lines):
            return lines
        return [line for line in lines if line.startswith("Error: ") or "level=" in line]
    return done.returncode, keep(done.stdout), keep(done.stderr)


def fatal(text):
    """The message of the (last) fatal log line in plain k3d output, or None."""
    found = re.findall(r'level=fatal msg=("(?:[^"\\]|\\.)*"|\S+)', text)
    if not found:
        return None
    msg = found[-1]
    return json.loads(msg) if msg.startswith('"') else msg


class ProcessRunner:
    """What K3dCli needs from AnsibleModule (run_command, no_log_values, check_mode), running the real
    process, so the collection's own k3d code can drive the real binary from a test."""

    check_mode = False

    def __init__(self, env):
        self.env = env
        self.no_log_values = set()

    def run_command(self, cmd, data=None, environ_update=None, cwd=None):
        stdin = None if data is None else data + "\n"  # AnsibleModule.run_command adds the newline too
        done = subprocess.run(cmd, env=dict(self.env, **(environ_update or {})), input=stdin, capture_output=True,
                              text=True, check=False, cwd=cwd)
        return done.returncode, done.stdout, done.stderr
