"""The real node: containerd, kubelet and kube-proxy in a network and mount namespace of their own.

Layout (everything the node makes lives in its namespaces, its cgroup subtree or ``<state>/node``):

- A holder process (Kubernetes' ``pause``) owns a new network and mount namespace; every node
  process joins both (setns) and a cgroup ``/argoops-<id>/node`` in each cgroup v1 hierarchy.
  When the holder and the node's processes are gone, the namespaces go with them: the bridge, the
  veths, the pods' network namespaces, the nftables rules and every mount (containers' rootfs,
  kubelet volumes) disappear without one unmount on the host.
- Network: a veth pair ``aoh<id>`` (host side, HOST_IP) / ``eth0`` (node side, NODE_IP) on a /30
  of 10.201.0.0/16; the apiserver listens on HOST_IP (reachable from the host, the node and, through
  the ``kubernetes`` Service, from pods). Pods get a /24 of 10.208.0.0/12 on the CNI bridge ``cni0``,
  routed from the host through the veth (the route goes with it), as the apiserver must reach pods;
  traffic pods start towards the host is masqueraded to NODE_IP, so the host needs no other rule.
- In the node's mount namespace /run is a tmpfs and /var/lib, /var/log are overlays whose upper
  layers live under ``<state>/node``: what the kubelet, CNI and containerd write to fixed host
  paths (/var/lib/cni, /var/log/containers, /run/...) never reaches the host.
- cgroup v1 (this machine's layout): the kubelet runs with ``failCgroupV1: false`` (KEP-5573) and
  ``cgroupRoot: /argoops-<id>``, so pods live under the node's own cgroup subtree.
"""
from __future__ import annotations

import ctypes
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import time

import yaml

from . import build, hostdeps, images, pki, procs

NODE_NAME = "argoops-node"
# Pod networks: one /24 per node from here, so that the host can route to every node's pods (the
# apiserver's service and pod proxy, port-forward and webhooks dial pod IPs) without two nodes overlapping.
POD_NETWORKS = ipaddress.ip_network("10.208.0.0/12")
CLUSTER_DNS = "10.0.0.10"
TRANSIT = ipaddress.ip_network("10.201.0.0/16")
CGROUP_ROOT = "/sys/fs/cgroup"
DAEMONS = ("containerd", "kubelet", "kube-proxy")
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
_LIBC = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def node_id(state: str) -> str:
    return hashlib.sha256(os.path.realpath(state).encode()).hexdigest()[:8]


def cgroup_hierarchies(unified: bool = False) -> list:
    """The cgroup v1 hierarchies mounted here (cpu, memory, pids, ..., name=systemd); with ``unified``
    also the cgroup2 mount of a hybrid layout, where runc mirrors the containers' cgroups."""
    kinds = ("cgroup", "cgroup2") if unified else ("cgroup",)
    found = []
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        for line in handle:
            _dev, mountpoint, fstype = line.split()[:3]
            if fstype in kinds and mountpoint.startswith(CGROUP_ROOT + "/"):
                found.append(mountpoint)
    return sorted(found)


class RealNode:
    """One real node per cluster state dir; its record is ``<state>/node/node.json``."""

    def __init__(self, state: str, pki_: pki.Pki):
        self.state = state
        self.root = os.path.join(state, "node")
        self.id = node_id(state)
        self.cgroup = f"argoops-{self.id}"
        self.veth = f"aoh{self.id}"
        self.pki = pki_
        self.record_path = os.path.join(self.root, "node.json")

    # -- record and addresses
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

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def log_path(self, name: str) -> str:
        return self.path("logs", name + ".log")

    @property
    def socket(self) -> str:
        return self.path("containerd", "containerd.sock")

    def addresses(self) -> tuple[str, str]:
        rec = self.record()
        return rec["host_ip"], rec["node_ip"]

    @property
    def pod_cidr(self) -> str:
        return self.record()["pod_cidr"]

    def _free_networks(self) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]:
        """A /30 of 10.201.0.0/16 for the veth and a /24 of 10.208.0.0/12 for the pods that no address
        or route here uses yet, searched from a start derived from the state dir."""
        used = [ipaddress.ip_network(word, strict=False) for line in subprocess.run(
            ["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout.splitlines()
            for word in line.split() if "/" in word and word[0].isdigit()]
        used += [ipaddress.ip_network(line.split()[0]) for line in subprocess.run(
            ["ip", "-4", "route", "show"], capture_output=True, text=True, check=True).stdout.splitlines()
            if line and line.split()[0][0].isdigit()]

        def free(pool: ipaddress.IPv4Network, prefix: int) -> ipaddress.IPv4Network:
            blocks = list(pool.subnets(new_prefix=prefix))
            first = int(self.id, 16) % len(blocks)
            for offset in range(len(blocks)):
                block = blocks[(first + offset) % len(blocks)]
                if not any(block.overlaps(net) for net in used):
                    return block
            raise RuntimeError(f"no free /{prefix} left in {pool} for the real node")
        return free(TRANSIT, 30), free(POD_NETWORKS, 24)

    # -- namespaces
    def _enter(self, holder: int):
        """preexec_fn of every node process: join the holder's namespaces and the node cgroup."""
        net = os.open(f"/proc/{holder}/ns/net", os.O_RDONLY)
        mnt = os.open(f"/proc/{holder}/ns/mnt", os.O_RDONLY)
        cgroups = [os.path.join(h, self.cgroup, "node", "cgroup.procs") for h in cgroup_hierarchies()]

        def enter():
            for path in cgroups:
                with open(path, "w", encoding="ascii") as handle:
                    handle.write(str(os.getpid()))
            _check(_LIBC.setns(net, CLONE_NEWNET), "setns net")
            _check(_LIBC.setns(mnt, CLONE_NEWNS), "setns mnt")
            os.chdir("/")
        return enter, (net, mnt)

    def _unshare(self):
        _check(_LIBC.unshare(CLONE_NEWNET | CLONE_NEWNS), "unshare")
        _check(_LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")

    def _in_node(self, argv: list, **kwargs) -> subprocess.CompletedProcess:
        """Run a one-shot command inside the node's namespaces."""
        holder = self.record()["holder"]["pid"]
        return subprocess.run(["nsenter", f"--target={holder}", "--net", "--mount", "--"] + argv,
                              capture_output=True, text=True, check=kwargs.pop("check", True), **kwargs)

    def _make_cgroups(self) -> None:
        for hierarchy in cgroup_hierarchies():
            node_dir = os.path.join(hierarchy, self.cgroup, "node")
            os.makedirs(node_dir, exist_ok=True)
            if os.path.basename(hierarchy) == "cpuset":  # a cpuset cgroup takes no task until it has cpus/mems
                for sub in (os.path.dirname(node_dir), node_dir):
                    for knob in ("cpuset.cpus", "cpuset.mems"):
                        with open(os.path.join(hierarchy, knob), encoding="ascii") as parent:
                            value = parent.read().strip()
                        with open(os.path.join(sub, knob), "w", encoding="ascii") as handle:
                            handle.write(value)

    def prepare(self, log=print) -> tuple[str, str]:
        """Namespaces, cgroups and network; returns (HOST_IP, NODE_IP). The apiserver needs HOST_IP
        before it starts, so this runs before the control plane, the daemons after it."""
        hostdeps.ensure(log)
        for forbidden in ("/var/lib", "/var/log", "/run"):
            if os.path.realpath(self.state).startswith(forbidden + "/"):
                raise RuntimeError(f"the cluster state dir {self.state} is under {forbidden}, which the real "
                                   "node overlays in its mount namespace: use another --state-dir")
        self.cleanup()
        os.makedirs(self.path("logs"), exist_ok=True)
        self._make_cgroups()
        block, pods = self._free_networks()
        host_ip, node_ip = (str(h) for h in list(block.hosts())[:2])
        pause = images.pause_binary()
        pid = procs.start([pause], self.log_path("holder"), preexec=self._unshare)
        rec = {"holder": {"pid": pid, "binary": pause}, "host_ip": host_ip, "node_ip": node_ip,
               "pod_cidr": str(pods), "cgroup": self.cgroup, "veth": self.veth, "pids": {}}
        self._save(rec)
        for sub in ("varlib", "varlog"):
            for layer in ("upper", "work"):
                os.makedirs(self.path("overlay", sub, layer), exist_ok=True)
        script = " && ".join([
            "mount -t tmpfs -o mode=755 node-run /run",
            f"mount -t overlay node-varlib -o lowerdir=/var/lib,upperdir={self.path('overlay/varlib/upper')},"
            f"workdir={self.path('overlay/varlib/work')} /var/lib",
            f"mount -t overlay node-varlog -o lowerdir=/var/log,upperdir={self.path('overlay/varlog/upper')},"
            f"workdir={self.path('overlay/varlog/work')} /var/log",
            "ip link set lo up",
            "sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1",
        ])
        self._in_node(["sh", "-c", script])
        subprocess.run(["ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", str(pid)],
                       check=True, capture_output=True)
        subprocess.run(["ip", "addr", "add", f"{host_ip}/30", "dev", self.veth], check=True, capture_output=True)
        subprocess.run(["ip", "link", "set", self.veth, "up"], check=True, capture_output=True)
        subprocess.run(["ip", "route", "add", str(pods), "via", node_ip, "dev", self.veth], check=True,
                       capture_output=True)
        self._in_node(["sh", "-c", f"ip addr add {node_ip}/30 dev eth0 && ip link set eth0 up && "
                                   f"ip route add default via {host_ip}"])
        self._in_node([hostdeps.NFT, "-f", "-"], input=(
            "table ip argoops-node {\n chain postrouting {\n  type nat hook postrouting priority srcnat;\n"
            f'  oifname "eth0" ip saddr {pods} masquerade\n }}\n}}\n'))
        log(f"node: namespaces, cgroup /{self.cgroup}, veth {self.veth} ({host_ip} <-> {node_ip}) and pod "
            f"network {pods} ready")
        return host_ip, node_ip

    # -- configuration files
    def _write(self, relpath: str, text: str) -> str:
        path = self.path(relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def _containerd_config(self) -> str:
        cri = "plugins.'io.containerd.cri.v1"
        return self._write("containerd/config.toml", f"""version = 4
root = '{self.path("containerd", "root")}'
state = '{self.path("containerd", "state")}'
imports = []
[plugins.'io.containerd.server.v1.grpc']
  address = '{self.socket}'
[plugins.'io.containerd.server.v1.ttrpc']
  address = '{self.socket}.ttrpc'
[{cri}.images']
  snapshotter = 'overlayfs'
  [{cri}.images'.pinned_images]
    sandbox = '{images.pause_ref()}'
[{cri}.runtime']
  enable_selinux = false
  netns_mounts_under_state_dir = true
  # no CAP_SYS_RESOURCE here: oom_score_adj may not go below containerd's own (the kubelet asks for
  # -998 for sandboxes), so clamp it as containerd does for rootless/nested nodes
  restrict_oom_score_adj = true
  [{cri}.runtime'.containerd]
    default_runtime_name = 'runc'
    [{cri}.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [{cri}.runtime'.containerd.runtimes.runc.options]
        BinaryName = '{hostdeps.RUNC}'
        SystemdCgroup = false
  [{cri}.runtime'.cni]
    bin_dirs = ['{hostdeps.CNI_BIN_DIR}']
    conf_dir = '{self.path("cni", "net.d")}'
""")

    def _cni_config(self) -> None:
        self._write("cni/net.d/10-argoops.conflist", json.dumps({
            "cniVersion": "1.0.0", "name": "argoops",
            "plugins": [{"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False,
                         "hairpinMode": True,
                         "ipam": {"type": "host-local", "ranges": [[{"subnet": self.pod_cidr}]],
                                  "routes": [{"dst": "0.0.0.0/0"}], "dataDir": self.path("cni", "ipam")}}],
        }, indent=2))

    def _kubelet_config(self, server: str, host_ip: str, node_ip: str) -> list:
        p = self.pki.path
        self.pki.issue("kubelet", pki.name(f"system:node:{NODE_NAME}", "system:nodes"))
        self.pki.issue("kubelet-serving", pki.name(NODE_NAME), server=True, names=(NODE_NAME,), ips=(node_ip,))
        self.pki.kubeconfig("kubelet", server, self.path("kubelet.kubeconfig"))
        # pods with dnsPolicy Default (CoreDNS) forward to the host side: nothing answers there, so
        # names outside the cluster fail at once instead of timing out (no internet here anyway)
        self._write("resolv.conf", f"nameserver {host_ip}\n")
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "failCgroupV1": False, "cgroupDriver": "cgroupfs", "cgroupRoot": f"/{self.cgroup}",
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "address": node_ip, "port": 10250, "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": 10248,
            "tlsCertFile": p("kubelet-serving.crt"), "tlsPrivateKeyFile": p("kubelet-serving.key"),
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                               "x509": {"clientCAFile": p("ca.crt")}},
            "authorization": {"mode": "AlwaysAllow"},  # only clients with a CA-signed certificate get here
            "clusterDomain": "cluster.local", "clusterDNS": [CLUSTER_DNS],
            "resolvConf": self.path("resolv.conf"), "podLogsDir": self.path("pod-logs"),
            "failSwapOn": False, "serializeImagePulls": False,
            # images cannot be pulled again here: never garbage-collect them, never evict for disk
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                             "nodefs.inodesFree": "1%"},
            "registerNode": True, "maxPods": 110, "staticPodPath": "",
        }
        path = self._write("kubelet-config.yaml", yaml.safe_dump(config))
        return ["--config", path, "--kubeconfig", self.path("kubelet.kubeconfig"),
                "--root-dir", self.path("kubelet"), "--node-ip", node_ip, "--hostname-override", NODE_NAME,
                "--node-labels", "argoops.io/node=real"]

    def _kube_proxy_config(self, server: str) -> list:
        self.pki.issue("kube-proxy", pki.name("system:kube-proxy"))
        self.pki.kubeconfig("kube-proxy", server, self.path("kube-proxy.kubeconfig"))
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
            "mode": "nftables", "clusterCIDR": self.pod_cidr, "hostnameOverride": NODE_NAME,
            "clientConnection": {"kubeconfig": self.path("kube-proxy.kubeconfig")},
            "bindAddress": "0.0.0.0", "healthzBindAddress": "127.0.0.1:10256", "metricsBindAddress": "127.0.0.1:10249",
            # leave the (machine-wide) conntrack sysctls alone
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        }
        return ["--config", self._write("kube-proxy-config.yaml", yaml.safe_dump(config))]

    # -- daemons
    def _start_daemon(self, name: str, argv: list) -> None:
        rec = self.record()
        enter, fds = self._enter(rec["holder"]["pid"])
        env = dict(os.environ, PATH=f"{os.path.dirname(argv[0])}:/usr/sbin:/usr/bin:/sbin:/bin")
        try:
            pid = procs.start(argv, self.log_path(name), preexec=enter, env=env)
        finally:
            for fd in fds:
                os.close(fd)
        rec["pids"][name] = {"pid": pid, "binary": argv[0]}
        self._save(rec)

    def _wait_for(self, what: str, check, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        entry = self.record()["pids"][name]
        while time.monotonic() < deadline:
            if not procs.alive(entry["pid"], entry["binary"]):
                raise RuntimeError(f"{name} exited during start-up; log {self.log_path(name)}:\n"
                                   f"{procs.tail(self.log_path(name))}")
            if check():
                return
            time.sleep(0.3)
        raise TimeoutError(f"{what} not ready after {timeout:.0f}s; log {self.log_path(name)}:\n"
                           f"{procs.tail(self.log_path(name))}")

    def ctr(self, *args: str, check: bool = True) -> str:
        ctr = build.ensure("containerd").path("ctr")
        out = subprocess.run([ctr, "--address", self.socket, "--namespace", "k8s.io", *args],
                             capture_output=True, text=True, check=False)
        if check and out.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def start(self, server: str, log=print) -> None:
        """containerd (with every image imported), then kubelet and kube-proxy."""
        began = time.monotonic()
        host_ip, node_ip = self.addresses()
        containerd = build.ensure("containerd", log)
        tarballs = images.ensure_all(log)
        self._cni_config()
        self._start_daemon("containerd", [containerd.path(), "--config", self._containerd_config()])
        self._wait_for("containerd", lambda: os.path.exists(self.socket) and
                       subprocess.run([containerd.path("ctr"), "--address", self.socket, "version"],
                                      capture_output=True, check=False).returncode == 0, "containerd")
        for ref, tarball in tarballs.items():
            self.ctr("images", "import", "--platform", "linux/amd64", tarball)
        log(f"node: containerd {build.CONTAINERD_VERSION} up, {len(tarballs)} images imported "
            f"({time.monotonic() - began:.1f}s)")
        self._start_daemon("kubelet", [build.ensure("kubelet", log).path()]
                           + self._kubelet_config(server, host_ip, node_ip))
        self._start_daemon("kube-proxy", [build.ensure("kube-proxy", log).path()] + self._kube_proxy_config(server))
        self._wait_for("kubelet healthz", lambda: self._healthz(10248), "kubelet")
        self._wait_for("kube-proxy healthz", lambda: self._healthz(10256), "kube-proxy")

    def _healthz(self, port: int) -> bool:
        """GET http://127.0.0.1:PORT/healthz inside the node's network namespace."""
        try:  # (no `wget -T`: busybox 1.35's wget crashes on it)
            out = self._in_node(["/bin/busybox", "wget", "-q", "-O", "-", f"http://127.0.0.1:{port}/healthz"],
                                check=False, timeout=5)
        except subprocess.TimeoutExpired:
            return False
        return out.returncode == 0

    def healthy(self) -> bool:
        rec = self.record()
        holder = rec.get("holder")
        if not holder or not procs.alive(holder["pid"], holder["binary"]):
            return False
        if not all(self.alive(name, rec) for name in DAEMONS):
            return False
        return self._healthz(10248) and self._healthz(10256)

    def alive(self, name: str, rec: dict | None = None) -> bool:
        entry = (rec if rec is not None else self.record()).get("pids", {}).get(name)
        return bool(entry) and procs.alive(entry["pid"], entry["binary"])

    # -- teardown
    def _cgroup_pids(self) -> set:
        pids = set()
        for hierarchy in cgroup_hierarchies(unified=True):
            top = os.path.join(hierarchy, self.cgroup)
            for directory, _subdirs, files in os.walk(top):
                if "cgroup.procs" in files:
                    try:
                        with open(os.path.join(directory, "cgroup.procs"), encoding="ascii") as handle:
                            pids.update(int(line) for line in handle if line.strip())
                    except OSError:
                        pass
        return pids

    def cleanup(self) -> None:
        """Stop the node and remove what it made; also the leftovers of a run that crashed. Safe to
        run when nothing is there."""
        rec = self.record()
        for name in reversed(DAEMONS):  # orderly first: kubelet stops its pods' probes, containerd its shims
            entry = rec.get("pids", {}).get(name)
            if entry:
                procs.stop(entry["pid"], entry["binary"], timeout=10)
        for _attempt in range(50):  # then everything left in the node's cgroups: shims, containers
            left = self._cgroup_pids() - {os.getpid()}
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        holder = rec.get("holder")
        if holder:
            procs.stop(holder["pid"], holder["binary"])
        for hierarchy in cgroup_hierarchies(unified=True):
            _remove_cgroup_tree(os.path.join(hierarchy, self.cgroup))
        if os.path.exists(f"/sys/class/net/{self.veth}"):  # namespace held by a stray process
            subprocess.run(["ip", "link", "del", self.veth], capture_output=True, check=False)
        for name in os.listdir(self.root) if os.path.isdir(self.root) else []:
            if name != "logs":  # kept for the post-mortem of a failed start; `down` removes the state dir
                path = os.path.join(self.root, name)
                shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)

    def memory_kib(self) -> int:
        """Memory charged to the node's cgroup: its daemons, shims and every pod."""
        try:
            with open(os.path.join(CGROUP_ROOT, "memory", self.cgroup, "memory.usage_in_bytes"),
                      encoding="ascii") as handle:
                return int(handle.read()) // 1024
        except (OSError, ValueError):
            return 0

    def leftovers(self) -> dict:
        """What of the node is still on this machine (empty after cleanup): for tests and `status`."""
        found = {}
        if self._cgroup_pids():
            found["processes"] = sorted(self._cgroup_pids())
        cgroups = [h for h in cgroup_hierarchies(unified=True) if os.path.isdir(os.path.join(h, self.cgroup))]
        if cgroups:
            found["cgroups"] = cgroups
        if os.path.exists(f"/sys/class/net/{self.veth}"):
            found["veth"] = self.veth
        with open("/proc/self/mounts", encoding="utf-8") as handle:
            mounts = [line.split()[1] for line in handle if self.root in line or "node-var" in line]
        if mounts:
            found["mounts"] = mounts
        return found


def _remove_cgroup_tree(top: str) -> None:
    if not os.path.isdir(top):
        return
    for directory, _subdirs, _files in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
        try:
            os.rmdir(directory)
        except OSError:
            pass
