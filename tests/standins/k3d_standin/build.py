"""Building k3d "containers" (node records) the way k3d v5.9 lays them out.

Node records keep every runtime label; the listing later shows only keys starting with "k3d", as
k3d's Docker translation does.
"""
import hashlib
import os
import posixpath
import random
import string
import time

from . import filters, logs

K3D_VERSION = "v5.9.0"
K3S_VERSION = "v1.35.5-k3s1"
DEFAULT_IMAGE = "rancher/k3s:" + K3S_VERSION
LB_IMAGE = "ghcr.io/k3d-io/k3d-proxy:5.9.0"
K3S_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bin/aux"
K3S_ENV = ["K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml", K3S_PATH,
           "CRI_CONFIG_FILE=/var/lib/rancher/k3s/agent/etc/crictl.yaml"]
LB_ENV = ["K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "NGINX_VERSION=1.29.x", "PKG_RELEASE=1", "DYNPKG_RELEASE=1", "NJS_VERSION=0.9.x", "NJS_RELEASE=1",
          "OS=linux", "ARCH=amd64"]
_last_created = [0]


def image_id(image):
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def created_now():
    """RFC 3339 with nanoseconds, strictly increasing within a run (the listing sorts newest first)."""
    ns = max(time.time_ns(), _last_created[0] + 1000)
    _last_created[0] = ns
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10 ** 9)) + ".%09dZ" % (ns % 10 ** 9)


def random_token():
    return "".join(random.choice(string.ascii_letters) for dummy in range(20))


def all_nodes(state):
    return [node for cluster in state["clusters"].values() for node in cluster["nodes"]]


def _network(state, name, external):
    for cluster in state["clusters"].values():
        if cluster["network"]["name"] == name:
            return dict(cluster["network"])
    used = set(c["network"]["prefix"] for c in state["clusters"].values())
    prefix = next("172.%d.0" % i for i in range(18, 250) if "172.%d.0" % i not in used)
    return {"name": name, "external": external, "id": hashlib.sha256(name.encode()).hexdigest(),
            "iprange": prefix.rsplit(".", 1)[0] + ".0.0/16", "prefix": prefix}


def next_ip(cluster, state):
    taken = set(n["IP"]["IP"] for n in all_nodes(state) + cluster["nodes"] if n["IP"]["IP"])
    prefix = cluster["network"]["prefix"].rsplit(".", 1)[0]
    return next("%s.0.%d" % (prefix, i) for i in range(3, 255) if "%s.0.%d" % (prefix, i) not in taken)


def free_host_port(state):
    used = set(b["HostPort"] for n in all_nodes(state) for bs in (n.get("portMappings") or {}).values() for b in bs)
    return next(str(p) for p in iter(lambda: random.randint(30000, 60999), None) if str(p) not in used)


def new_node(name, role, image, labels, env, cmd, volumes):
    return {
        "name": name, "role": role, "image": image_id(image), "volumes": list(volumes), "env": list(env),
        "Cmd": cmd, "portMappings": {}, "restart": True, "created": created_now(), "runtimeLabels": dict(labels),
        "Networks": [labels["k3d.cluster.network"]], "ExtraHosts": None,
        "serverOpts": {"kubeAPI": {"Port": "", "Binding": {"HostIp": "", "HostPort": ""}}}, "agentOpts": {},
        "GPURequest": "", "Memory": "", "State": {"Running": True, "Status": "running", "Started": ""},
        "IP": {"IP": "", "Static": False}, "K3dEntrypoint": False,
    }


def _apply(items, key, nodes, what, required=True):
    """k3d's per-item node filtering for env, args, volumes and labels (messages as in transform.go)."""
    for item in items or []:
        item_filters = item.get("nodeFilters") or []
        if required and not item_filters and len(nodes) > 1:
            raise filters.FilterError("%s '%s' lacks a node filter, but there's more than one node" % (what[0], item.get(key)))
        try:
            chosen = filters.filter_nodes(nodes, item_filters)
        except filters.FilterError as exc:
            raise filters.FilterError("failed to filter nodes for %s '%s': %s" % (what[1], item.get(key), exc))
        yield item.get(key), chosen


def add_ports(cluster, ports, remove=False):
    """k3d's TransformPorts: proxied ports go on the load balancer (and its config), direct ones on a node."""
    nodes = cluster["nodes"]
    lb = next((n for n in nodes if n["role"] == "loadbalancer"), None)
    for item in ports or []:
        item_filters = item.get("nodeFilters") or []
        if (not item_filters and len(nodes) > 1) or any(f.startswith("loadbalancer") for f in item_filters):
            if item_filters:
                logs.info("portmapping '%s' targets the loadbalancer: defaulting to [%s]"
                          % (item["port"], " ".join(filters.DEFAULT_PORT_FILTERS)))
            item_filters = filters.DEFAULT_PORT_FILTERS
        chosen = filters.filter_nodes_with_suffix([n for n in nodes if n["role"] != "loadbalancer"] + ([lb] if lb else []),
                                                  item_filters, ("proxy", "direct"))
        for suffix, targets in chosen.items():
            if not targets:
                continue
            mappings = filters.parse_port_spec(item["port"])
            if suffix in ("proxy", "nosuffix"):
                if lb is None:
                    raise filters.FilterError("port-mapping of type 'proxy' specified, but loadbalancer is disabled")
                _change(lb, mappings, remove)
                for container, dummy in mappings:
                    key = container.replace("/", ".")
                    names = cluster["lbConfig"]["ports"].setdefault(key, [])
                    for target in targets:
                        if remove and target["name"] in names:
                            names.remove(target["name"])
                        elif not remove and target["name"] not in names:
                            names.append(target["name"])
                    if not names:
                        del cluster["lbConfig"]["ports"][key]
            elif suffix == "direct":
                if len(targets) > 1:
                    raise filters.FilterError("error: cannot apply a direct port-mapping (%s) to more than one node" % item["port"])
                _change(targets[0], mappings, remove)


def _change(node, mappings, remove):
    ports = node.setdefault("portMappings", {})
    for container, binding in mappings:
        if not remove:
            ports.setdefault(container, []).append(binding)
        elif binding in ports.get(container, []):
            ports[container].remove(binding)  # k3d removes the first equal binding only
            if not ports[container]:
                del ports[container]


K3S_PATH_SHORTCUTS = ("k3s-storage", "k3s-manifests", "k3s-manifests-custom", "k3s-containerd", "k3s-containerd-tmpl",
                      "k3s-registry-config")


def _check_file(item, nodes, config_file):
    """k3d's files: node filter, ReadFileSource (multi-line = content, else a path joined to the config
    file's directory the way Go's filepath.Join does, dropping a leading "/"), ResolveFileDestination."""
    source, destination = item.get("source", ""), item.get("destination", "")
    try:
        filters.filter_nodes(nodes, item.get("nodeFilters") or [])
    except filters.FilterError as exc:
        raise filters.FilterError("failed to filter nodes for file copying '{%s %s %s [%s]}': %s" % (
            source, destination, item.get("description", ""), " ".join(item.get("nodeFilters") or []), exc))
    if "\n" not in source:
        path = posixpath.normpath((os.path.dirname(config_file) or ".") + "/" + source)
        if not os.path.isfile(path):
            raise filters.FilterError("failed to read source content: could resolve source file path: %s" % path)
    if not destination.startswith("/") and destination.split("/")[0] not in K3S_PATH_SHORTCUTS:
        raise filters.FilterError("destination path is not correct: destination can be only absolute path or starts "
                                  "with predefined shortcut path. Could not resolve destination file path: %s" % destination)


def build_cluster(state, name, cfg, config_file=""):
    """A new cluster record from a merged v1alpha5 config (raises FilterError with k3d's messages)."""
    options = cfg.get("options") or {}
    k3d_options = options.get("k3d") or {}
    runtime = options.get("runtime") or {}
    servers, agents = int(cfg.get("servers", 1)), int(cfg.get("agents", 0))
    has_lb = not k3d_options.get("disableLoadbalancer", False)
    image = cfg.get("image") or DEFAULT_IMAGE
    token = cfg.get("token") or random_token()
    subnet = cfg.get("subnet") or ""
    if subnet not in ("", "auto") and "/" not in subnet:
        raise filters.FilterError("invalid subnet '%s': netip.ParsePrefix(\"%s\"): no '/'" % (subnet, subnet))
    network = _network(state, cfg.get("network") or "k3d-" + name, bool(cfg.get("network")))
    network["subnet"] = subnet if subnet != "auto" else ""
    image_volume = "" if k3d_options.get("disableImageVolume") else "k3d-%s-images" % name
    api = cfg.get("kubeAPI") or {}
    host_ip = api.get("hostIP") or "0.0.0.0"
    api_port = api.get("hostPort") or free_host_port(state)
    lb_name = "k3d-%s-serverlb" % name
    base = {"app": "k3d", "k3d.cluster": name, "k3d.cluster.imageVolume": image_volume,
            "k3d.cluster.network": network["name"], "k3d.cluster.network.external": str(network["external"]).lower(),
            "k3d.cluster.network.id": network["id"], "k3d.cluster.network.iprange": network["iprange"],
            "k3d.cluster.token": token, "k3d.cluster.url": "https://k3d-%s-server-0:6443" % name,
            "k3d.version": K3D_VERSION}
    if has_lb:
        base["k3d.server.loadbalancer"] = lb_name
    volumes = [image_volume + ":/k3d/images"] if image_volume else []
    cluster = {"name": name, "network": network, "token": token, "imageVolume": image_volume,
               "lbConfig": {"ports": {}, "settings": {"workerConnections": 1024}}, "nodes": []}
    nodes = cluster["nodes"]
    if has_lb:
        nodes.append(new_node(lb_name, "loadbalancer", LB_IMAGE, dict(base, **{"k3d.role": "loadbalancer"}),
                              LB_ENV, None, volumes))
    for i in range(servers):
        labels = dict(base, **{"k3d.role": "server", "k3d.server.api.host": api.get("host") or host_ip,
                               "k3d.server.api.hostIP": host_ip, "k3d.server.api.port": api_port})
        cmd = ["server", "--tls-san", "0.0.0.0"] + (["--tls-san", lb_name] if has_lb else [])
        env = ["K3S_TOKEN=" + token]
        if servers > 1:
            labels["k3d.server.init"] = "true" if i == 0 else "false"
            cmd += ["--cluster-init"] if i == 0 else []
            env += [] if i == 0 else ["K3S_URL=https://k3d-%s-server-0:6443" % name]
        node = new_node("k3d-%s-server-%d" % (name, i), "server", image, labels, env + K3S_ENV, cmd, volumes)
        node["serverOpts"] = {"kubeAPI": {"Port": "", "Binding": {"HostIp": host_ip, "HostPort": api_port},
                                          "host": api.get("host") or host_ip}}
        nodes.append(node)
        if has_lb:
            cluster["lbConfig"]["ports"].setdefault("6443.tcp", []).append(node["name"])
    for i in range(agents):
        env = ["K3S_TOKEN=" + token, "K3S_URL=https://k3d-%s-server-0:6443" % name] + K3S_ENV
        nodes.append(new_node("k3d-%s-agent-%d" % (name, i), "agent", image, dict(base, **{"k3d.role": "agent"}),
                              env, ["agent"], volumes))
    api_binding = {"HostIp": host_ip, "HostPort": api_port}
    nodes[0]["portMappings"]["6443/tcp"] = [api_binding]  # the load balancer, or server-0 without one
    for volume, chosen in _apply(cfg.get("volumes"), "volume", nodes, ("", "volume mapping"), required=False):
        for node in chosen:
            node["volumes"].append(volume)
    add_ports(cluster, cfg.get("ports"))
    # the order of k3d's transform.go (it decides which of several problems is reported)
    for dummy in _apply((options.get("k3s") or {}).get("nodeLabels"), "label", nodes,
                        ("k3s node label mapping", "k3s node label mapping")):
        pass  # k3s node labels are not visible in the listing
    for label, chosen in _apply(runtime.get("labels"), "label", nodes, ("RuntimeLabelmapping", "runtime label mapping")):
        key, dummy, value = label.partition("=")
        if key.startswith(("k3s.", "k3d.")) or key == "app":
            logs.fatal('runtime label "%s" is reserved for internal usage' % key)
        for node in chosen:
            node["runtimeLabels"][key] = value
    for env, chosen in _apply(cfg.get("env"), "envVar", nodes, ("EnvVarMapping", "environment variable config")):
        for node in chosen:
            node["env"].append(env)
    for arg, chosen in _apply((options.get("k3s") or {}).get("extraArgs"), "arg", nodes,
                              ("K3sExtraArg", "k3s extra args config")):
        for node in chosen:
            node["Cmd"] = (node["Cmd"] or []) + [arg]
    for item in cfg.get("files") or []:
        _check_file(item, nodes, config_file)
    registry = (cfg.get("registries") or {}).get("create")
    if registry and registry.get("name"):
        reg_name = registry["name"] if registry["name"].startswith("k3d-") else "k3d-" + registry["name"]
        reg = new_node(reg_name, "registry", registry.get("image") or "docker.io/library/registry:2",
                       {"app": "k3d", "k3d.cluster": name, "k3d.role": "registry", "k3d.cluster.network": network["name"],
                        "k3d.version": K3D_VERSION}, [], None, [])
        reg["portMappings"] = {"5000/tcp": [{"HostIp": registry.get("host") or "0.0.0.0",
                                             "HostPort": registry.get("hostPort") or free_host_port(state)}]}
        nodes.append(reg)
    order = ("server", "agent", "loadbalancer", "registry")  # k3d starts servers, agents, then helpers
    for node in sorted(nodes, key=lambda n: order.index(n["role"])):
        node["created"] = created_now()
        node["IP"]["IP"] = next_ip(cluster, state)
    return cluster


def validate_volumes(cluster, docker_down_message=None):
    """k3d's ValidateVolumeMount for each node's own volumes (the image volume comes later in k3d):
    missing host paths and (with Docker down) unverifiable named volumes are warnings; a relative
    destination is an error. Named volumes of a running "Docker" are not tracked by the stand-in."""
    for node in cluster["nodes"]:
        for volume in node["volumes"]:
            if cluster["imageVolume"] and volume == cluster["imageVolume"] + ":/k3d/images":
                continue
            parts = volume.split(":")
            if len(parts) > 3:
                return "invalid volume mount '%s': maximal 2 ':' allowed" % volume
            src, dest = parts[0], parts[0] if len(parts) == 1 else parts[1]
            if src and ("/" in src or "\\" in src):
                if not os.path.exists(src):
                    logs.warn("failed to stat file/directory '%s' volume mount '%s': please make sure it exists" % (src, volume))
            elif src and docker_down_message:
                logs.warn("failed to get named volume: runtime failed to get volume '%s': docker failed to list volumes: %s"
                          % (src, docker_down_message))
            if not dest.startswith("/"):
                return ("failed to validate volume mount '%s': volume mount destination doesn't appear to be an absolute "
                        "path: '%s' in '%s'" % (volume, dest, volume))
    return None


def copy_for_new_node(cluster, role, name, image=None):
    """k3d node create: start from a node of the same role (else any k3s node); keep its k3d* labels only."""
    source = next((n for n in cluster["nodes"] if n["role"] == role), None) or \
        next(n for n in cluster["nodes"] if n["role"] in ("server", "agent"))
    labels = dict((k, v) for k, v in source["runtimeLabels"].items() if k.startswith("k3d"))
    labels.update({"app": "k3d", "k3d.role": role})
    if "k3d.server.init" in labels:
        labels["k3d.server.init"] = "false"
    if source["role"] == role:
        cmd = [c for c in (source["Cmd"] or []) if c != "--cluster-init"]
    else:
        cmd = [role]
    env = list(source["env"])
    if not any(e.startswith("K3S_URL=") for e in env):
        lb = next((n for n in cluster["nodes"] if n["role"] == "loadbalancer"), None)
        target = lb["name"] if lb else next(n["name"] for n in cluster["nodes"] if n["role"] == "server")
        env.append("K3S_URL=https://%s:6443" % target)
    node = new_node(name, role, image or "", labels, env, cmd, list(source["volumes"]))
    node["image"] = image_id(image) if image else source["image"]
    node["serverOpts"] = dict(source["serverOpts"]) if role == "server" else node["serverOpts"]
    return node
