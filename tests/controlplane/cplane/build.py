"""Build the control plane's binaries from Go modules, once per component and version.

Binaries land in ``<cache>/bin/<component>-<version>/`` (outside the repository) and are rebuilt
only when absent. Builds are serialised per component by a machine-wide lock, so concurrent test
sessions wait for one build instead of running two.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from . import paths

ARGO_MODULE = "github.com/argoproj/argo-workflows/v4"
ARGO_VERSION = "v4.0.5"  # the only v4 the module proxy here serves (flagged upstream; a loopback test peer only)
ARGO_TAGS = "kubernetes_protomessage_one_more_release"  # as Argo's release builds
KWOK_MODULE = "sigs.k8s.io/kwok"
KWOK_VERSION = "v0.8.0"
# the real node (cluster.py up --node real): container runtime, cluster DNS, storage provisioner
CONTAINERD_MODULE = "github.com/containerd/containerd/v2"
CONTAINERD_VERSION = "v2.4.2"  # newest the proxy serves; Kubernetes 1.36 is tested with containerd 2.x
COREDNS_MODULE = "github.com/coredns/coredns"
COREDNS_VERSION = "v1.15.0"
LOCAL_PATH_MODULE = "github.com/rancher/local-path-provisioner"
LOCAL_PATH_VERSION = "v0.0.30"  # what k3s ships for PersistentVolumeClaims
KUBE_MODULE_DIR = paths.CONTROLPLANE_DIR
ETCD_MODULE_DIR = os.path.join(paths.CONTROLPLANE_DIR, "etcd")
ARGODB_MODULE_DIR = os.path.join(paths.CONTROLPLANE_DIR, "argodb")
IMAGETOOL_MODULE_DIR = os.path.join(paths.CONTROLPLANE_DIR, "imagetool")
K3D_MODULE = "github.com/k3d-io/k3d/v5"
K3D_MODULE_DIR = os.path.join(paths.REPO_ROOT, "tests", "realk3d")  # its go.mod says why not `go install`
# k3d's Makefile stamps version.K3sVersion with the k3s stable channel of release day (fetched by curl, not in
# the source, whose fallback is v1.32.5-k3s1); v5.9.0 as released prints this one (reference/k3d-cli.md).
K3D_K3S_VERSION = "v1.35.5-k3s1"


def required_version(module_dir: str, module: str) -> str:
    """The version of ``module`` that our wrapper go.mod requires (the single source of truth)."""
    with open(os.path.join(module_dir, "go.mod"), encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r"^\s*(?:require\s+)?" + re.escape(module) + r"\s+(v\S+)", text, re.M)
    if not match:
        raise RuntimeError(f"{module} is not required in {module_dir}/go.mod")
    return match.group(1)


def kube_version() -> str:
    return required_version(KUBE_MODULE_DIR, "k8s.io/kubernetes")


def etcd_version() -> str:
    return required_version(ETCD_MODULE_DIR, "go.etcd.io/etcd/server/v3")


def kube_ldflags(version: str) -> str:
    """`/version` reports v0.0.0-master unless the version variables are stamped."""
    major, minor = version.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}",
                  f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean"]
    return " ".join(flags)


@dataclass
class SourceTree:
    """A module's source as its repository has it: module zips drop symlinks, and generated files the
    repository's own build makes (Argo's UI bundle) are absent. Copied once from the module cache to
    ``<cache>/src/``, where ``symlinks`` are put back and ``files`` (ours) added."""
    module: str
    version: str
    symlinks: dict  # path -> link target, as in the repository
    files: dict  # path -> our file to copy there

    @property
    def directory(self) -> str:
        return os.path.join(paths.cache_dir(), "src", f"{self.module.replace('/', '_')}@{self.version}")

    def ensure(self) -> str:
        marker = os.path.join(self.directory, ".argoops-prepared")
        with paths.locked(f"src-{os.path.basename(self.directory)}", what=f"source of {self.module}"):
            if not os.path.exists(marker):
                shutil.rmtree(self.directory, ignore_errors=True)
                shutil.copytree(module_dir(self.module, self.version), self.directory)
                for root, dirs, files in os.walk(self.directory):  # the module cache is read-only
                    for name in dirs + files:
                        os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
                for path, target in self.symlinks.items():
                    os.symlink(target, os.path.join(self.directory, path))
                open(marker, "w", encoding="utf-8").close()
            for path, ours in self.files.items():  # ours may change: refreshed every build
                os.makedirs(os.path.dirname(os.path.join(self.directory, path)), exist_ok=True)
                shutil.copy(ours, os.path.join(self.directory, path))
        return self.directory


@dataclass
class Component:
    name: str
    version: str
    binaries: list
    # either `go install <packages>` (module@version) or `go build` of packages in our own module
    packages: list
    module_dir: str | None = None
    ldflags: str = "-s -w"
    tags: str = ""
    # build in a writable copy of this module (SourceTree) instead of `go install module@version`
    source: SourceTree | None = None
    # False: needed only by the real node (built on first `up --node real`, not by the kwok tiers)
    kwok_tiers: bool = True

    @property
    def directory(self) -> str:
        return os.path.join(paths.cache_dir(), "bin", f"{self.name}-{self.version}")

    def path(self, binary: str | None = None) -> str:
        return os.path.join(self.directory, binary or self.binaries[0])

    def present(self) -> bool:
        return all(os.access(self.path(b), os.X_OK) for b in self.binaries)


def components() -> dict:
    kube = kube_version()
    etcd = etcd_version()
    k3d = required_version(K3D_MODULE_DIR, K3D_MODULE)
    argo_ldflags = f"-s -w -X {ARGO_MODULE}.version={ARGO_VERSION} -X {ARGO_MODULE}.gitTag={ARGO_VERSION}"
    items = [
        Component("etcd", etcd, ["etcd"], ["./cmd/etcd"], module_dir=ETCD_MODULE_DIR),
        Component("kube-apiserver", kube, ["kube-apiserver"], ["./cmd/kube-apiserver"],
                  module_dir=KUBE_MODULE_DIR, ldflags=kube_ldflags(kube)),
        Component("kube-controller-manager", kube, ["kube-controller-manager"],
                  ["./cmd/kube-controller-manager"], module_dir=KUBE_MODULE_DIR, ldflags=kube_ldflags(kube)),
        Component("kube-scheduler", kube, ["kube-scheduler"], ["./cmd/kube-scheduler"],
                  module_dir=KUBE_MODULE_DIR, ldflags=kube_ldflags(kube)),
        Component("kwok", KWOK_VERSION, ["kwok"], [f"{KWOK_MODULE}/cmd/kwok@{KWOK_VERSION}"]),
        Component("argo", ARGO_VERSION, ["workflow-controller"],
                  [f"{ARGO_MODULE}/cmd/workflow-controller@{ARGO_VERSION}"],
                  ldflags=argo_ldflags, tags=ARGO_TAGS),
        # our wrapper over Argo's archive code, as Argo's hack/db panics at v4.0.5 (argodb/cmd/db/main.go)
        Component("argo-db", required_version(ARGODB_MODULE_DIR, ARGO_MODULE), ["db"], ["./cmd/db"],
                  module_dir=ARGODB_MODULE_DIR, tags=ARGO_TAGS),
        # the real k3d CLI, for what needs no Docker engine (version, its Docker errors, config validation)
        Component("k3d", k3d, ["k3d"], [K3D_MODULE], module_dir=K3D_MODULE_DIR,
                  ldflags=f"-s -w -X {K3D_MODULE}/version.Version={k3d} -X {K3D_MODULE}/version.K3sVersion={K3D_K3S_VERSION}"),
        # Argo's own ConfigMap parsing as the controller runs it: the persistence_config oracle
        Component("argo-config", required_version(os.path.join(paths.CONTROLPLANE_DIR, "argoconfig"), ARGO_MODULE),
                  ["argoconfig"], ["./cmd/argoconfig"], module_dir=os.path.join(paths.CONTROLPLANE_DIR, "argoconfig"),
                  tags=ARGO_TAGS),
    ]
    items += node_components(kube, argo_ldflags)
    return {c.name: c for c in items}


def node_components(kube: str, argo_ldflags: str) -> list:
    """What the real node runs, and the images it runs from (see cplane/node.py and cplane/images.py)."""
    containerd_ldflags = f"-s -w -X {CONTAINERD_MODULE}/version.Version={CONTAINERD_VERSION}"
    return [
        Component(name, kube, [name], [f"./cmd/{name}"], module_dir=KUBE_MODULE_DIR,
                  ldflags=kube_ldflags(kube), kwok_tiers=False)
        for name in ("kubelet", "kube-proxy", "kubectl")
    ] + [
        # as containerd's Makefile builds them (urfave_cli_no_docs); no btrfs snapshotter (needs cgo)
        Component("containerd", CONTAINERD_VERSION, ["containerd", "containerd-shim-runc-v2", "ctr"],
                  [f"{CONTAINERD_MODULE}/cmd/{cmd}@{CONTAINERD_VERSION}"
                   for cmd in ("containerd", "containerd-shim-runc-v2", "ctr")],
                  ldflags=containerd_ldflags, tags="urfave_cli_no_docs no_btrfs", kwok_tiers=False),
        Component("coredns", COREDNS_VERSION, ["coredns"], [f"{COREDNS_MODULE}@{COREDNS_VERSION}"],
                  ldflags=f"-s -w -X {COREDNS_MODULE}/coremain.GitCommit={COREDNS_VERSION}", kwok_tiers=False),
        Component("local-path-provisioner", LOCAL_PATH_VERSION, ["local-path-provisioner"],
                  [f"{LOCAL_PATH_MODULE}@{LOCAL_PATH_VERSION}"],
                  ldflags=f"-s -w -X main.VERSION={LOCAL_PATH_VERSION}", kwok_tiers=False),
        Component("argoexec", ARGO_VERSION, ["argoexec"], ["./cmd/argoexec"], ldflags=argo_ldflags,
                  tags=ARGO_TAGS, kwok_tiers=False, source=argo_source()),
        Component("argocli", ARGO_VERSION, ["argo"], ["./cmd/argo"], ldflags=argo_ldflags, tags=ARGO_TAGS,
                  kwok_tiers=False, source=argo_source()),
        Component("imagetool", required_version(IMAGETOOL_MODULE_DIR, "github.com/google/go-containerregistry"),
                  ["imagetool"], ["./cmd/imagetool"], module_dir=IMAGETOOL_MODULE_DIR, kwok_tiers=False),
    ]


def argo_source() -> SourceTree:
    """Argo's executor and CLI, built from the repository's layout: upstream's
    workflow/executor/osspecific/signal_linux.go is a symlink to signal_darwin.go (dropped from the
    module zip, so the package does not compile for linux), and argo-server embeds ui/dist/app, a
    webpack build of the UI that the module does not carry: our one-page STAND-IN takes its place,
    so `argo server` builds and serves Argo's real API."""
    return SourceTree(ARGO_MODULE, ARGO_VERSION,
                      symlinks={"workflow/executor/osspecific/signal_linux.go": "signal_darwin.go"},
                      files={"ui/dist/app/index.html": os.path.join(paths.CONTROLPLANE_DIR, "images",
                                                                    "argo-ui-standin.html")})


def _go_command(comp: Component, out_dir: str) -> tuple[list, dict, str | None]:
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-buildvcs=false")
    flags = ["-ldflags", comp.ldflags] + (["-tags", comp.tags] if comp.tags else [])
    work_dir = comp.source.ensure() if comp.source else comp.module_dir
    if work_dir:
        return ["go", "build"] + flags + ["-o", out_dir + "/"] + comp.packages, env, work_dir
    env["GOBIN"] = out_dir
    return ["go", "install"] + flags + comp.packages, env, None


def ensure(name: str, log=print) -> Component:
    """Return the component, building it first when its binaries are not cached yet."""
    comp = components()[name]
    if comp.present():
        return comp
    with paths.locked(f"build-{comp.name}-{comp.version}", what=f"build of {comp.name} {comp.version}"):
        if comp.present():  # another session built it while we waited
            return comp
        tmp = comp.directory + f".tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        argv, env, cwd = _go_command(comp, tmp)
        log(f"build: {comp.name} {comp.version} ({', '.join(comp.binaries)}) ...")
        start = time.monotonic()
        result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
        if result.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"building {comp.name} {comp.version} failed after {seconds:.0f}s:\n"
                               f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
        with open(os.path.join(tmp, "BUILD.json"), "w", encoding="utf-8") as handle:
            json.dump({"component": comp.name, "version": comp.version, "seconds": round(seconds, 1),
                       "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": argv}, handle)
        shutil.rmtree(comp.directory, ignore_errors=True)
        os.rename(tmp, comp.directory)
        log(f"build: {comp.name} {comp.version} built in {seconds:.0f}s -> {comp.directory}")
    return comp


def ensure_all(log=print, node: bool = False) -> dict:
    """Every binary the kwok tiers need; with ``node``, also the real node's."""
    built = {}
    for name, comp in components().items():
        if not (comp.kwok_tiers or node):
            continue
        comp = built[name] = ensure(name, log)
        if os.path.exists(os.path.join(comp.directory, "BUILD.json")):
            with open(os.path.join(comp.directory, "BUILD.json"), encoding="utf-8") as handle:
                record = json.load(handle)
            log(f"build: {comp.name} {comp.version} ready (built {record.get('built_at', '?')} in "
                f"{record.get('seconds', 0):.0f}s)")
    return built


def module_dir(module: str, version: str) -> str:
    """The module's directory in the Go module cache (downloaded through the proxy if missing)."""
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True,
                         text=True, check=False)
    info = json.loads(out.stdout or "{}")
    if out.returncode != 0 or not info.get("Dir"):
        raise RuntimeError(f"cannot get {module}@{version} from the module cache/proxy: {info.get('Error', out.stderr)}")
    return info["Dir"]


def argo_manifests() -> str:
    return os.path.join(module_dir(ARGO_MODULE, ARGO_VERSION), "manifests")


def kwok_stages_dir() -> str:
    return os.path.join(module_dir(KWOK_MODULE, KWOK_VERSION), "kustomize", "stage")
