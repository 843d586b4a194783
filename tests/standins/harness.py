"""Helpers for tests that drive the k3d STAND-IN (tests/standins/k3d) and Ansible against it.

The stand-in replaces k3d only because no Docker engine runs on these machines (see README.md here).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STANDIN = os.path.join(HERE, "k3d")
LISTINGS = os.path.join(HERE, "listings")
COLLECTIONS = os.path.join(REPO, ".build", "collections")
BIN = os.path.dirname(sys.executable)


def environment(tmp_path, **extra):
    """Env for one test: private stand-in state and kubeconfigs; this interpreter first in PATH."""
    env = dict(os.environ)
    env.pop("K3D_STANDIN_DOCKER_DOWN", None)
    env.update({
        "K3D_STANDIN_STATE": str(tmp_path / "k3d-state.json"),
        "KUBECONFIG": str(tmp_path / "default-kubeconfig"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-tmp"),
    })
    env.update(extra)
    return env


def k3d(env, *args, stdin=None):
    """Run the stand-in; -> CompletedProcess (text)."""
    return subprocess.run([STANDIN] + list(args), env=env, input=stdin, capture_output=True, text=True, check=False)


def listing(env, *names):
    """``k3d cluster list -o json`` from the stand-in, parsed (independent of the modules under test)."""
    done = k3d(env, "cluster", "list", "-o", "json", *names)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def nodes_by_role(cluster, role):
    return sorted(n["name"] for n in cluster["nodes"] if n["role"] == role)


def playbook(env, tmp_path, tasks, *options):
    """Run ``tasks`` (list of dicts) as a localhost play with ansible-playbook and the JSON callback.

    -> (task results by task name, stats, raw stdout).
    """
    play = [{"name": "k3d stand-in play", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": tasks}]
    path = tmp_path / ("play-%d.yml" % len(list(tmp_path.glob("play-*.yml"))))
    path.write_text(json.dumps(play))
    run_env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    done = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(path)] + list(options),
                          env=run_env, capture_output=True, text=True, check=False)
    try:  # with -v... Ansible's own messages come before the callback's JSON document
        report = json.loads(done.stdout[done.stdout.index("{\n"):] if "{\n" in done.stdout else done.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook printed no JSON (rc=%d): %s %s" % (done.returncode, done.stdout, done.stderr))
    results = {}
    for task in report["plays"][0]["tasks"]:
        results[task["task"]["name"]] = task["hosts"]["localhost"]
    return results, report["stats"]["localhost"], done.stdout + done.stderr
