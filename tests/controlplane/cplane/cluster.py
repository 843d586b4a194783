"""The local cluster as one unit: PostgreSQL + the Kubernetes control plane, in one state dir.

``up`` starts what is missing and returns fast when everything is up and healthy; a lock per
state dir keeps concurrent ``up``s (CLI, several pytest sessions) from racing.
"""
from __future__ import annotations

import os
import shlex
import shutil
import time
from dataclasses import dataclass

from . import argo, build, kube, node, paths, postgres, procs, sessions


@dataclass
class ClusterInfo:
    """What the fixtures and ``cluster.py env`` hand out."""
    state_dir: str
    postgres: postgres.PostgresInfo
    kubeconfig: str | None = None
    k8s_version: str | None = None
    node: str | None = None  # kwok | real
    argo_version: str = build.ARGO_VERSION
    argo_manifests: str | None = None


def state_lock(state: str):
    os.makedirs(state, exist_ok=True)
    os.chmod(state, 0o755)  # PostgreSQL (run as `postgres` when we are root) must traverse it
    return paths.locked("state-" + os.path.realpath(state).strip("/").replace("/", "_"),
                        timeout=1800, what=f"cluster state {state}")


def _ensure(state: str, piece: str, ready, start, owner: str, log) -> bool:
    """Start ``piece`` unless ``ready()``; True when it was started. What a session starts is marked
    as the session's (the last session stops it); whatever the command line touches becomes its
    own, so no session may stop it."""
    started = not ready()
    if started:
        start(log)
    if owner != "session":
        sessions.clear_owned(state, piece)
    elif started:
        sessions.mark_started(state, piece)
    return started


def ensure_postgres(state: str, owner: str = "cli", log=print) -> postgres.PostgresInfo:
    """PostgreSQL alone (what the `postgres` fixture needs)."""
    server = postgres.PostgresServer(state)
    with state_lock(state):
        _ensure(state, "postgres", server.running, server.start, owner, log)
        return server.info()


def up(state: str, owner: str = "cli", log=print, node_kind: str = "kwok") -> ClusterInfo:
    began = time.monotonic()
    server = postgres.PostgresServer(state)
    cluster = kube.KubeCluster(state, node_kind)
    with state_lock(state):
        running = kube.KubeCluster(state)
        if running.node_kind != node_kind and running.alive("kube-apiserver"):
            raise RuntimeError(f"the cluster in {state} runs a {running.node_kind} node, not {node_kind}: "
                               "run `cluster.py down` first, or use another --state-dir")
        started = [_ensure(state, "postgres", server.running, server.start, owner, log),
                   _ensure(state, "kube", cluster.healthy, cluster.start, owner, log)]
    if any(started):
        log(f"cluster: up in {time.monotonic() - began:.1f}s; KUBECONFIG={cluster.kubeconfig}")
    else:
        log(f"cluster: already up and healthy in {state} ({time.monotonic() - began:.1f}s)")
    return read_info(state)


def read_info(state: str) -> ClusterInfo | None:
    server = postgres.PostgresServer(state)
    pg_info = server.info()
    if pg_info is None or not server.running():
        return None
    cluster = kube.KubeCluster(state)
    rec = cluster.record()
    running = bool(rec.get("pids")) and cluster.alive("kube-apiserver", rec)
    return ClusterInfo(state_dir=state, postgres=pg_info,
                       kubeconfig=cluster.kubeconfig if running else None,
                       k8s_version=rec.get("k8s_version") if running else None,
                       node=rec.get("node", "kwok") if running else None,
                       argo_manifests=build.argo_manifests() if running else None)


def env_vars(info: ClusterInfo) -> dict:
    env = {"KUBECONFIG": info.kubeconfig} if info.kubeconfig else {}
    env.update(info.postgres.env())
    return env


def shell_lines(env: dict) -> str:
    return "\n".join(f"export {key}={shlex.quote(str(value))}" for key, value in env.items())


def stop_pieces(state: str, pieces: set, log=print) -> None:
    with state_lock(state):
        if "kube" in pieces:
            argo.stop_all(state)
            kube.KubeCluster(state).stop()
            sessions.clear_owned(state, "kube")
            log("kubernetes control plane: stopped")
        if "postgres" in pieces:
            postgres.PostgresServer(state).stop()
            sessions.clear_owned(state, "postgres")
            log("postgres: stopped")


def down(state: str, log=print) -> None:
    """Stop every process the launcher started (by PID) and remove the state."""
    stop_pieces(state, {"kube", "postgres"}, log)
    with state_lock(state):
        postgres.PostgresServer(state).remove()  # may live outside the state dir
        shutil.rmtree(state, ignore_errors=True)
    log(f"cluster: down, removed {state}")


def status(state: str) -> dict:
    """What runs, with PIDs, ports and resident memory (KiB)."""
    server = postgres.PostgresServer(state)
    cluster = kube.KubeCluster(state)
    rec = cluster.record()
    rows = {"postgres": {"pid": server.pid(), "running": server.running(),
                         "port": (server.info() or postgres.PostgresInfo("", 0, "", "")).port,
                         "rss_kib": server.rss_kib() if server.running() else 0}}
    for component in cluster.components():
        entry = rec.get("pids", {}).get(component)
        running = cluster.alive(component, rec)
        rows[component] = {"pid": entry["pid"] if entry else None, "running": running,
                           "healthy": running and cluster.probe(component, rec),
                           "port": rec.get("ports", {}).get(component),
                           "rss_kib": procs.rss_kib(entry["pid"]) if running else 0}
    if cluster.node_kind == "real":
        node_rec = cluster.node.record()
        for daemon in ("holder",) + node.DAEMONS:
            entry = node_rec.get("holder") if daemon == "holder" else node_rec.get("pids", {}).get(daemon)
            running = bool(entry) and procs.alive(entry["pid"], entry["binary"])
            rows[f"node {daemon}"] = {"pid": entry["pid"] if entry else None, "running": running,
                                      "port": None, "rss_kib": procs.rss_kib(entry["pid"]) if running else 0}

    for name in sorted(os.listdir(os.path.join(state, "argo-controller"))) if os.path.isdir(
            os.path.join(state, "argo-controller")) else []:
        if name.endswith(".json"):
            handle = argo.find(state, name[:-5])
            if handle and handle.running():
                rows[f"workflow-controller ({handle.namespace})"] = {
                    "pid": handle.pid, "running": True, "port": 6060, "rss_kib": procs.rss_kib(handle.pid)}
    return rows


def print_status(state: str) -> int:
    rows = status(state)
    print(f"state: {state}")
    for name, row in rows.items():
        health = "" if not row["running"] or "healthy" not in row else (" healthy" if row["healthy"] else " UNHEALTHY")
        state_word = "running" if row["running"] else "stopped"
        print(f"  {name:<34} {state_word}{health:<10} pid={row['pid']} port={row['port']} "
              f"rss={row['rss_kib'] / 1024:.0f}MiB")
    total = sum(row["rss_kib"] for row in rows.values())
    print(f"  total resident memory: {total / 1024:.0f} MiB")
    node_kib = kube.KubeCluster(state).node.memory_kib()
    if node_kib:
        print(f"  real node cgroup (daemons, shims, pods, their page cache): {node_kib / 1024:.0f} MiB")
    return 0 if all(row["running"] for row in rows.values()) else 3
