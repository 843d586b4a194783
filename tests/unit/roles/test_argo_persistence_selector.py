# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""argo_persistence: a selector string in argo_persistence_archive_label_selector fails naming that variable
and the shape it needs, before the role contacts a cluster (issue 13, item 5).

Runs the role with ansible-playbook on localhost: the check is the role's own task, so only a real run shows
what a user reads.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: argoops.workflows.argo_persistence
"""


def run_role(tmp_path, **variables):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    variables = dict({"argo_persistence_postgresql_host": "postgres", "argo_persistence_postgresql_database": "argo",
                      "ansible_python_interpreter": sys.executable}, **variables)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([ansible_playbook, "-i", "localhost,", str(playbook), "-e", json.dumps(variables)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(proc.stdout)
    return proc.returncode, [(t["task"]["name"], t["hosts"].get("localhost", {})) for t in report["plays"][0]["tasks"]]


def test_selector_string_fails_naming_the_role_variable_and_the_shape(tmp_path):
    # One playbook run (about 2 s); the module's tests cover the other wrong shapes.
    selector = "workflows.argoproj.io/archive!=false,team in (a,b)"
    rc, tasks = run_role(tmp_path, argo_persistence_archive_label_selector=selector)
    name, result = tasks[-1]
    assert rc != 0 and name.endswith(": Check that the archive label selector is a mapping")
    assert result.get("failed") is True
    message = result["msg"]
    assert message.startswith("argo_persistence_archive_label_selector must be a mapping with match_labels"), message
    assert "match_expressions" in message and json.dumps(selector) in message, message
