# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired k3d cluster: option validation, the v1alpha5 config we hand to k3d, the spec digests.

Plain Python with no Ansible imports. What to do about an existing cluster is decided in k3d_drift.py.

Why a spec label: ``k3d cluster list`` shows image IDs, not tags, and nothing at all about env, volumes
or k3s args, so drift in those cannot be read back. At create time we record a digest of each immutable
setting as a runtime label on the server and agent containers (``options.runtime.labels``). k3d copies
only labels whose key starts with ``k3d`` into its listing and reserves ``k3d.``/``k3s.``/``app`` for
itself, hence the ``k3d-argoops.`` prefix. ``k3d node create`` copies labels from a node of the same
role, so nodes added by scaling carry it too.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import ipaddress
import json
import re

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils.k3d_schema import schema_errors

API_VERSION = "k3d.io/v1alpha5"
SPEC_LABEL = "k3d-argoops.spec"
SPEC_FORMAT = "1"
NAME_MAX = 32
API_CONTAINER_PORT = "6443/tcp"
# k3d expands $VAR / ${VAR} in config files (Go os.ExpandEnv) and offers no escape, so a literal "$"
# is written as ${ARGOOPS_K3D_DOLLAR} and the k3d client runs k3d with ARGOOPS_K3D_DOLLAR=$.
DOLLAR_ENV = "ARGOOPS_K3D_DOLLAR"

_HOSTNAME_RE = re.compile(r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*"
                          r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$")
_FILTER_RE = re.compile(r"^(server|servers|agent|agents|loadbalancer|all)"
                        r"(?::(?:((?:\d+,?)+)|(\d*-\d*)|(\*)))?(?::([A-Za-z]+))?$")
_IPV4_RE = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_DURATION_RE = re.compile(r"^(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h))+)$")
_PORT_RANGE_RE = re.compile(r"^(\d+)(?:-(\d+))?$")
_PROTOCOLS = ("tcp", "udp", "sctp")
_RESERVED_LABEL_PREFIXES = ("k3d.", "k3s.")
# k3d's destination shortcuts for `files` (pkg/types/k3s/paths.go)
K3S_PATH_SHORTCUTS = ("k3s-storage", "k3s-manifests", "k3s-manifests-custom", "k3s-containerd", "k3s-containerd-tmpl",
                      "k3s-registry-config")
FILTER_HELP = ("server|servers|agent|agents|loadbalancer|all followed by :INDEX, :INDEX,INDEX, "
               ":START-END or :* (for example server:0, agent:*); loadbalancer and all need no subset")

# Keys of the v1alpha5 config that first-class options own: `config` may not set them.
OWNED_CONFIG_KEYS = {
    "metadata": "name", "servers": "servers", "agents": "agents", "kubeAPI": "api_port",
    "image": "image", "network": "network", "token": "token", "volumes": "volumes", "ports": "ports",
    "env": "env", "registries.create": "registry_create", "registries.use": "registry_use",
    "options.k3d.wait": "wait", "options.k3d.timeout": "timeout", "options.k3s.extraArgs": "k3s_args",
    "options.kubeconfig": "kubeconfig",
}
# Create-time behaviour, not cluster shape: changing these later is not drift.
_NOT_SPEC_CONFIG_KEYS = ("options.k3d.disableRollback", "options.k3d.disableLoadbalancer")


class SpecError(ArgoopsError, ValueError):
    """Invalid desired state; the message names the option and the rule."""


def _filtered(key):
    return dict(type="list", elements="dict", default=[], options={
        key: dict(type="str", required=True),
        "node_filters": dict(type="list", elements="str", default=[]),
    })


def argument_spec():
    """The k3d_cluster module's options (one definition; the tests fill defaults from it as AnsibleModule does)."""
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent", "started", "stopped"]),
        servers=dict(type="int", default=1),
        agents=dict(type="int", default=0),
        image=dict(type="str"),
        api_port=dict(type="dict", options=dict(
            host=dict(type="str"), host_ip=dict(type="str"), host_port=dict(type="int"))),
        ports=_filtered("port"),
        k3s_args=_filtered("arg"),
        env=_filtered("env_var"),
        volumes=_filtered("volume"),
        network=dict(type="str"),
        token=dict(type="str", no_log=True),
        registry_create=dict(type="dict", options=dict(
            name=dict(type="str", required=True), host=dict(type="str"), host_port=dict(type="str"),
            image=dict(type="str"))),
        registry_use=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=True),
        timeout=dict(type="str"),
        kubeconfig=dict(type="dict", default={}, options=dict(
            update_default=dict(type="bool", default=True), switch_context=dict(type="bool", default=True),
            path=dict(type="path"))),
        config=dict(type="dict", default={}),
        recreate=dict(type="bool", default=False),
    )


# ---- validation helpers -------------------------------------------------------------------------

def validate_name(name, option="name"):
    if not isinstance(name, str) or not name:
        raise SpecError("%s: a cluster name is required" % option)
    if not _HOSTNAME_RE.match(name):
        raise SpecError("%s: %r is not a valid RFC 1123 hostname (letters, digits and '-', labels that "
                        "start and end with a letter or digit); k3d builds container, network and "
                        "context names from it" % (option, name))
    if len(name) > NAME_MAX:
        raise SpecError("%s: %r has %d characters; k3d allows at most %d" % (option, name, len(name), NAME_MAX))
    return name


def select_nodes(text, option, counts, suffixes=()):
    """The nodes a k3d node filter selects, as a set of (role, index); raises SpecError like k3d would."""
    match = _FILTER_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise SpecError("%s: %r is not a k3d node filter; use %s" % (option, text, FILTER_HELP))
    group, subset_list, subset_range, wildcard, suffix = match.groups()
    if suffix and suffix not in suffixes:
        allowed = ", ".join(":" + s for s in suffixes) or "no suffix"
        raise SpecError("%s: suffix ':%s' in %r is not allowed here (allowed: %s)" % (option, suffix, text, allowed))
    if group == "all":
        return set((role, i) for role, n in counts.items() for i in range(n))
    if group == "loadbalancer":
        if not counts.get("loadbalancer"):
            raise SpecError("%s: %r targets the load balancer, but it is disabled" % (option, text))
        return {("loadbalancer", 0)}
    role = "server" if group.startswith("server") else "agent"
    size = counts[role]
    if subset_list:
        indices = [int(part) for part in subset_list.split(",") if part]
        bad = [i for i in indices if i >= size]
        if bad:
            raise SpecError("%s: index %d in %r is out of range: the cluster has %d %s node(s)"
                            % (option, bad[0], text, size, role))
    elif subset_range:
        first, last = subset_range.split("-")
        start = int(first) if first else 0
        end = int(last) if last else size - 1
        if (first and start >= size) or (last and (end < start or end >= size)):
            raise SpecError("%s: range %r is out of bounds: the cluster has %d %s node(s)" % (option, text, size, role))
        indices = range(start, end + 1)
    elif wildcard:
        indices = range(size)
    else:
        raise SpecError("%s: %r needs a subset such as %s:0 or %s:* (k3d rejects a bare role)"
                        % (option, text, group, group))
    return set((role, i) for i in indices)


def _check_filtered(items, key, option, counts, required=True):
    """Node-filtered values (env, k3s args, labels...): k3d refuses unfiltered ones on more than one node
    (volumes and files are the exception: unfiltered, they go to every node, the load balancer included)."""
    total = sum(counts.values())
    for index, item in enumerate(items):
        where = "%s[%d]" % (option, index)
        if not isinstance(item.get(key), str) or not item.get(key):
            raise SpecError("%s.%s: a non-empty string is required" % (where, key))
        filters = item.get("node_filters") or []
        if required and not filters and total > 1:
            raise SpecError("%s.node_filters: required because the cluster has %d nodes (the load balancer "
                            "counts as one); k3d refuses %r without a node filter" % (where, total, item[key]))
        for position, text in enumerate(filters):
            select_nodes(text, "%s.node_filters[%d]" % (where, position), counts)


def _check_subnet(subnet, network):
    """k3d takes ``subnet`` as a CIDR prefix (or "auto"), and refuses one for an existing network."""
    if subnet in (None, "", "auto"):
        return
    try:
        if "/" not in subnet:
            raise ValueError("no '/'")
        ipaddress.ip_network(subnet, strict=False)
    except ValueError as exc:
        raise SpecError("config.subnet: %r is not a CIDR prefix such as 172.28.0.0/16 (or 'auto'): %s" % (subnet, exc))
    if network:
        raise SpecError("config.subnet: k3d refuses a subnet for an existing network (the network option %r); "
                        "drop one of them" % network)


def canonical_port(host_ip, host_port, container_port, protocol):
    """One host-side mapping written as k3d/Docker port specs are: [IP:][HOSTPORT:]PORT/PROTO."""
    target = "%s/%s" % (container_port, protocol)
    if host_ip:
        ip = "[%s]" % host_ip if ":" in host_ip else host_ip
        return "%s:%s:%s" % (ip, host_port or "", target)
    if host_port:
        return "%s:%s" % (host_port, target)
    return target


def _port_numbers(text, option, spec, part):
    match = _PORT_RANGE_RE.match(text)
    if not match:
        raise SpecError("%s: %r has an invalid %s port %r; use a number or a range like 8000-8010"
                        % (option, spec, part, text))
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 65535:
        raise SpecError("%s: %r: %s port %r must be within 1-65535 (and low-high ascending)" % (option, spec, part, text))
    return list(range(low, high + 1))


def parse_port(spec, option):
    """[HOST:][HOSTPORT:]CONTAINERPORT[/PROTO] -> canonical mappings, one per port (ranges expanded)."""
    if not isinstance(spec, str) or not spec:
        raise SpecError("%s: a port spec such as 8080:80 or 0.0.0.0:2746:2746/tcp is required" % option)
    rest, dummy, protocol = spec.partition("/")
    protocol = protocol or "tcp"
    if protocol not in _PROTOCOLS:
        raise SpecError("%s: %r has protocol %r; use tcp, udp or sctp" % (option, spec, protocol))
    host_ip = ""
    if rest.startswith("["):
        host_ip, bracket, rest = rest[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise SpecError("%s: %r: write an IPv6 host as [ADDRESS]:HOSTPORT:PORT" % (option, spec))
        rest = rest[1:]
        parts = rest.split(":")
        if len(parts) != 2:
            raise SpecError("%s: %r: after [ADDRESS] give HOSTPORT:PORT" % (option, spec))
        host_port, container = parts
    else:
        parts = rest.split(":")
        if len(parts) == 1:
            host_port, container = "", parts[0]
        elif len(parts) == 2:
            host_port, container = parts
        elif len(parts) == 3:
            host_ip, host_port, container = parts
            if not _IPV4_RE.match(host_ip):
                raise SpecError("%s: %r: host %r is not an IPv4 address" % (option, spec, host_ip))
        else:
            raise SpecError("%s: %r is not [HOST:][HOSTPORT:]CONTAINERPORT[/PROTO]" % (option, spec))
    containers = _port_numbers(container, option, spec, "container")
    hosts = _port_numbers(host_port, option, spec, "host") if host_port else [""] * len(containers)
    if len(hosts) != len(containers):
        raise SpecError("%s: %r: host and container port ranges must have the same length" % (option, spec))
    return [canonical_port(host_ip, str(h), str(c), protocol) for h, c in zip(hosts, containers)]


def _check_ports(entries, counts, loadbalancer):
    proxied, direct = [], []
    for index, entry in enumerate(entries):
        where = "ports[%d]" % index
        mappings = parse_port(entry.get("port"), where + ".port")
        filters = entry.get("node_filters") or []
        suffixes = set()
        selected = set()
        for position, text in enumerate(filters):
            option = "%s.node_filters[%d]" % (where, position)
            nodes = select_nodes(text, option, counts, suffixes=("proxy", "direct"))
            suffix = _FILTER_RE.match(text).group(5) or "proxy"
            suffixes.add(suffix)
            selected |= set(node for node in nodes if node[0] != "loadbalancer")
            if text.startswith("loadbalancer"):
                selected |= set(n for n in select_nodes("all", option, counts) if n[0] != "loadbalancer")
        if suffixes == {"proxy", "direct"}:
            raise SpecError("%s.node_filters: mixes :direct and proxied filters; split them into two entries" % where)
        if "direct" in suffixes:
            if len(selected) > 1:
                raise SpecError("%s.node_filters: a :direct port can map to one node only, these select %d"
                                % (where, len(selected)))
            direct.append({"port": entry["port"], "node_filters": list(filters)})
            continue
        if not loadbalancer:
            raise SpecError("%s: proxied ports go through the load balancer, which is disabled; use a "
                            "':direct' node filter (for example server:0:direct)" % where)
        if filters and not selected:
            raise SpecError("%s.node_filters: %s select no server or agent, so k3d would silently skip this port"
                            % (where, filters))
        for mapping in mappings:
            if mapping.endswith(":" + API_CONTAINER_PORT) or mapping == API_CONTAINER_PORT:
                raise SpecError("%s: container port 6443/tcp on the load balancer is the Kubernetes API; "
                                "use api_port instead" % where)
            if mapping in proxied:
                raise SpecError("%s: %s is mapped twice; k3d would duplicate the mapping" % (where, mapping))
            proxied.append(mapping)
    return sorted(proxied), direct


def _get_path(tree, dotted):
    node = tree
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _check_config(config, counts):
    errors = schema_errors(config)
    if errors:
        raise SpecError("config does not follow k3d's v1alpha5 Simple schema: " + "; ".join(errors))
    for dotted, option in sorted(OWNED_CONFIG_KEYS.items()):
        if _get_path(config, dotted) is not None:
            raise SpecError("config.%s: set this with the %s option, not in config" % (dotted, option))
    for key, wanted in (("apiVersion", API_VERSION), ("kind", "Simple")):
        if key in config and config[key] != wanted:
            raise SpecError("config.%s: must be %r (this module writes v1alpha5 Simple configs)" % (key, wanted))
    labels = _get_path(config, "options.runtime.labels") or []
    for index, item in enumerate(labels):
        key = (item.get("label") or "").split("=", 1)[0]
        if key.startswith(_RESERVED_LABEL_PREFIXES) or key in ("app", SPEC_LABEL):
            raise SpecError("config.options.runtime.labels[%d]: label key %r is reserved (k3d reserves k3d.*, "
                            "k3s.* and app; %s is this module's)" % (index, key, SPEC_LABEL))
    for dotted, key, required in (("files", "source", False), ("options.k3s.nodeLabels", "label", True),
                                  ("options.runtime.labels", "label", True)):
        items = _get_path(config, dotted) or []
        _check_filtered([dict(i, node_filters=i.get("nodeFilters")) for i in items], key, "config." + dotted, counts,
                        required)
    for index, item in enumerate(config.get("files") or []):
        _check_file(item, "config.files[%d]" % index)


def _check_file(item, where):
    """k3d v5.9 reads a ``files`` source as content when it has several lines, else as a path relative to the
    config file -- which this module passes on stdin, so only absolute paths can mean anything (the k3d client runs
    k3d in /, where Go's filepath.Join(".", "/a/b") = "a/b" finds /a/b). Destinations are absolute or
    start with one of k3d's k3s path shortcuts."""
    if "\n" not in item["source"] and not item["source"].startswith("/"):
        raise SpecError("%s.source: %r is neither an absolute path nor multi-line content; k3d would look for it "
                        "relative to its config file, which this module passes on stdin" % (where, item["source"]))
    first = item["destination"].split("/")[0]
    if not item["destination"].startswith("/") and first not in K3S_PATH_SHORTCUTS:
        raise SpecError("%s.destination: %r must be an absolute path or start with one of %s"
                        % (where, item["destination"], ", ".join(K3S_PATH_SHORTCUTS)))


# ---- the spec -----------------------------------------------------------------------------------

class ClusterSpec:
    """A validated desired cluster (attributes mirror the module options)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @property
    def default_network(self):
        return self.network or "k3d-%s" % self.name


def build_spec(p):
    """Validate module params ``p`` (every option present, defaults filled in as AnsibleModule does) into a
    ClusterSpec; raise SpecError naming the option."""
    validate_name(p["name"])
    for option, minimum in (("servers", 1), ("agents", 0)):
        if not isinstance(p[option], int) or p[option] < minimum:
            raise SpecError("%s: must be a whole number >= %d, got %r" % (option, minimum, p[option]))
    config = p["config"] or {}
    loadbalancer = not _get_path(config, "options.k3d.disableLoadbalancer")
    counts = {"server": p["servers"], "agent": p["agents"], "loadbalancer": 1 if loadbalancer else 0}
    _check_config(config, counts)
    _check_subnet(config.get("subnet"), p["network"])
    proxied, direct = _check_ports(p["ports"], counts, loadbalancer)
    for option, key, required in (("env", "env_var", True), ("volumes", "volume", False), ("k3s_args", "arg", True)):
        _check_filtered(p[option], key, option, counts, required)
    api_port = dict((k, v) for k, v in (p["api_port"] or {}).items() if v not in (None, ""))
    if "host" in api_port and not _HOSTNAME_RE.match(api_port["host"]):
        raise SpecError("api_port.host: %r is not a valid hostname" % api_port["host"])
    if "host_ip" in api_port and not _IPV4_RE.match(api_port["host_ip"]):
        raise SpecError("api_port.host_ip: %r is not an IPv4 address (k3d's schema requires ipv4)" % api_port["host_ip"])
    if "host_port" in api_port and not 1 <= api_port["host_port"] <= 65535:
        raise SpecError("api_port.host_port: %r is not a port number within 1-65535" % api_port["host_port"])
    if p["timeout"] is not None and not _DURATION_RE.match(p["timeout"]):
        raise SpecError("timeout: %r is not a Go duration k3d accepts (for example 90s, 2m, 1m30s)" % p["timeout"])
    if p["network"] is not None and not p["network"]:
        raise SpecError("network: must not be empty; omit it to get k3d's own network k3d-NAME")
    registry = p["registry_create"]
    if registry and not _HOSTNAME_RE.match(registry["name"] or ""):
        raise SpecError("registry_create.name: %r is not a valid hostname" % registry["name"])
    if p["token"] is not None and not p["token"]:
        raise SpecError("token: must not be empty; omit it to let k3d generate one")
    return ClusterSpec(
        name=p["name"], servers=p["servers"], agents=p["agents"], image=p["image"], api_port=api_port,
        ports=p["ports"], proxied_ports=proxied, direct_ports=direct, k3s_args=p["k3s_args"], env=p["env"],
        volumes=p["volumes"], network=p["network"], token=p["token"], registry_create=registry,
        registry_use=p["registry_use"], wait=p["wait"], timeout=p["timeout"], kubeconfig=p["kubeconfig"] or {},
        config=config, loadbalancer=loadbalancer)


# ---- the v1alpha5 config and its fingerprint ---------------------------------------------------

def _filters(item):
    return {"nodeFilters": list(item["node_filters"])} if item.get("node_filters") else {}


def _spec_config(spec):
    """The part of `config` that shapes the cluster (create-time switches and emptied mappings removed)."""
    config = copy.deepcopy(spec.config)
    for dotted in _NOT_SPEC_CONFIG_KEYS:
        parents, dummy, leaf = dotted.rpartition(".")
        node = _get_path(config, parents) if parents else config
        if isinstance(node, dict):
            node.pop(leaf, None)
    return _prune(config)


def _prune(value):
    if isinstance(value, dict):
        pruned = dict((k, _prune(v)) for k, v in value.items())
        return dict((k, v) for k, v in pruned.items() if v != {})
    return value


def fingerprint(spec):
    """Digest per immutable setting that the k3d listing cannot show (recorded in SPEC_LABEL)."""
    values = {
        "image": spec.image,
        "env": [[e["env_var"], e["node_filters"]] for e in spec.env],
        "volumes": [[v["volume"], v["node_filters"]] for v in spec.volumes],
        "k3s_args": [[a["arg"], a["node_filters"]] for a in spec.k3s_args],
        "registries": [spec.registry_create, spec.registry_use],
        "direct_ports": spec.direct_ports,
        "config": _spec_config(spec),
    }
    return dict((field, _digest(value)) for field, value in values.items())


def _digest(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def label_value(fields):
    return SPEC_FORMAT + ":" + ",".join("%s=%s" % (k, fields[k]) for k in sorted(fields))


def parse_label(value):
    """SPEC_LABEL's value -> {field: digest}; None when absent or written by an unknown format."""
    if not value or not value.startswith(SPEC_FORMAT + ":"):
        return None
    pairs = (item.partition("=") for item in value[len(SPEC_FORMAT) + 1:].split(",") if item)
    return dict((k, v) for k, dummy, v in pairs)


def render_config(spec):
    """The v1alpha5 Simple config for `k3d cluster create` (a dict)."""
    cfg = {"apiVersion": API_VERSION, "kind": "Simple", "metadata": {"name": spec.name},
           "servers": spec.servers, "agents": spec.agents}
    if spec.image:
        cfg["image"] = spec.image
    api = spec.api_port
    if api:
        cfg["kubeAPI"] = dict((dst, str(api[src])) for src, dst in
                              (("host", "host"), ("host_ip", "hostIP"), ("host_port", "hostPort")) if src in api)
    if spec.network:
        cfg["network"] = spec.network
    if spec.token:
        cfg["token"] = spec.token
    for key, field, option_key in (("volumes", "volume", "volume"), ("ports", "port", "port"), ("env", "envVar", "env_var")):
        items = [dict({field: item[option_key]}, **_filters(item)) for item in getattr(spec, key)]
        if items:
            cfg[key] = items
    registries = {}
    if spec.registry_create:
        registries["create"] = dict((dst, spec.registry_create[src]) for src, dst in
                                    (("name", "name"), ("host", "host"), ("host_port", "hostPort"), ("image", "image"))
                                    if spec.registry_create.get(src))
    if spec.registry_use:
        registries["use"] = list(spec.registry_use)
    if registries:
        cfg["registries"] = registries
    k3d_options = {"wait": spec.wait}
    if spec.timeout:
        k3d_options["timeout"] = spec.timeout
    kubeconfig = spec.kubeconfig
    options = {
        "k3d": k3d_options,
        "kubeconfig": {"updateDefaultKubeconfig": bool(kubeconfig.get("update_default", True)),
                       "switchCurrentContext": bool(kubeconfig.get("switch_context", True))},
        "runtime": {"labels": [{"label": "%s=%s" % (SPEC_LABEL, label_value(fingerprint(spec))),
                                "nodeFilters": ["server:*", "agent:*"]}]},
    }
    if spec.k3s_args:
        options["k3s"] = {"extraArgs": [dict({"arg": a["arg"]}, **_filters(a)) for a in spec.k3s_args]}
    return _merge(cfg, {"options": options}, copy.deepcopy(spec.config))


def _merge(base, *overlays):
    """Deep merge; lists under options.runtime.labels are concatenated (ours first)."""
    for overlay in overlays:
        for key, value in overlay.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                _merge(base[key], value)
            elif isinstance(value, list) and key == "labels" and isinstance(base.get(key), list):
                base[key] = base[key] + value
            else:
                base[key] = value
    return base


def config_text(config):
    """The config as k3d reads it: JSON (valid YAML), with literal '$' protected from k3d's env expansion."""
    return json.dumps(config, indent=2, sort_keys=True).replace("$", "${%s}" % DOLLAR_ENV)
