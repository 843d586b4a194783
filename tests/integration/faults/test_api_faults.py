"""Faults under persistence_config, against the real local API server: the server killed (SIGKILL) at
several moments of a run, and parallel runs racing with other writers of the same ConfigMap.

Afterwards the ConfigMap is always whole (exactly the old or exactly the new settings, every other key
intact), a failed run says what to do, and the next run converges and then reports no change."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from cplane import kube  # noqa: E402  (tests/controlplane is on sys.path through conftest)
from persistence_support import REPO, MODULE, core, persistence_args, read_config_map, run_module
# fixtures shared with the other persistence tests
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import


def say(message):
    sys.stderr.write(f"[faults] {message}\n")


def start_module(kubeconfig, args):
    """persistence_config as Ansible runs it, in the background."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    argv = [os.path.join(REPO, ".venv", "bin", "ansible"), "localhost", "-m", MODULE,
            "-a", json.dumps(dict(args, kubeconfig=kubeconfig))]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    result["_output"] = out + err
    return result


def client_key(kubeconfig):
    with open(kubeconfig, encoding="utf-8") as handle:
        for line in handle:
            if "client-key-data" in line:
                return base64.b64decode(line.split(":", 1)[1].strip()).decode()
    return None


def restore(api, ns, data):  # noqa: F811
    body = read_config_map(api, ns)
    body.data = data
    api.replace_namespaced_config_map("workflow-controller-configmap", ns, body)


def test_api_server_killed_mid_run_leaves_a_whole_configmap_and_the_rerun_converges(control_plane, api, ns):  # noqa: F811
    cluster = kube.KubeCluster(control_plane.state_dir)
    old_args = persistence_args(ns, control_plane.postgres, argo_version=control_plane.argo_version)
    new_args = dict(old_args, archive_ttl="14d", cluster_name="faulty")
    first = run_module(control_plane.kubeconfig, old_args)
    assert first.get("failed") is not True, first["_output"]
    api.patch_namespaced_config_map("workflow-controller-configmap", ns, {"data": {"parallelism": "10\n"}})
    old_data = dict(read_config_map(api, ns).data)
    probe = run_module(control_plane.kubeconfig, new_args)  # what a whole new write looks like
    assert probe.get("changed") is True, probe["_output"][-3000:]
    new_data = dict(read_config_map(api, ns).data)
    restore(api, ns, old_data)
    secret = client_key(control_plane.kubeconfig)
    outcomes = []
    # a run takes ~2-4 s: the first kill lands in Ansible's start-up, the later ones in the API calls
    for delay in (0.5, 1.5, 2.5, 3.5):
        proc = start_module(control_plane.kubeconfig, new_args)
        time.sleep(delay)
        cluster.kill("kube-apiserver")
        result = result_of(proc)
        cluster.restart("kube-apiserver", log=say)
        data = dict(read_config_map(api, ns).data)
        assert secret and secret not in result["_output"]
        assert data in (old_data, new_data), "the ConfigMap is neither the old nor the new one"
        outcome = ("failed" if result.get("failed") else "ok") + (", written" if data == new_data else "")
        outcomes.append(outcome)
        if result.get("failed"):
            assert "API server" in result["msg"] or "could not be reached" in result["msg"], result["msg"]
        else:
            assert data == new_data
        restore(api, ns, old_data)
    say(f"kills of the API server during persistence_config: {outcomes}")
    assert any(o.startswith("failed") for o in outcomes)
    rerun = run_module(control_plane.kubeconfig, new_args)
    assert rerun.get("failed") is not True and rerun["changed"] is True, rerun["_output"]
    again = run_module(control_plane.kubeconfig, new_args)
    assert again.get("failed") is not True and again["changed"] is False, again["_output"]
    data = dict(read_config_map(api, ns).data)
    assert data["parallelism"] == "10\n" and "archiveTTL: 14d" in data["persistence"]


def test_parallel_runs_and_foreign_writers_lose_no_key(control_plane, api, ns):  # noqa: F811
    base = persistence_args(ns, control_plane.postgres, argo_version=control_plane.argo_version)
    first = run_module(control_plane.kubeconfig, base)
    assert first.get("failed") is not True, first["_output"]
    # keys Argo does not know: the runs must keep them, so they say so (foreign_key_errors: warn)
    variants = [dict(base, archive_ttl=f"{days}d", foreign_key_errors="warn") for days in (3, 5, 8, 13)]
    written, stop = [], threading.Event()

    def foreign_writer():
        writer_api = core(control_plane.kubeconfig)
        while not stop.is_set():
            key = f"foreign-{len(written)}"
            writer_api.patch_namespaced_config_map("workflow-controller-configmap", ns, {"data": {key: "x\n"}})
            written.append(key)
            time.sleep(0.05)

    writer = threading.Thread(target=foreign_writer)
    writer.start()
    try:
        procs = [start_module(control_plane.kubeconfig, args) for args in variants]
        results = [result_of(proc) for proc in procs]
    finally:
        stop.set()
        writer.join()
    assert all(r.get("failed") is not True for r in results), [r.get("msg") for r in results]
    data = dict(read_config_map(api, ns).data)
    missing = [key for key in written if key not in data]
    say(f"{len(variants)} parallel runs, {len(written)} foreign keys written meanwhile; missing: {missing}")
    assert written and not missing
    winner = [args for args in variants if f"archiveTTL: {args['archive_ttl']}" in data["persistence"]]
    assert len(winner) == 1
    again = run_module(control_plane.kubeconfig, winner[0])
    assert again.get("failed") is not True and again["changed"] is False, again["_output"]


@pytest.fixture(autouse=True)
def _api_server_back(control_plane):
    """Whatever a test did, the shared API server runs when it ends."""
    yield
    kube.KubeCluster(control_plane.state_dir).restart("kube-apiserver", log=say)
