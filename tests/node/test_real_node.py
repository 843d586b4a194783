"""The real node of the local control plane: containers really run, probes really probe, Services
really route, names really resolve, volumes really keep data, and `down` really leaves nothing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controlplane"))

from cplane import images, kube, node, procs  # noqa: E402  pylint: disable=wrong-import-position

BUSYBOX = None  # the catalog's busybox reference, resolved once


def busybox() -> str:
    global BUSYBOX  # pylint: disable=global-statement
    BUSYBOX = BUSYBOX or images.catalog()["busybox"].ref
    return BUSYBOX


def pod_spec(command: str, **extra) -> dict:
    spec = {"terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": busybox(), "command": ["sh", "-c", command]}]}
    spec["containers"][0].update(extra)
    return spec


def pod(name: str, command: str, restart: str = "Never", **extra) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": dict(pod_spec(command, **extra), restartPolicy=restart)}


def deployment(name: str, command: str, **extra) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(command, **extra)}}}


def phase(kubectl, namespace: str, name: str) -> str:
    return kubectl.get(namespace, "pod", name).get("status", {}).get("phase", "")


def finished(kubectl, namespace: str, name: str, timeout: float = 120) -> str:
    return kubectl.wait_for(f"pod {name} to finish", lambda: phase(kubectl, namespace, name)
                            if phase(kubectl, namespace, name) in ("Succeeded", "Failed") else None, timeout)


def test_node_is_ready_with_the_local_images(real_cluster, kubectl):
    node_obj = json.loads(kubectl("get", "node", node.NODE_NAME, "-o", "json").stdout)
    ready = [c for c in node_obj["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True", ready
    info = node_obj["status"]["nodeInfo"]
    assert info["containerRuntimeVersion"] == "containerd://" + kube.build.CONTAINERD_VERSION.lstrip("v")
    assert info["kubeletVersion"] == real_cluster.k8s_version
    names = {name for entry in node_obj["status"]["images"] for name in entry["names"]}
    expected = {image.ref for image in images.catalog().values()}
    assert expected <= names, f"missing from status.images: {sorted(expected - names)}"
    assert all(name.startswith(("localhost/", "sha256:")) for name in names), sorted(names)


def test_logs_and_exec(kubectl, namespace):
    token = uuid.uuid4().hex
    kubectl.apply(namespace, pod("talker", f"echo said-{token}; exec sleep 3600"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/talker", "--timeout=120s", timeout=150)
    kubectl.wait_for("the pod's log line", lambda: f"said-{token}" in kubectl("logs", "-n", namespace, "talker").stdout)
    out = kubectl("exec", "-n", namespace, "talker", "--", "sh", "-c", "cat /etc/hostname; echo $((6 * 7))").stdout
    assert out.split() == ["talker", "42"]


def test_deployment_is_available_only_once_its_readiness_probe_succeeds(kubectl, namespace):
    probe = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    kubectl.apply(namespace, deployment("gated", "exec sleep 3600", readinessProbe=probe))
    pod_name = kubectl.wait_for("the gated pod to run", lambda: next(
        (p["metadata"]["name"] for p in json.loads(kubectl("get", "-n", namespace, "pods", "-l", "app=gated",
                                                           "-o", "json").stdout)["items"]
         if p.get("status", {}).get("phase") == "Running"), None))
    # the probe really runs and fails: the kubelet reports it, and the Deployment stays unavailable
    kubectl.wait_for("a failed readiness probe event", lambda: "Readiness probe failed" in kubectl(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={pod_name}", "-o", "json").stdout)
    assert kubectl.get(namespace, "deployment", "gated")["status"].get("availableReplicas", 0) == 0
    kubectl("exec", "-n", namespace, pod_name, "--", "touch", "/tmp/ready")
    kubectl.wait_for("the Deployment to become available", lambda: kubectl.get(
        namespace, "deployment", "gated")["status"].get("availableReplicas", 0) == 1, timeout=60)


def test_service_routes_by_cluster_ip_and_dns_name(kubectl, namespace):
    token = uuid.uuid4().hex
    server = deployment("web", f"mkdir -p /www && echo {token} > /www/index.html && exec httpd -f -p 8080 -h /www",
                        readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1})
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    kubectl.apply(namespace, server, service)
    kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s", timeout=150)
    cluster_ip = kubectl.get(namespace, "service", "web")["spec"]["clusterIP"]
    fqdn = f"web.{namespace}.svc.cluster.local"
    kubectl.apply(namespace, pod("client", f"wget -qO- http://{cluster_ip}/ && wget -qO- http://{fqdn}/"))
    assert finished(kubectl, namespace, "client") == "Succeeded", kubectl("logs", "-n", namespace, "client").stdout
    assert kubectl("logs", "-n", namespace, "client").stdout.split() == [token, token]


def test_persistent_volume_keeps_data_across_pods(kubectl, namespace):
    token = uuid.uuid4().hex
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}}
    volume = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}
    mount = {"volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    writer = pod("writer", f"echo {token} > /data/token", **mount)
    writer["spec"].update(volume)
    kubectl.apply(namespace, claim, writer)
    assert finished(kubectl, namespace, "writer") == "Succeeded"
    assert kubectl.get(namespace, "pvc", "data")["status"]["phase"] == "Bound"
    kubectl("delete", "-n", namespace, "pod", "writer", "--wait=true", timeout=120)
    reader = pod("reader", "cat /data/token", **mount)
    reader["spec"].update(volume)
    kubectl.apply(namespace, reader)
    assert finished(kubectl, namespace, "reader") == "Succeeded"
    assert kubectl("logs", "-n", namespace, "reader").stdout.strip() == token


def test_jobs_report_completion_and_failure(kubectl, namespace):
    def job(name: str, command: str) -> dict:
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                "spec": {"backoffLimit": 0, "template": {"spec": dict(pod_spec(command), restartPolicy="Never")}}}

    kubectl.apply(namespace, job("passes", "echo done"), job("fails", "echo failing; exit 3"))

    def condition(name: str):
        conditions = kubectl.get(namespace, "job", name).get("status", {}).get("conditions") or []
        return next((c["type"] for c in conditions if c["status"] == "True" and c["type"] in ("Complete", "Failed")),
                    None)

    assert kubectl.wait_for("job passes", lambda: condition("passes")) == "Complete"
    assert kubectl.wait_for("job fails", lambda: condition("fails")) == "Failed"
    failed_pod = json.loads(kubectl("get", "-n", namespace, "pods", "-l", "job-name=fails", "-o", "json").stdout)
    exit_codes = [s["state"]["terminated"]["exitCode"] for p in failed_pod["items"]
                  for s in p["status"]["containerStatuses"]]
    assert exit_codes == [3]


def _namespace_holders(inodes: set) -> list:
    """Processes whose network or mount namespace is one of ``inodes``."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for kind in ("net", "mnt"):
                try:
                    if os.readlink(f"/proc/{pid}/ns/{kind}") in inodes:
                        found.append(int(pid))
                except OSError:
                    pass
    return found


@pytest.mark.teardown
def test_down_after_a_crash_leaves_nothing(real_cluster, kubectl, namespace):
    """The node's processes are killed as a crash would (SIGKILL, containers and shims orphaned),
    then `cluster.py down` runs: nothing of the node may remain on the machine."""
    kubectl.apply(namespace, pod("orphan", "exec sleep 3600"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/orphan", "--timeout=120s", timeout=150)
    cluster_obj = kube.KubeCluster(real_cluster.state_dir)
    rec = cluster_obj.node.record()
    holder = rec["holder"]["pid"]
    inodes = {os.readlink(f"/proc/{holder}/ns/net"), os.readlink(f"/proc/{holder}/ns/mnt")}
    assert len(_namespace_holders(inodes)) > 3  # holder, daemons, shims: the check below can fail
    for name in ("kubelet", "containerd"):
        os.kill(rec["pids"][name]["pid"], signal.SIGKILL)
    result = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))), "controlplane", "cluster.py"), "down", "--state-dir", real_cluster.state_dir],
        capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert cluster_obj.node.leftovers() == {}
    assert _namespace_holders(inodes) == []
    assert not procs.alive(holder)
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        assert [line for line in handle if real_cluster.state_dir in line] == []
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    assert "kube-proxy" not in ruleset and "argoops" not in ruleset
    assert not os.path.exists(real_cluster.state_dir)
    assert not os.path.exists("/var/lib/cni") and not os.path.exists("/var/log/containers")
