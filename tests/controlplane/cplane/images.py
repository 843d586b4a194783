"""The real node's container images, built locally: nothing can be pulled on this machine.

Each image is a root filesystem staged from our own builds (cplane/build.py) and Debian's packages,
assembled by ``imagetool`` (go-containerregistry) into a docker-archive tarball, and cached under
``<cache>/images/`` keyed by its inputs (so a rebuilt binary or a new package version makes a new
image). Every image is named under ``localhost/...``: none pretends to be an upstream image.

``postgres`` runs Debian's real PostgreSQL 15 server behind a STAND-IN entrypoint
(images/postgres-entrypoint.sh) that follows the official image's documented contract.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from . import build, hostdeps, paths

PG_BIN = "/usr/lib/postgresql/15/bin"
IMAGES_DIR = os.path.join(paths.CONTROLPLANE_DIR, "images")
PAUSE_VERSION_RE = re.compile(r"^TAG \?= (\S+)", re.M)


@dataclass
class Image:
    """One image: its ``localhost/`` reference, what goes into its layers, and its OCI config."""
    ref: str
    # (source path on this machine, path in the image); a directory is copied whole. One layer: the
    # images are imported, never pulled, so layer sharing would save nothing.
    files: list
    config: dict
    # extra facts the cache key must cover (package versions, ...)
    facts: dict = field(default_factory=dict)
    # run on the staged root after the copy: symlinks, ownership and generated files
    finish: object = None

    @property
    def key(self) -> str:
        digest = hashlib.sha256(json.dumps(
            {"ref": self.ref, "config": self.config, "facts": self.facts,
             "files": [(src, dst, _fingerprint(src)) for src, dst in self.files],
             "finish": getattr(self.finish, "__name__", None), "version": 1},
            sort_keys=True).encode()).hexdigest()
        return digest[:16]

    @property
    def tarball(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.ref)
        return os.path.join(paths.cache_dir(), "images", f"{safe}-{self.key}.tar")


def _fingerprint(path: str) -> str:
    """Content hash for small files and scripts, size+mtime for big binaries and directories."""
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    if os.path.isfile(path) and info.st_size <= 1 << 20:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    return f"{info.st_size}:{info.st_mtime_ns}"


def _binary(component: str, binary: str | None = None) -> str:
    return build.ensure(component).path(binary)


def _base_files() -> list:
    """What distroless/static gives Go programs: CA bundle, mime types, name service order."""
    return [("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt"),
            ("/etc/mime.types", "/etc/mime.types"),
            (os.path.join(IMAGES_DIR, "nsswitch.conf"), "/etc/nsswitch.conf")]


USERS = (("root", 0, "/root", "/bin/sh"), ("nobody", 65534, "/nonexistent", "/bin/false"),
         ("argo", 8737, "/home/argo", "/bin/false"))
POSTGRES_USER = ("postgres", 999, "/var/lib/postgresql", "/bin/sh")  # the official image's uid


def _users(root: str, users=USERS) -> None:
    """/etc/passwd, /etc/group and a world-writable /tmp, as every base image has them."""
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    with open(os.path.join(root, "etc", "passwd"), "w", encoding="utf-8") as handle:
        handle.writelines(f"{name}:x:{uid}:{uid}:{name}:{home}:{shell}\n" for name, uid, home, shell in users)
    with open(os.path.join(root, "etc", "group"), "w", encoding="utf-8") as handle:
        handle.writelines(f"{name}:x:{uid}:\n" for name, uid, _home, _shell in users)


def _static_base(root: str) -> None:
    _users(root)
    os.makedirs(os.path.join(root, "home", "argo"), exist_ok=True)
    os.chown(os.path.join(root, "home", "argo"), 8737, 8737)


def _busybox_links(root: str, users=USERS) -> None:
    """busybox-static's applets as symlinks, the way the busybox image lays them out."""
    _users(root, users)
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        link = os.path.join(root, "bin", applet)
        if applet != "busybox" and not os.path.lexists(link):
            os.symlink("busybox", link)


def _postgres_root(root: str) -> None:
    _busybox_links(root, USERS + (POSTGRES_USER,))
    for directory, mode in (("var/lib/postgresql/data", 0o700), ("var/run/postgresql", 0o3775),
                            ("docker-entrypoint-initdb.d", 0o755)):
        path = os.path.join(root, directory)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        os.chown(path, 999, 999)
    os.chown(os.path.join(root, "var", "lib", "postgresql"), 999, 999)


def _shared_libraries(binaries: list) -> list:
    """The shared libraries ``binaries`` load (ldd), as (host path, image path) pairs."""
    found = set()
    for binary in binaries:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            match = re.search(r"(/\S+) \(0x", line)
            if match:
                found.add(match.group(1))
    return [(lib, lib) for lib in sorted(found)]


def pause_binary() -> str:
    """Kubernetes' own pause.c (in the k8s.io/kubernetes module), compiled static with the machine's gcc."""
    source_dir = os.path.join(build.module_dir("k8s.io/kubernetes", build.kube_version()), "build", "pause")
    with open(os.path.join(source_dir, "Makefile"), encoding="utf-8") as handle:
        version = PAUSE_VERSION_RE.search(handle.read()).group(1)
    out_dir = os.path.join(paths.cache_dir(), "bin", f"pause-{version}")
    binary = os.path.join(out_dir, "pause")
    if not os.access(binary, os.X_OK):
        with paths.locked(f"build-pause-{version}", what=f"build of pause {version}"):
            if not os.access(binary, os.X_OK):
                os.makedirs(out_dir, exist_ok=True)
                subprocess.run(["gcc", "-Os", "-static", "-s", f"-DVERSION={version}", "-o", binary + ".tmp",
                                os.path.join(source_dir, "linux", "pause.c")], check=True)
                os.rename(binary + ".tmp", binary)
    return binary


def pause_ref() -> str:
    return f"localhost/pause:{_run([pause_binary(), '-v']).split()[-1]}"


def _run(argv: list) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).strip()


def catalog() -> dict:
    """Every image the real node carries, by short name."""
    pg_bins = [os.path.join(PG_BIN, b) for b in ("postgres", "initdb", "pg_ctl", "psql", "pg_isready")]
    pg_libs = [os.path.join("/usr/lib/postgresql/15/lib", f) for f in os.listdir("/usr/lib/postgresql/15/lib")
               if f.endswith(".so")] if os.path.isdir("/usr/lib/postgresql/15/lib") else []
    pg_version = hostdeps.package_version("postgresql-15")
    busybox_version = hostdeps.package_version("busybox-static")
    argo = build.ARGO_VERSION
    images = [
        Image(pause_ref(), [(pause_binary(), "/pause")],
              {"Entrypoint": ["/pause"], "User": "65535:65535"}),
        Image(f"localhost/busybox:{busybox_version.split(':')[-1].split('-')[0]}",
              [("/bin/busybox", "/bin/busybox")], {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
              facts={"busybox-static": busybox_version}, finish=_busybox_links),
        Image(f"localhost/coredns:{build.COREDNS_VERSION}", _base_files() + [(_binary("coredns"), "/coredns")],
              {"Entrypoint": ["/coredns"]}, finish=_static_base),
        Image(f"localhost/local-path-provisioner:{build.LOCAL_PATH_VERSION}",
              _base_files() + [(_binary("local-path-provisioner"), "/usr/bin/local-path-provisioner")],
              {"Entrypoint": ["local-path-provisioner"], "Env": ["PATH=/usr/bin:/bin"]}, finish=_static_base),
        # as Argo's Dockerfile lays them out (binary in /bin, its entrypoint, uid 8737 for controller and cli)
        Image(f"localhost/argoproj/workflow-controller:{argo}",
              _base_files() + [(_binary("argo", "workflow-controller"), "/bin/workflow-controller")],
              {"Entrypoint": ["workflow-controller"], "User": "8737", "Env": ["PATH=/bin"]}, finish=_static_base),
        Image(f"localhost/argoproj/argoexec:{argo}", _base_files() + [(_binary("argoexec"), "/bin/argoexec")],
              {"Entrypoint": ["argoexec"], "Env": ["PATH=/bin"]}, finish=_static_base),
        Image(f"localhost/argoproj/argocli:{argo}", _base_files() + [(_binary("argocli", "argo"), "/bin/argo")],
              {"Entrypoint": ["argo"], "User": "8737", "WorkingDir": "/home/argo", "Env": ["PATH=/bin"]},
              finish=_static_base),
        Image(f"localhost/postgres:{pg_version.split('-')[0]}",
              [("/bin/busybox", "/bin/busybox"), ("/usr/lib/locale/C.utf8", "/usr/lib/locale/C.utf8"),
               ("/usr/share/zoneinfo", "/usr/share/zoneinfo"), ("/usr/share/postgresql/15", "/usr/share/postgresql/15"),
               ("/usr/lib/postgresql/15", "/usr/lib/postgresql/15"),
               (os.path.join(IMAGES_DIR, "postgres-entrypoint.sh"), "/usr/local/bin/docker-entrypoint.sh")]
              + _shared_libraries(pg_bins + pg_libs),
              {"Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["postgres"], "StopSignal": "SIGINT",
               "Env": [f"PATH=/usr/local/bin:{PG_BIN}:/bin", "PGDATA=/var/lib/postgresql/data", "LANG=C.UTF-8"],
               "ExposedPorts": {"5432/tcp": {}}, "Volumes": {"/var/lib/postgresql/data": {}}},
              facts={"postgresql-15": pg_version, "busybox-static": busybox_version}, finish=_postgres_root),
    ]
    return {image.ref.split("/")[-1].split(":")[0]: image for image in images}


def _stage(image: Image, root: str) -> str:
    os.makedirs(root)
    for src, dst in image.files:
        target = os.path.join(root, dst.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)
    if image.finish:
        image.finish(root)
    return root


def ensure(image: Image, log=print) -> str:
    """The image's tarball, built unless cached for exactly these inputs."""
    target = image.tarball
    if os.path.exists(target):
        return target
    with paths.locked("image-" + os.path.basename(target), what=f"build of image {image.ref}"):
        if os.path.exists(target):
            return target
        workdir = target + f".stage-{os.getpid()}"
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            spec = {"ref": image.ref, "output": target + ".tmp", "layers": [_stage(image, workdir)],
                    "config": image.config}
            subprocess.run([_binary("imagetool")], input=json.dumps(spec), text=True, check=True,
                           capture_output=True)
            for old in os.listdir(os.path.dirname(target)):  # earlier builds of the same ref
                if old.startswith(os.path.basename(target).rsplit("-", 1)[0] + "-") and old.endswith(".tar"):
                    os.unlink(os.path.join(os.path.dirname(target), old))
            os.rename(target + ".tmp", target)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"building image {image.ref} failed: {exc.stderr}") from exc
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        log(f"image: {image.ref} built ({os.path.getsize(target) / 2**20:.0f} MiB) -> {target}")
    return target


def ensure_all(log=print) -> dict:
    """Every image's tarball by reference (built on first use)."""
    hostdeps.ensure(log)
    os.makedirs(os.path.join(paths.cache_dir(), "images"), exist_ok=True)
    return {image.ref: ensure(image, log) for image in catalog().values()}
