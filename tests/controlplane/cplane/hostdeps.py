"""Debian packages the real node uses from the machine, installed on first use.

runc (the OCI runtime containerd's shim calls), the CNI plugins (bridge, host-local, loopback),
nft (kube-proxy's nftables mode programs the node's own network namespace with it), busybox-static
(the busybox image and the shell of the postgres image) and gcc's static libc (the pause binary).
"""
from __future__ import annotations

import os
import shutil
import subprocess

from . import paths

# package -> a file that proves it is installed
PACKAGES = {
    "runc": "/usr/sbin/runc",
    "containernetworking-plugins": "/usr/lib/cni/bridge",
    "nftables": "/usr/sbin/nft",
    "busybox-static": "/bin/busybox",
    "libc6-dev": "/usr/lib/x86_64-linux-gnu/libc.a",
}
RUNC = PACKAGES["runc"]
CNI_BIN_DIR = os.path.dirname(PACKAGES["containernetworking-plugins"])
NFT = PACKAGES["nftables"]


def missing() -> list:
    return [name for name, proof in PACKAGES.items() if not os.path.exists(proof)]


def ensure(log=print) -> None:
    """Install whatever is missing with apt-get (as root; once per machine)."""
    needed = missing()
    if not needed:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"the real node needs the Debian packages {' '.join(needed)}: install them "
                           f"(apt-get install {' '.join(needed)})")
    with paths.locked("apt", what="apt-get install for the real node"):
        needed = missing()
        if not needed:
            return
        log(f"hostdeps: installing {' '.join(needed)} from Debian ...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q", "-y"]
        install = subprocess.run(apt + ["install", "--no-install-recommends"] + needed, env=env,
                                 capture_output=True, text=True, check=False)
        if install.returncode != 0:  # a fresh machine has no package index yet
            subprocess.run(apt + ["update"], env=env, capture_output=True, text=True, check=False)
            install = subprocess.run(apt + ["install", "--no-install-recommends"] + needed, env=env,
                                     capture_output=True, text=True, check=False)
        if install.returncode != 0 or missing():
            raise RuntimeError(f"apt-get install {' '.join(needed)} failed:\n{install.stdout[-2000:]}"
                               f"{install.stderr[-2000:]}")


def package_version(name: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=False)
    if out.returncode != 0 or not out.stdout:
        raise RuntimeError(f"Debian package {name} is not installed")
    return out.stdout.strip()
