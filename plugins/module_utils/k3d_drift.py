# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift -> actions: compare a desired ClusterSpec with the cluster k3d lists, and say what to do.

Plain Python with no Ansible imports. It works on the *normalised* cluster produced by the k3d client (k3d.py)
(module_utils/k3d.py), never on k3d's raw JSON. Counts and load balancer ports change in place; the
rest is compared (from the listing, or through the digests in the spec label) and either fails with
the list of differences or, with recreate, becomes delete + create.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils.k3d_spec import (
    SpecError, fingerprint, parse_label,
)

_CREATED_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?")

_SPEC_FIELDS = {
    "image": "image", "env": "env", "volumes": "volumes", "k3s_args": "k3s_args",
    "registries": "registry_create/registry_use", "direct_ports": "ports (:direct)", "config": "config",
}


class DriftError(ArgoopsError):
    """The cluster differs in settings k3d cannot change in place."""

    def __init__(self, name, differences):
        self.differences = differences
        lines = "; ".join("%s: %s" % (d["option"], d["detail"]) for d in differences)
        super(DriftError, self).__init__(
            "cluster %r differs from the desired spec in settings k3d cannot change in place: %s. "
            "Change these options back, or set recreate: true to delete and re-create the cluster "
            "(everything in it is lost)." % (name, lines), differences=differences)


def immutable_differences(spec, current, current_token=None):
    """Settings of an existing cluster that differ from ``spec`` and cannot be changed in place."""
    found = []

    def differ(option, detail):
        found.append({"option": option, "detail": detail})

    if spec.default_network != current.get("network"):
        differ("network", "cluster uses %r, desired %r" % (current.get("network"), spec.default_network))
    api = current.get("api") or {}
    if "host_port" in spec.api_port and spec.api_port["host_port"] != api.get("port"):
        differ("api_port.host_port", "cluster serves the API on %s, desired %s" % (api.get("port"), spec.api_port["host_port"]))
    if "host_ip" in spec.api_port and spec.api_port["host_ip"] != api.get("host_ip"):
        differ("api_port.host_ip", "cluster binds %r, desired %r" % (api.get("host_ip"), spec.api_port["host_ip"]))
    if "host" in spec.api_port and spec.api_port["host"] != api.get("host"):
        differ("api_port.host", "cluster uses %r, desired %r" % (api.get("host"), spec.api_port["host"]))
    if spec.token and current_token and spec.token != current_token:
        differ("token", "cluster token differs from the desired one (values not shown)")
    if spec.loadbalancer != bool(current.get("has_loadbalancer")):
        differ("config.options.k3d.disableLoadbalancer",
               "cluster %s a load balancer" % ("has" if current.get("has_loadbalancer") else "has no"))
    if current.get("servers") == 1 and spec.servers > 1:
        differ("servers", "cluster was created with 1 server (no embedded etcd, k3d adds --cluster-init only "
                          "when creating more than one), so servers cannot be added in place")
    recorded = parse_label(current.get("spec"))
    if recorded:
        desired = fingerprint(spec)
        for field in sorted(desired):
            if field in recorded and recorded[field] != desired[field]:
                differ(_SPEC_FIELDS[field], "differs from the value the cluster was created with%s"
                       % _desired_hint(spec, field))
    return found


def _desired_hint(spec, field):
    if field == "image":
        return " (desired %s)" % (spec.image or "k3d's default image")
    if field == "env":
        return " (desired variables: %s)" % (", ".join(e["env_var"].split("=", 1)[0] for e in spec.env) or "none")
    if field == "k3s_args":
        return " (desired %s)" % ([a["arg"] for a in spec.k3s_args] or "none")
    if field == "volumes":
        return " (desired %s)" % ([v["volume"] for v in spec.volumes] or "none")
    return ""


def _created_key(node):
    """Docker's RFC 3339 timestamps trim trailing zeros of the fraction, so they do not sort as text."""
    match = _CREATED_RE.match(node.get("created") or "")
    if not match:
        return ("", "", node["name"])
    return (match.group(1), (match.group(2) or "").ljust(9, "0"), node["name"])


def _nodes_to_delete(current, role, count):
    candidates = [n for n in current["nodes"] if n["role"] == role and not n.get("server_init")]
    candidates.sort(key=_created_key, reverse=True)
    return [n["name"] for n in candidates[:count]]


def _new_node_basename(current, role):
    names = [n["name"] for n in current["nodes"]]
    index = sum(1 for n in current["nodes"] if n["role"] == role)
    while any(name.startswith("k3d-%s-%s-%d-" % (current["name"], role, index)) for name in names):
        index += 1
    return "%s-%s-%d" % (current["name"], role, index)


def plan(spec, current, state, recreate=False, current_token=None):
    """Actions that take ``current`` (normalised cluster, or None when absent) to ``spec`` in ``state``.

    Raises DriftError for immutable differences unless ``recreate``, SpecError when the change needs a
    running cluster that the requested state would not give.
    """
    if state == "absent":
        return [{"action": "delete"}] if current else []
    if current is None:
        return [{"action": "create"}] + ([{"action": "stop"}] if state == "stopped" else [])
    differences = immutable_differences(spec, current, current_token)
    if differences:
        if not recreate:
            raise DriftError(spec.name, differences)
        return [{"action": "delete"}, {"action": "create"}] + ([{"action": "stop"}] if state == "stopped" else [])
    actions = []
    if state == "started" and current["state"] != "running":
        actions.append({"action": "start"})
    changes = []
    for role, desired in (("server", spec.servers), ("agent", spec.agents)):
        have = current[role + "s"]
        if desired > have:
            changes.append({"action": "node_create", "role": role, "count": desired - have,
                            "basename": _new_node_basename(current, role)})
        elif desired < have:
            changes.append({"action": "node_delete", "role": role, "nodes": _nodes_to_delete(current, role, have - desired)})
    have_ports = list(current.get("ports") or [])
    remove = _multiset_minus(have_ports, spec.proxied_ports)
    add = _multiset_minus(spec.proxied_ports, have_ports)
    if remove:
        changes.append({"action": "port_delete", "ports": remove})
    if add:
        changes.append({"action": "port_add", "ports": add})
    if changes and current["state"] != "running" and state != "started":
        raise SpecError("cluster %r is %s, and %s need running nodes: use state: started (it starts the "
                        "cluster first)" % (spec.name, current["state"], ", ".join(describe(c, spec.name) for c in changes)))
    actions.extend(changes)
    if state == "stopped" and current["state"] != "stopped":
        actions.append({"action": "stop"})
    return actions


def _multiset_minus(left, right):
    rest = list(right)
    out = []
    for item in left:
        if item in rest:
            rest.remove(item)
        else:
            out.append(item)
    return out


def describe(action, name):
    """A short human-readable line for an action (returned as ``actions``)."""
    kind = action["action"]
    if kind == "node_create":
        return "add %d %s node(s) to cluster %s (k3d node create %s)" % (action["count"], action["role"], name, action["basename"])
    if kind == "node_delete":
        return "delete %s node(s) %s" % (action["role"], ", ".join(action["nodes"]))
    if kind in ("port_add", "port_delete"):
        verb = "add" if kind == "port_add" else "remove"
        return "%s load balancer port(s) %s" % (verb, ", ".join(action["ports"]))
    return "%s cluster %s" % (kind, name)


def comparable(current):
    """The attributes diff mode shows for a normalised cluster (or an absent one)."""
    if not current:
        return {"state": "absent"}
    return {
        "state": current["state"], "servers": current["servers"], "agents": current["agents"],
        "load_balancer": bool(current.get("has_loadbalancer")), "ports": sorted(current.get("ports") or []),
        "network": current.get("network"), "api_port": (current.get("api") or {}).get("port"),
        "spec": parse_label(current.get("spec")),
    }


def predict(spec, current, actions, state):
    """What ``comparable`` will show after ``actions`` (for diff and check mode)."""
    if state == "absent":
        return {"state": "absent"}
    kinds = [a["action"] for a in actions]
    if "create" in kinds:
        return {
            "state": "stopped" if state == "stopped" else "running", "servers": spec.servers, "agents": spec.agents,
            "load_balancer": spec.loadbalancer, "ports": list(spec.proxied_ports), "network": spec.default_network,
            "api_port": spec.api_port.get("host_port", "(chosen by k3d)"), "spec": fingerprint(spec),
        }
    after = comparable(current)
    after.update(servers=spec.servers, agents=spec.agents, ports=list(spec.proxied_ports))
    if "start" in kinds:
        after["state"] = "running"
    if "stop" in kinds:
        after["state"] = "stopped"
    return after
