"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap its virtualenvs.

ansible-test runs this file as __main__ with pip options and the packages to install (pip,
setuptools, ...). The real script comes from ci-files.testing.ansible.com, which is not reachable
from our CI machines, so we bootstrap pip from the interpreter's own ensurepip and then let pip
install the requested versions from the configured package index.
"""
from __future__ import annotations

import subprocess
import sys


def main() -> None:
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
