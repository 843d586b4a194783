"""Benchmark: the no-change runs (issue 12) on the local control plane.

1. The whole site flow's idempotent re-run (molecule/default's converge: site.yml without k3d, PostgreSQL
   external), profiled with ansible.posix's profile_tasks callback: wall time, changed count, top tasks.
2. One no-change persistence_config run beside kubernetes.core.k8s applying the same ConfigMap, each as its
   own `ansible` run (what a task costs), median of --runs.
3. The same two under each kubernetes Python client in --clients (a venv per version under the cache dir,
   used as the modules' interpreter), plus the import times of each client.

    .venv/bin/python tests/bench/site_bench.py [--runs N] [--clients 37.0.2,35.0.0] [--keep]

The control plane lives in .build/bench-site/cluster (its own ports and state) and is taken down at the end
unless --keep. Prints numbers; asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCENARIO = os.path.join(REPO, "molecule", "default")
STATE = os.path.join(REPO, ".build", "bench-site")
VENV_BIN = os.path.dirname(sys.executable)
CACHE = os.environ.get("ARGOOPS_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "argoops-workflows")
NAMESPACE = "argo"  # molecule/default/vars.yml
BENCH_CONFIGMAP = "bench-configmap"
# What kubernetes.core's client and our kube.py import (the dynamic client, never the typed API).
MODULE_IMPORTS = "import kubernetes.config, kubernetes.client.rest; from kubernetes.dynamic import DynamicClient"
TYPED_API = "from kubernetes import client; client.CoreV1Api; client.AppsV1Api"
PROFILE_LINE = re.compile(r"^(.*?) -+ (\d+\.\d+)s$")
RECAP = re.compile(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def env(**extra):
    out = dict(os.environ, MOLECULE_PROJECT_DIRECTORY=REPO, MOLECULE_SCENARIO_DIRECTORY=SCENARIO,
               MOLECULE_EPHEMERAL_DIRECTORY=STATE, ARGOOPS_CLUSTER_DIR=os.path.join(STATE, "cluster"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_NOCOLOR="1")
    out.update(extra)
    return out


def playbook(name, interpreter=None, **extra_env):
    """(seconds, stdout) of ansible-playbook on a molecule/default playbook (its modules run by ``interpreter``
    when given); fails loudly."""
    start = time.perf_counter()
    argv = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", os.path.join(SCENARIO, "inventory.yml"),
            os.path.join(SCENARIO, name)]
    if interpreter:
        argv += ["-e", "ansible_python_interpreter=%s" % interpreter]
    proc = subprocess.run(argv, env=env(**extra_env), capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("%s failed (rc %d):\n%s\n%s" % (name, proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:]))
    return took, proc.stdout


def recap(stdout):
    match = RECAP.search(stdout)
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()))) if match else {}


def changed_tasks(stdout):
    """The names of the tasks that reported a change (default callback output)."""
    names, current = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            current = line[len("TASK ["):line.rfind("]")]
        elif line.startswith("changed:") and current and current not in names:
            names.append(current)
    return names


def profile(stdout, top):
    rows = [(m.group(1).strip(), float(m.group(2))) for m in map(PROFILE_LINE.match, stdout.splitlines()) if m]
    return sorted(rows, key=lambda row: -row[1])[:top]


def adhoc(module, args, interpreter):
    """(seconds, result) of one `ansible localhost -m module` run."""
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible"), "localhost", "-c", "local", "-i", "localhost,",
                           "-e", "ansible_python_interpreter=%s" % interpreter, "-m", module, "-a", json.dumps(args),
                           "-o"], env=env(), capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s\n%s" % (module, proc.stdout[-3000:], proc.stderr[-2000:]))
    return took, json.loads(proc.stdout.split("=>", 1)[1])


def client_python(version):
    """A venv with the modules' runtime requirements (requirements.txt) but this kubernetes client."""
    if version == "installed":
        return sys.executable
    venv = os.path.join(CACHE, "bench", "runtime-kubernetes-%s" % version)
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(os.path.join(venv, ".installed")):
        with open(os.path.join(REPO, "requirements.txt"), encoding="utf-8") as handle:
            pins = [line.strip() for line in handle if line.strip() and not line.startswith("#")
                    and not line.startswith("kubernetes==")]
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "kubernetes==%s" % version] + pins, check=True)
        open(os.path.join(venv, ".installed"), "w", encoding="utf-8").close()
    return python


def import_time(python, statement, runs=5):
    """(median wall seconds, median CPU seconds) of a fresh interpreter running ``statement``; CPU time
    (user + system of the child) is what a busy machine does not inflate."""
    walls, cpus = [], []
    for dummy in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([python, "-c", statement], check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def module_bench(kubeconfig, python, runs):
    data = {"persistence": "archive: true\narchiveTTL: 7d\npostgresql:\n  host: postgres\n  port: 5432\n"
            "  database: postgres\n  tableName: argo_workflows\n  userNameSecret:\n    name: argo-postgres-config\n"
            "    key: username\n  passwordSecret:\n    name: argo-postgres-config\n    key: password\n"}
    ours = dict(kubeconfig=kubeconfig, namespace=NAMESPACE, name=BENCH_CONFIGMAP, argo_version="v4.0.5",
                validate_secrets=False, archive=True, archive_ttl="7d",
                postgresql=dict(host="postgres", port=5432, database="postgres",
                                username_secret=dict(name="argo-postgres-config", key="username"),
                                password_secret=dict(name="argo-postgres-config", key="password")))
    theirs = dict(kubeconfig=kubeconfig, state="present", definition=dict(
        apiVersion="v1", kind="ConfigMap", metadata=dict(name=BENCH_CONFIGMAP + "-k8s", namespace=NAMESPACE),
        data=data))
    out = {}
    for label, module, args in (("argoops.workflows.persistence_config", "argoops.workflows.persistence_config",
                                 ours),
                                ("kubernetes.core.k8s", "kubernetes.core.k8s", theirs)):
        adhoc(module, args, python)  # converge first: the timed runs change nothing
        times, changed = [], set()
        for dummy in range(runs):
            took, result = adhoc(module, args, python)
            times.append(took)
            changed.add(result.get("changed"))
        out[label] = (statistics.median(times), min(times), max(times), changed)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", default="installed,35.0.0",
                        help="kubernetes client versions to compare ('installed' = requirements.txt's)")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="leave the control plane up")
    args = parser.parse_args()
    os.makedirs(STATE, exist_ok=True)
    try:
        took, dummy = playbook("create.yml")
        print("control plane up (and manifests rendered): %.1f s" % took)
        took, out = playbook("converge.yml")
        print("first converge of the site flow: %.1f s, %s" % (took, recap(out)))
        took, out = playbook("converge.yml", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
                             PROFILE_TASKS_TASK_OUTPUT_LIMIT="200")
        counts = recap(out)
        print("\n== site flow, idempotent re-run: %.1f s wall, changed=%s (goal: <= 10 s)" % (took, counts.get("changed")))
        for name in changed_tasks(out):
            print("  changed: %s" % name)
        print("top tasks (profile_tasks):")
        for name, seconds in profile(out, args.top):
            print("  %6.2f s  %s" % (seconds, name))
        kubeconfig = json.loads(subprocess.run([sys.executable, os.path.join(REPO, "tests", "controlplane", "cluster.py"),
                                                "env", "--json"], env=env(), capture_output=True, text=True,
                                               check=True).stdout)["KUBECONFIG"]
        print("\n== one no-change task, as its own `ansible` run (median of %d; min-max)" % args.runs)
        print("%-10s %-38s %8s %16s %s" % ("client", "module", "median", "min-max", "changed"))
        imports = []
        for version in args.clients.split(","):
            python = client_python(version)
            label = subprocess.run([python, "-c", "import kubernetes; print(kubernetes.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()
            imports.append((label, import_time(python, MODULE_IMPORTS), import_time(python, TYPED_API)))
            for module, (median, low, high, changed) in module_bench(kubeconfig, python, args.runs).items():
                print("%-10s %-38s %7.2fs %7.2f-%5.2fs %s" % (label, module, median, low, high, sorted(changed)))
            took, out = playbook("converge.yml", interpreter=python)
            print("%-10s %-38s %7.2fs %16s changed=%s" % (label, "site flow, idempotent re-run", took, "",
                                                          recap(out).get("changed")))
        print("\n== kubernetes client import, median of 5 (wall / CPU)")
        print("%-10s %-34s %s" % ("client", "what the modules import", "the typed API (only tests use it)"))
        for label, ours, typed in imports:
            print("%-10s %6.2f s / %.2f s %18s %6.2f s / %.2f s" % ((label,) + ours + ("",) + typed))
    finally:
        if not args.keep:
            playbook("destroy.yml")


if __name__ == "__main__":
    main()
