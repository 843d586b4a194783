"""Issue 13, item 3: the postgres role's errors are shown, its secrets are not.

The role runs archive_db with no_log (its arguments hold passwords), which used to hide the failure as
"censored". Run the role as a user does (mode external, against the test PostgreSQL and the local control
plane) with a wrong admin password and with a database that is not listening: the play must fail with
archive_db's own message, and neither the admin password nor Argo's password may appear anywhere in the
output (run at -vvv).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid

import pytest

from persistence_support import REPO, ansible_env

FAILED_TASK = "Say why the archive database could not be prepared"
PLAYBOOK = """\
- name: The postgres role alone
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: argoops.workflows.postgres
"""


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def run_role(tmp_path, kubeconfig, **variables):
    playbook = tmp_path / "postgres.yml"
    playbook.write_text(PLAYBOOK)
    env = ansible_env(json_output=False)
    variables = dict({"argo_common_kubeconfig": kubeconfig,
                      "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python")}, **variables)
    argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-vvv", "-i", "localhost,", str(playbook),
            "-e", json.dumps(variables)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("fault, hint", [
    ("wrong admin password", "authentication failed: check login_user and login_password"),
    ("database down", "the server is unreachable: check login_host/login_port"),
])
def test_archive_db_failure_is_shown_without_secrets(control_plane, postgres, tmp_path, fault, hint):
    admin_password = postgres.password if fault == "database down" else "wrong-" + uuid.uuid4().hex
    argo_password = "argo-" + uuid.uuid4().hex
    port = closed_port() if fault == "database down" else postgres.port
    rc, output = run_role(
        tmp_path, control_plane.kubeconfig,
        postgres_mode="external", postgres_namespace="pg-errors-" + uuid.uuid4().hex[:8],
        postgres_host=postgres.host, postgres_port=port, postgres_database="argoops_it_role_errors",
        postgres_password=argo_password, postgres_admin_user=postgres.user, postgres_admin_password=admin_password)
    assert rc != 0
    failure = [line for line in output.splitlines() if "fatal:" in line or '"msg"' in line]
    assert f"TASK [argoops.workflows.postgres : {FAILED_TASK}]" in output, output[-3000:]
    assert any(hint in line for line in failure), "\n".join(failure)
    for secret in (admin_password, argo_password):
        assert secret not in output


@pytest.mark.parametrize("variables, message", [
    (dict(postgres_host=""), "postgres_mode external needs postgres_host"),
    (dict(postgres_host="db.example.com", postgres_admin_user="argo"), "postgres_admin_user (argo) must differ"),
])
def test_each_wrong_combination_gets_its_own_message(tmp_path, variables, message):
    """Issue 13, item 5: an empty host and an admin user equal to Argo's user were one message."""
    rc, output = run_role(tmp_path, "/nonexistent/kubeconfig", postgres_mode="external", postgres_username="argo",
                          **variables)
    assert rc != 0
    assert message in output, output[-3000:]
    messages = {"postgres_mode external needs postgres_host", "postgres_admin_user (argo) must differ"}
    assert not any(text in output for text in messages - {message})
