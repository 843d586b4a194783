"""The Kubernetes part of the local cluster: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler as local processes, plus one Node of the kind chosen at ``up``:

- ``kwok``: a fake Node kwok keeps Ready (pods look Running, no container runs); all on loopback.
- ``real``: containerd, kubelet and kube-proxy in the node's own namespaces (cplane/node.py), with
  CoreDNS and local-path storage (cplane/addons.py); the apiserver listens on the node's host-side
  address so that the node and its pods reach it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import time
import urllib.error
import urllib.request

from . import addons, build, paths, pki, procs
from .node import CLUSTER_DNS, NODE_NAME as REAL_NODE_NAME, RealNode

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
NODE_KINDS = ("kwok", "real")
NODE_NAME = "kwok-node-0"
SERVICE_CIDR = "10.0.0.0/24"
# identities with their own client certificate (file stem -> CN, O); RBAC bootstrap roles exist for them
IDENTITIES = {
    "admin": ("argoops-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    "kwok": ("kwok-controller", "system:masters"),
    "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),  # logs, exec
}
KWOK_STAGES = ("node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
               "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml")


class KubeCluster:
    """Files under ``<state>/kube``; ``<state>/kubeconfig`` is the admin kubeconfig users get.
    ``node_kind`` is the kind to start; None: the kind the cluster in ``state`` has (default kwok)."""

    def __init__(self, state: str, node_kind: str | None = None):
        self.state = state
        self.root = os.path.join(state, "kube")
        self.record_path = os.path.join(self.root, "processes.json")
        self.kubeconfig = os.path.join(state, "kubeconfig")
        self.pki = pki.Pki(os.path.join(self.root, "pki"))
        self.node_kind = node_kind or self.record().get("node", "kwok")
        self.node = RealNode(state, self.pki)

    def components(self) -> tuple:
        """The processes this cluster runs (the real node's daemons are the node's own)."""
        return CONTROL_PLANE + (("kwok",) if self.node_kind == "kwok" else ())

    def address(self, rec: dict | None = None) -> str:
        return (rec if rec is not None else self.record()).get("address", "127.0.0.1")

    # -- records
    def record(self) -> dict:
        try:
            with open(self.record_path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def _save(self, rec: dict) -> None:
        os.makedirs(self.root, exist_ok=True)
        with open(self.record_path, "w", encoding="utf-8") as handle:
            json.dump(rec, handle, indent=2)

    def log_path(self, component: str) -> str:
        return os.path.join(self.root, "logs", component + ".log")

    # -- health
    def _ssl(self, client: bool = True) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.pki.path("ca.crt"))
        if client:
            ctx.load_cert_chain(self.pki.path("admin.crt"), self.pki.path("admin.key"))
        return ctx

    def _get(self, url: str, ctx=None) -> tuple[int | None, str]:
        try:
            with urllib.request.urlopen(url, timeout=3, context=ctx) as response:  # nosec - loopback only
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError):
            return None, ""

    def probe(self, component: str, rec: dict) -> bool:
        port = rec.get("ports", {}).get(component)
        if component == "etcd":
            status, body = self._get(f"http://127.0.0.1:{port}/health")
            return status == 200 and '"true"' in body
        if component == "kube-apiserver":
            return self._get(f"https://{self.address(rec)}:{port}/readyz", self._ssl())[0] == 200
        if component == "kwok":
            return self._get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # self-signed serving cert of kcm/scheduler; loopback only
        return self._get(f"https://127.0.0.1:{port}/healthz", insecure)[0] == 200

    def alive(self, component: str, rec: dict | None = None) -> bool:
        rec = rec if rec is not None else self.record()
        entry = rec.get("pids", {}).get(component)
        return bool(entry) and procs.alive(entry["pid"], entry["binary"])

    def healthy(self) -> bool:
        """Everything of the requested node kind runs and answers (a cluster of the other kind is
        not healthy: ``up`` refuses to switch kinds under a running cluster)."""
        rec = self.record()
        if not rec or rec.get("node", "kwok") != self.node_kind:
            return False
        if not all(self.alive(c, rec) and self.probe(c, rec) for c in self.components()):
            return False
        return self.node_kind == "kwok" or self.node.healthy()

    # -- lifecycle
    def _argv(self, component: str, binary: str, rec: dict) -> list:
        ports = rec["ports"]
        p = self.pki.path
        api = f"https://127.0.0.1:{ports['kube-apiserver']}"
        if component == "etcd":
            client = f"http://127.0.0.1:{ports['etcd']}"
            peer = f"http://127.0.0.1:{ports['etcd-peer']}"
            return [binary, "--name", "argoops", "--data-dir", os.path.join(self.root, "etcd"),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", f"argoops={peer}", "--unsafe-no-fsync", "--log-level", "warn"]
        if component == "kube-apiserver":
            address = self.address(rec)
            node_flags = [] if self.node_kind == "kwok" else [
                "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
                f"--kubelet-client-certificate={p('apiserver-kubelet-client.crt')}",
                f"--kubelet-client-key={p('apiserver-kubelet-client.key')}",
                "--kubelet-preferred-address-types=InternalIP"]
            return [binary, f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
                    f"--bind-address={address}", f"--advertise-address={address}",
                    f"--secure-port={ports['kube-apiserver']}", f"--cert-dir={os.path.join(self.root, 'apiserver')}",
                    f"--tls-cert-file={p('apiserver.crt')}", f"--tls-private-key-file={p('apiserver.key')}",
                    f"--client-ca-file={p('ca.crt')}", f"--service-cluster-ip-range={SERVICE_CIDR}",
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    f"--service-account-key-file={p('sa.pub')}", f"--service-account-signing-key-file={p('sa.key')}",
                    "--allow-privileged=true", "--profiling=false"] + (node_flags or ["--authorization-mode=RBAC"])
        served = [f"--kubeconfig={self._component_kubeconfig(component)}",
                  f"--authentication-kubeconfig={self._component_kubeconfig(component)}",
                  f"--authorization-kubeconfig={self._component_kubeconfig(component)}",
                  "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={ports[component]}",
                  f"--cert-dir={os.path.join(self.root, component)}", "--profiling=false"]
        if component == "kube-controller-manager":
            return [binary] + served + [
                f"--service-account-private-key-file={p('sa.key')}", f"--root-ca-file={p('ca.crt')}",
                f"--cluster-signing-cert-file={p('ca.crt')}", f"--cluster-signing-key-file={p('ca.key')}",
                "--use-service-account-credentials=true", f"--service-cluster-ip-range={SERVICE_CIDR}"]
        if component == "kube-scheduler":
            return [binary] + served
        stages = build.kwok_stages_dir()
        return [binary, f"--kubeconfig={self._component_kubeconfig(component)}", f"--server-address=127.0.0.1:{ports['kwok']}",
                "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--node-ip=127.0.0.1", "--node-lease-duration-seconds=40", "--cidr=10.244.0.1/16",
                ] + [f"--config={os.path.join(stages, s)}" for s in KWOK_STAGES]

    def _component_kubeconfig(self, component: str) -> str:
        stem = {"kube-controller-manager": "controller-manager", "kube-scheduler": "scheduler"}.get(component, component)
        return os.path.join(self.root, f"{stem}.kubeconfig")

    def _wait(self, component: str, rec: dict, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        entry = rec["pids"][component]
        while time.monotonic() < deadline:
            if not procs.alive(entry["pid"], entry["binary"]):
                raise RuntimeError(f"{component} exited during start-up; log {self.log_path(component)}:\n"
                                   f"{procs.tail(self.log_path(component))}")
            if self.probe(component, rec):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{component} not healthy after {timeout:.0f}s; log {self.log_path(component)}:\n"
                           f"{procs.tail(self.log_path(component))}")

    def start(self, log=print) -> None:
        """Start every component (stopping leftovers of a half-dead previous run first). When one does
        not come up, those already started are stopped again: nothing is left running."""
        previous = self.record().get("node", "kwok") if self.record() else None
        self.stop()
        if previous and previous != self.node_kind:
            # etcd still holds the other kind's Node and pods: the scheduler would place pods on a node
            # that no longer exists (the state dir was stopped, not removed)
            shutil.rmtree(os.path.join(self.root, "etcd"), ignore_errors=True)
            log(f"cluster: the node kind changes from {previous} to {self.node_kind}: etcd starts empty")
        try:
            self._start(log)
        except BaseException:
            if os.environ.get("ARGOOPS_KEEP_FAILED", "") in ("", "0"):
                self.stop()
            else:
                log(f"ARGOOPS_KEEP_FAILED: leaving the failed start running in {self.state} (`cluster.py down`)")
            raise

    def _start(self, log) -> None:
        components = self.components()
        binaries = {name: build.ensure(name, log) for name in components}
        address = "127.0.0.1"
        if self.node_kind == "real":
            address, _node_ip = self.node.prepare(log)  # the apiserver listens where the node reaches it
        self.pki.create(IDENTITIES)
        self.pki.issue("apiserver", pki.name("kube-apiserver"), server=True, names=pki.SERVING_NAMES,
                       ips=tuple(dict.fromkeys(pki.SERVING_IPS + (address,))))
        ports = {name: paths.free_port() for name in components + ("etcd-peer",)}
        rec = {"node": self.node_kind, "address": address, "ports": ports, "pids": {},
               "k8s_version": build.kube_version(), "etcd_version": build.etcd_version(),
               "kwok_version": build.KWOK_VERSION}
        server = f"https://{address}:{ports['kube-apiserver']}"
        self.pki.kubeconfig("admin", server, self.kubeconfig)
        for component in components[2:]:
            stem = os.path.basename(self._component_kubeconfig(component))[:-len(".kubeconfig")]
            self.pki.kubeconfig(stem, server, self._component_kubeconfig(component))
        # etcd, then the apiserver, then its clients together
        for batch in (components[:1], components[1:2], components[2:]):
            began = time.monotonic()
            for component in batch:
                binary = binaries[component].path()
                pid = procs.start(self._argv(component, binary, rec), self.log_path(component))
                rec["pids"][component] = {"pid": pid, "binary": binary}
                self._save(rec)  # at once: stop() finds every started process by this record
            for component in batch:
                self._wait(component, rec, 240 if component == "kube-apiserver" else 120)
                log(f"{component}: healthy on {address if component == 'kube-apiserver' else '127.0.0.1'}:"
                    f"{ports[component]} (pid {rec['pids'][component]['pid']}, {time.monotonic() - began:.1f}s)")
        if self.node_kind == "kwok":
            self._ensure_node(log)
        else:
            self._start_real_node(server, log)

    def api(self, method: str, path: str, body: dict | None = None,
            content_type: str = "application/json") -> tuple[int | None, dict]:
        """One admin request to the apiserver (plain urllib: importing the kubernetes client costs
        seconds, and the launcher needs a few calls)."""
        rec = self.record()
        request = urllib.request.Request(f"https://{self.address(rec)}:{rec['ports']['kube-apiserver']}{path}",
                                         method=method, data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": content_type, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10, context=self._ssl()) as response:  # nosec - local
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}

    def _start_real_node(self, server: str, log) -> None:
        """containerd, kubelet, kube-proxy; then the Node Ready and the add-ons available."""
        began = time.monotonic()
        self.node.start(server, log)
        self._wait_node_ready(REAL_NODE_NAME, log, timeout=180)
        addons.apply(self.api, addons.coredns_objects(CLUSTER_DNS))
        addons.apply(self.api, addons.local_path_objects(os.path.join(self.state, "node-storage")))
        for namespace, name in (("kube-system", "coredns"), ("local-path-storage", "local-path-provisioner")):
            seconds = addons.wait_available(self.api, namespace, name)
            log(f"{namespace}/{name}: available ({seconds:.1f}s)")
        log(f"node {REAL_NODE_NAME}: real node up in {time.monotonic() - began:.1f}s")

    def _ensure_node(self, log) -> None:
        """One fake Node for kwok; then wait until it is Ready and the default ServiceAccount exists
        (proof that the controller-manager works)."""
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                           "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/agent": ""},
            },
            "status": {"allocatable": capacity, "capacity": capacity},
        }
        status = self.api("POST", "/api/v1/nodes", node)[0]
        if status not in (201, 409):
            raise RuntimeError(f"creating node {NODE_NAME} failed with HTTP {status}")
        self._wait_node_ready(NODE_NAME, log, timeout=120)

    def _wait_node_ready(self, name: str, log, timeout: float) -> None:
        """Wait until the Node is Ready and the default ServiceAccount exists (proof that the
        controller-manager works)."""
        began = time.monotonic()
        deadline = began + timeout
        ready = sa = False
        while time.monotonic() < deadline and not (ready and sa):
            conditions = self.api("GET", f"/api/v1/nodes/{name}")[1].get("status", {}).get("conditions") or []
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
            sa = bool(self.api("GET", "/api/v1/namespaces/default/serviceaccounts")[1].get("items"))
            if not (ready and sa):
                time.sleep(0.3)
        node_log = self.log_path("kwok") if self.node_kind == "kwok" else self.node.log_path("kubelet")
        if not ready:
            raise TimeoutError(f"node {name} not Ready after {timeout:.0f}s (log {node_log}):\n{procs.tail(node_log)}")
        if not sa:
            raise TimeoutError(f"no default ServiceAccount after {timeout:.0f}s: the controller-manager does not "
                               f"work (log {self.log_path('kube-controller-manager')})")
        log(f"node {name}: Ready, default ServiceAccount present ({time.monotonic() - began:.1f}s)")

    # -- faults (tests/integration/faults): one component dies and comes back on the same port
    def kill(self, component: str) -> None:
        """SIGKILL ``component`` (a crash, not a shutdown); the record keeps its argv's inputs."""
        entry = self.record().get("pids", {}).get(component)
        if entry and procs.alive(entry["pid"], entry["binary"]):
            os.kill(entry["pid"], signal.SIGKILL)
            deadline = time.monotonic() + 10
            while procs.alive(entry["pid"], entry["binary"]) and time.monotonic() < deadline:
                procs.reap(entry["pid"])
                time.sleep(0.05)

    def restart(self, component: str, log=print) -> None:
        """Start ``component`` again with the same flags and port (clients keep their kubeconfig)."""
        rec = self.record()
        entry = rec["pids"][component]
        if procs.alive(entry["pid"], entry["binary"]):
            return
        began = time.monotonic()
        for attempt in (1, 2):
            entry["pid"] = procs.start(self._argv(component, entry["binary"], rec), self.log_path(component))
            self._save(rec)
            try:
                self._wait(component, rec, 240 if component == "kube-apiserver" else 120)
                break
            except RuntimeError as err:
                # Seen on a loaded machine: an apiserver started right after a SIGKILL sometimes exits at
                # start-up. Once is a test-harness hiccup (said in the log); twice is a failure.
                if attempt == 2:
                    raise
                log(f"{component}: exited at restart, starting it once more ({str(err).splitlines()[-1][:300]})")
                time.sleep(2)
        log(f"{component}: restarted (pid {entry['pid']}, {time.monotonic() - began:.1f}s)")

    def stop(self) -> None:
        """Stop our processes by PID, in reverse start order (the real node first, with everything it
        made); the record survives for `down`."""
        rec = self.record()
        if rec.get("node") == "real" or os.path.exists(self.node.record_path):
            self.node.cleanup()
        pids = rec.get("pids", {})
        for component in reversed(CONTROL_PLANE + ("kwok",)):
            entry = pids.get(component)
            if entry and not procs.stop(entry["pid"], entry["binary"]):
                raise RuntimeError(f"{component} (pid {entry['pid']}) did not stop")
        if pids:
            rec["pids"] = {}
            self._save(rec)
