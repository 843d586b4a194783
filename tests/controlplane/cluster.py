#!/usr/bin/env python
"""The local test control plane: ``cluster.py up|env|down|status|build``.

    up        start PostgreSQL, etcd, kube-apiserver, controller-manager, scheduler and a Node
              (idempotent: returns fast when all is up and healthy); builds binaries on first use.
              --node kwok (default): kwok's fake node, pods look Running but no container runs.
              --node real: a real node (containerd, kubelet, kube-proxy, CNI, CoreDNS, local-path
              storage) in its own network and mount namespace; images built locally
    env       print ``export KUBECONFIG=...`` and PG* lines (``--json``: the same as JSON)
    down      stop every process it started (by PID) and remove the state directory
    status    what runs, with PIDs, ports and resident memory
    build     build (or find cached) every binary, printing the time each took (--node real: also
              the real node's binaries and images)
    images    the real node's images (name and localhost/ reference); --ref NAME: just that reference

State: $ARGOOPS_CLUSTER_DIR (default <repo>/.build/cluster). Binaries: $ARGOOPS_CACHE/bin.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cplane import build, cluster, images, paths  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "env", "down", "status", "build", "images"))
    parser.add_argument("--ref", help="images: print only this image's reference (e.g. busybox, postgres)")
    parser.add_argument("--json", action="store_true", help="env: print JSON instead of shell lines")
    parser.add_argument("--node", choices=("kwok", "real"), default=os.environ.get("ARGOOPS_NODE", "kwok"),
                        help="up/build: the node kind (default: $ARGOOPS_NODE or kwok)")
    parser.add_argument("--state-dir", default=paths.state_dir(), help="default: %(default)s")
    args = parser.parse_args(argv)
    state = os.path.abspath(args.state_dir)
    try:
        if args.command == "build":
            build.ensure_all(node=args.node == "real")
            if args.node == "real":
                images.ensure_all()
        elif args.command == "images":
            catalog = images.catalog()
            if args.ref and args.ref not in catalog:
                print(f"cluster images: no image {args.ref!r}; there are {', '.join(sorted(catalog))}", file=sys.stderr)
                return 1
            listing = "\n".join(f"{name:<24} {image.ref}" for name, image in catalog.items())
            print(catalog[args.ref].ref if args.ref else listing)
        elif args.command == "up":
            cluster.up(state, node_kind=args.node)
        elif args.command == "down":
            cluster.down(state)
        elif args.command == "status":
            return cluster.print_status(state)
        else:
            info = cluster.read_info(state)
            if info is None:
                print(f"cluster-env: nothing runs in {state}; run `make cluster-up` first", file=sys.stderr)
                return 1
            env = cluster.env_vars(info)
            print(json.dumps(env, indent=2) if args.json else cluster.shell_lines(env))
    except (RuntimeError, TimeoutError) as exc:
        print(f"cluster {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
