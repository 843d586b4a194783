#!/usr/bin/env python
"""Argo's real workflow-controller against the local control plane: ``start|stop|logs``.

    argo_controller.py start --namespace NS [--configmap NAME] [--cluster-wide] [--no-wait]
    argo_controller.py stop  --namespace NS
    argo_controller.py logs  --namespace NS

Runs with LEADER_ELECTION_DISABLE=true, --kubeconfig of the local cluster and -n NS; its log goes
to <state>/argo-controller/NS.log. Only one controller runs per machine (it binds :6060 and :9090):
``start`` waits for the machine-wide slot. The namespace needs Argo's CRDs, the ConfigMap and the
DB Secret (roles and tests create them). Exit status of ``start``: 0 when healthy, 1 when the
controller exited (its log tail is printed) or did not become healthy.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cplane import argo, cluster, paths  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("start", "stop", "logs"))
    parser.add_argument("--namespace", "-n", required=True)
    parser.add_argument("--configmap", default="workflow-controller-configmap")
    parser.add_argument("--state-dir", default=paths.state_dir(), help="default: %(default)s")
    parser.add_argument("--cluster-wide", action="store_true", help="watch every namespace (default: --namespaced)")
    parser.add_argument("--no-wait", action="store_true", help="start: do not wait for /healthz")
    parser.add_argument("--timeout", type=float, default=120.0, help="start: seconds to wait for /healthz")
    args = parser.parse_args(argv)
    state = os.path.abspath(args.state_dir)
    existing = argo.find(state, args.namespace)
    if args.command == "logs":
        if existing is None:
            print(f"no controller was started for namespace {args.namespace} in {state}", file=sys.stderr)
            return 1
        sys.stdout.write(existing.log())
        return 0
    if args.command == "stop":
        if existing is not None:
            existing.stop()
            print(f"workflow-controller for {args.namespace}: stopped")
        return 0
    if existing is not None and existing.running():
        print(f"workflow-controller for {args.namespace}: already running (pid {existing.pid})")
        return 0
    info = cluster.read_info(state)
    if info is None or not info.kubeconfig:
        print(f"the local cluster does not run in {state}; run `make cluster-up` first", file=sys.stderr)
        return 1
    try:
        handle = argo.start(state, info.kubeconfig, args.namespace, configmap=args.configmap,
                            namespaced=not args.cluster_wide)
        if not args.no_wait:
            handle.wait_ready(args.timeout)
            print(f"workflow-controller for {args.namespace}: healthy")
    except (RuntimeError, TimeoutError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
