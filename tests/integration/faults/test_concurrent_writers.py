"""Issue 13, fault tier: parallel persistence_config runs racing with another writer of the same ConfigMap.

Four runs with different settings start at once while a foreign writer keeps adding keys (as kubectl
patch or another tool would). Afterwards no foreign key is lost, exactly one run's settings are in the
ConfigMap (each write is whole), and a re-run of the winner reports no change.
(The API server killed mid-run: test_api_faults.py.)
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from persistence_support import ansible_env, core, module_argv, persistence_args, read_config_map, run_module
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import


def say(message):
    sys.stderr.write(f"[faults] {message}\n")


def start_module(kubeconfig, args):
    """persistence_config as Ansible runs it, in the background."""
    return subprocess.Popen(module_argv(kubeconfig, args), env=ansible_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def result_of(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    result["_output"] = out + err
    return result


def test_parallel_runs_and_a_foreign_writer_lose_no_key(control_plane, api, ns):  # noqa: F811
    base = persistence_args(ns, control_plane.postgres, argo_version=control_plane.argo_version)
    first = run_module(control_plane.kubeconfig, base)
    assert first.get("failed") is not True, first["_output"]
    # keys Argo does not know: the runs must keep them (foreign_key_errors: warn lets them write anyway)
    variants = [dict(base, archive_ttl=f"{days}d", foreign_key_errors="warn") for days in (3, 5, 8, 13)]
    written, stop = [], threading.Event()

    def foreign_writer():
        writer_api = core(control_plane.kubeconfig)
        while not stop.is_set():
            key = f"foreign-{len(written)}"
            writer_api.patch_namespaced_config_map("workflow-controller-configmap", ns, {"data": {key: "x\n"}})
            written.append(key)
            time.sleep(0.5)  # two writes a second, racing the four runs

    writer = threading.Thread(target=foreign_writer)
    writer.start()
    try:
        procs = [start_module(control_plane.kubeconfig, args) for args in variants]
        results = [result_of(proc) for proc in procs]
    finally:
        stop.set()
        writer.join()
    # A run may give up after its attempts when every write loses the race; it must then say so and what to do.
    for result in results:
        if result.get("failed"):
            assert "another writer updates it continuously; run again" in result["msg"], result["msg"]
    succeeded = [args for args, result in zip(variants, results) if not result.get("failed")]
    data = dict(read_config_map(api, ns).data)
    missing = [key for key in written if key not in data]
    outcomes = ["failed (run again)" if r.get("failed") else "ok" for r in results]
    say(f"{len(variants)} parallel runs ({outcomes}), {len(written)} foreign keys written meanwhile; "
        f"missing: {missing}")
    assert written and not missing
    assert succeeded, "no run got through"
    winner = [args for args in variants if f"archiveTTL: {args['archive_ttl']}" in data["persistence"]]
    assert len(winner) == 1 and winner[0] in succeeded  # each write is whole: one run's settings, not a mix
    again = run_module(control_plane.kubeconfig, winner[0])
    assert again.get("failed") is not True and again["changed"] is False, again["_output"]
