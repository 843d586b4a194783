"""The k3d commands the collection uses, with k3d v5.9's messages and exit codes."""
import json
import os
import re
import sys

from . import build, config, filters, kubeconfig, listing, logs, store
from .flags import Flag, FlagError, parse

DEFAULT_CLUSTER = "k3s-default"
_HOSTNAME = re.compile(r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*"
                       r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$")


def _list_down():
    return ("runtime failed to list nodes: docker failed to get containers with labels 'map[app:k3d]': "
            "failed to list containers: " + store.docker_down_message())


def _get_down(name):
    return ("Failed to get nodes for cluster '%s': docker failed to get containers with labels "
            "'map[k3d.cluster:%s]': failed to list containers: %s" % (name, name, store.docker_down_message()))


def cluster_get(state, name):
    """k3d's ClusterGet: None when no node carries the cluster label (or Docker is down, after an error log)."""
    if store.docker_down():
        logs.error(_get_down(name))
        return None
    return state["clusters"].get(name)


def must_get(state, name):
    cluster = cluster_get(state, name)
    if cluster is None:
        logs.fatal("No nodes found for given cluster")
    return cluster


def _args(positional, low, high, command):
    if not low <= len(positional) <= high:
        if low == high:
            raise FlagError("accepts %d arg(s), received %d" % (low, len(positional)))
        raise FlagError("accepts between %d and %d arg(s), received %d" % (low, high, len(positional)))
    return positional


def cmd_version(argv):
    values, dummy, positional = parse(argv, [Flag("output", short="o")])
    if positional:
        raise FlagError('unknown command "%s" for "k3d version"' % positional[0])
    if values["output"] == "json":
        print(json.dumps({"k3d": build.K3D_VERSION, "k3s": build.K3S_VERSION}, separators=(",", ":")))
    else:
        print("k3d version %s\nk3s version %s (default)" % (build.K3D_VERSION, build.K3S_VERSION))


def cmd_cluster_list(argv):
    values, dummy, names = parse(argv, [Flag("output", short="o"), Flag("token", "bool"), Flag("no-headers", "bool")])
    with store.Store() as state:
        if names:
            clusters = [must_get(state, name) for name in names]
        else:
            if store.docker_down():
                logs.fatal(_list_down())
            clusters = list(state["clusters"].values())
    clusters.sort(key=lambda c: c["name"])
    output = (values["output"] or "").lower()
    if output == "json":
        print(listing.go_json([listing.cluster_view(c, values["token"], detailed=bool(names)) for c in clusters]))
    elif output == "yaml":
        import yaml  # pylint: disable=import-outside-toplevel
        print(yaml.safe_dump([listing.cluster_view(c, values["token"], detailed=bool(names)) for c in clusters]))
    else:
        sys.stdout.write(listing.table(clusters, values["token"], not values["no-headers"]))


CREATE_FLAGS = [
    Flag("config", short="c"), Flag("servers", "int", "s", 0), Flag("agents", "int", "a", 0), Flag("image", short="i"),
    Flag("api-port"), Flag("port", "array", "p"), Flag("k3s-arg", "array"), Flag("env", "array", "e"),
    Flag("volume", "array", "v"), Flag("runtime-label", "array"), Flag("k3s-node-label", "array"),
    Flag("runtime-ulimit", "array"), Flag("network"), Flag("subnet"), Flag("token"), Flag("wait", "bool", default=True),
    Flag("timeout"), Flag("kubeconfig-update-default", "bool", default=True),
    Flag("kubeconfig-switch-context", "bool", default=True), Flag("no-lb", "bool"), Flag("no-rollback", "bool"),
    Flag("no-image-volume", "bool"), Flag("registry-create"), Flag("registry-use", "array"), Flag("registry-config"),
    Flag("enforce-registry-port-match", "bool"), Flag("host-alias", "array"), Flag("lb-config-override", "array"),
    Flag("gpus"), Flag("servers-memory"), Flag("agents-memory"), Flag("host-pid-mode", "bool"),
]


def _nested(cfg, *keys):
    for key in keys:
        cfg = cfg.setdefault(key, {})
    return cfg


def _cli_overrides(cfg, values, given):
    """Flags that were given beat the config file (k3d: CLI > env > config > defaults)."""
    for flag, key in (("servers", "servers"), ("agents", "agents"), ("image", "image"), ("network", "network"),
                      ("subnet", "subnet"), ("token", "token")):
        if flag in given:
            cfg[key] = values[flag]
    for flag, path in (("wait", ("k3d", "wait")), ("timeout", ("k3d", "timeout")), ("no-lb", ("k3d", "disableLoadbalancer")),
                       ("no-rollback", ("k3d", "disableRollback")), ("no-image-volume", ("k3d", "disableImageVolume")),
                       ("kubeconfig-update-default", ("kubeconfig", "updateDefaultKubeconfig")),
                       ("kubeconfig-switch-context", ("kubeconfig", "switchCurrentContext"))):
        if flag in given:
            _nested(cfg, "options", path[0])[path[1]] = values[flag]
    if "api-port" in given:
        host, dummy, port = values["api-port"].rpartition(":")
        cfg["kubeAPI"] = dict(cfg.get("kubeAPI") or {}, hostPort="" if port == "random" else port,
                              **({"hostIP": host} if host else {}))
    for flag, key, field in (("port", ("ports",), "port"), ("env", ("env",), "envVar"), ("volume", ("volumes",), "volume"),
                             ("k3s-arg", ("options", "k3s", "extraArgs"), "arg"),
                             ("runtime-label", ("options", "runtime", "labels"), "label")):
        for raw in values[flag]:
            value, node_filters = filters.split_filters(raw)
            parent = _nested(cfg, *key[:-1]) if len(key) > 1 else cfg
            parent.setdefault(key[-1], []).append(dict({field: value}, **({"nodeFilters": node_filters} if node_filters else {})))
    if "registry-create" in given:
        name, dummy, rest = values["registry-create"].partition(":")
        host, dummy, port = rest.rpartition(":") if ":" in rest else ("", "", rest)
        _nested(cfg, "registries")["create"] = {"name": name, "host": host, "hostPort": port}
    if values["registry-use"]:
        _nested(cfg, "registries").setdefault("use", []).extend(values["registry-use"])


def cmd_cluster_create(argv):
    values, given, positional = parse(argv, CREATE_FLAGS)
    _args(positional, 0, 1, "create")
    cfg = config.load(values["config"]) if values["config"] else {}
    _cli_overrides(cfg, values, given)
    name = positional[0] if positional else ((cfg.get("metadata") or {}).get("name") or DEFAULT_CLUSTER)
    options = cfg.get("options") or {}
    kube_options = options.get("kubeconfig") or {}
    with store.Store() as state:
        try:
            cluster = build.build_cluster(state, name, cfg, values["config"] or "")
        except filters.FilterError as exc:
            logs.fatal(str(exc))
        if not _HOSTNAME.match(name):
            logs.fatal("Failed Cluster Configuration Validation:  provided cluster name '%s' does not match requirements: "
                       "Invalid cluster name. name %s is not a valid hostname as per RFC 1123" % (name, name))
        if len(name) > 32:
            logs.fatal("Failed Cluster Configuration Validation:  provided cluster name '%s' does not match requirements: "
                       "Cluster name must be <= 32 characters, but has %d" % (name, len(name)))
        problem = build.validate_volumes(cluster, store.docker_down_message() if store.docker_down() else None)
        if problem:
            logs.fatal("Failed Cluster Configuration Validation:  " + problem)
        if cluster_get(state, name) is not None:
            logs.fatal("Failed to create cluster '%s' because a cluster with that name already exists" % name)
        logs.info("Prep: Network")
        no_rollback = (options.get("k3d") or {}).get("disableRollback", False)
        if cluster["network"]["external"] and cluster["network"]["subnet"]:
            _fail_create(state, name, no_rollback, "Failed Cluster Preparation: Failed Network Preparation: cannot "
                                                   "specify subnet for exiting network")  # sic, k3d's spelling
        if store.docker_down():
            _fail_create(state, name, no_rollback, "Failed Cluster Preparation: Failed Network Preparation: failed to "
                                                   "create cluster network: failed to check for duplicate docker "
                                                   "networks: docker failed to list networks: " + store.docker_down_message())
        logs.info("Created network '%s'" % cluster["network"]["name"])
        if cluster["imageVolume"]:
            logs.info("Created image volume %s" % cluster["imageVolume"])
        for node in cluster["nodes"]:
            logs.info("Creating node '%s'" % node["name"])
        cluster["credentials"] = kubeconfig.credentials()
        state["clusters"][name] = cluster
        logs.info("Starting cluster '%s'" % name)
        logs.info("Cluster '%s' created successfully!" % name)
    update_default = kube_options.get("updateDefaultKubeconfig", True)
    if update_default:
        kubeconfig.merge_into(kubeconfig.default_path(), cluster, kube_options.get("switchCurrentContext", True))
    elif kube_options.get("switchCurrentContext", True):
        logs.info("--kubeconfig-update-default=false --> sets --kubeconfig-switch-context=false")
    logs.info("You can now use it like this:")
    if not update_default:
        print("export KUBECONFIG=$(%s kubeconfig write %s)" % (sys.argv[0], name))
    print("kubectl cluster-info")


def _fail_create(state, name, no_rollback, error):
    """k3d's ClusterRun failing before it created anything, then its rollback failing to find the cluster."""
    logs.error(error)
    if no_rollback:
        logs.fatal("Cluster creation FAILED, rollback deactivated.")
    logs.error("Failed to create cluster >>> Rolling Back")
    logs.info("Deleting cluster '%s'" % name)
    cluster_get(state, name)
    logs.error("failed to get cluster: No nodes found for given cluster")
    logs.fatal("Cluster creation FAILED, also FAILED to rollback changes!")


def cmd_cluster_delete(argv):
    values, dummy, names = parse(argv, [Flag("all", "bool", "a"), Flag("config", short="c")])
    with store.Store() as state:
        if values["all"]:
            logs.info("Deleting all clusters...")
            if store.docker_down():
                logs.fatal(_list_down())
            names = sorted(state["clusters"])
        found = []
        for name in names or [DEFAULT_CLUSTER]:
            if cluster_get(state, name) is None:
                logs.info("No nodes found for cluster '%s', nothing to delete." % name)
            else:
                found.append(name)
        if not found:
            logs.info("No clusters found")
        for name in found:
            cluster = state["clusters"].pop(name)
            logs.info("Deleting cluster '%s'" % name)
            if not cluster["network"]["external"]:
                logs.info("Deleting cluster network '%s'" % cluster["network"]["name"])
            logs.info("Deleting %d attached volumes..." % (1 if cluster["imageVolume"] else 0))
            logs.info("Removing cluster details from default kubeconfig...")
            kubeconfig.remove_from(kubeconfig.default_path(), name)
            logs.info("Removing standalone kubeconfig file (if there is one)...")
            standalone = os.path.join(kubeconfig.config_dir(), "kubeconfig-%s.yaml" % name)
            if os.path.exists(standalone):
                os.unlink(standalone)
            logs.info("Successfully deleted cluster %s!" % name)


def _set_running(cluster, state, running):
    for node in cluster["nodes"]:
        node["State"] = {"Running": running, "Status": "running" if running else "exited", "Started": ""}
        node["IP"]["IP"] = ""
    if running:
        for node in cluster["nodes"]:
            node["IP"]["IP"] = build.next_ip(cluster, state)


def cmd_cluster_start_stop(argv, start):
    extra = [Flag("wait", "bool", default=True), Flag("timeout")] if start else []
    values, dummy, names = parse(argv, [Flag("all", "bool", "a")] + extra)
    with store.Store() as state:
        if values["all"]:
            if store.docker_down():
                logs.fatal(_list_down())
            clusters = [state["clusters"][n] for n in sorted(state["clusters"])]
        else:
            clusters = [must_get(state, name) for name in names or [DEFAULT_CLUSTER]]
        if not clusters:
            logs.info("No clusters found")
        for cluster in clusters:
            if start:
                logs.info("Using the k3d-tools node to gather environment information")
                logs.info("Starting cluster '%s'" % cluster["name"])
                for role, plural in (("server", "servers"), ("agent", "agents"), ("loadbalancer", "helpers")):
                    members = [n for n in cluster["nodes"] if n["role"] == role]
                    if members and all(n["State"]["Running"] for n in members):
                        logs.info("All %s already running." % plural)
                    elif members:
                        logs.info("Starting %s..." % plural)
                if not all(n["State"]["Running"] for n in cluster["nodes"]):
                    _set_running(cluster, state, True)
                logs.info("Started cluster '%s'" % cluster["name"])
            else:
                logs.info("Stopping cluster '%s'" % cluster["name"])
                if any(n["State"]["Running"] for n in cluster["nodes"]):
                    _set_running(cluster, state, False)
                logs.info("Stopped cluster '%s'" % cluster["name"])


def _port_changes(values, flag):
    seen = {}
    for raw in values[flag]:
        port, node_filters = filters.split_filters(raw)
        if port in seen:
            logs.fatal("Same Portmapping can not be used for multiple nodes")
        seen[port] = node_filters
    return [dict({"port": p}, **({"nodeFilters": f} if f else {})) for p, f in seen.items()]


def cmd_cluster_edit(argv):
    values, dummy, positional = parse(argv, [Flag("port-add", "array"), Flag("port-delete", "array")])
    name = _args(positional, 1, 1, "edit")[0]
    with store.Store() as state:
        cluster = must_get(state, name)
        added, deleted = _port_changes(values, "port-add"), _port_changes(values, "port-delete")
        if added and deleted:
            logs.fatal("Cannot combine port addition and deletion")
        lb = next((n for n in cluster["nodes"] if n["role"] == "loadbalancer"), None)
        if lb is None:
            logs.fatal("Failed to update the cluster: error copying existing loadbalancer: cluster has no loadbalancer")
        for item in added + deleted:
            for text in item.get("nodeFilters") or []:
                suffix = (filters.FILTER_RE.match(text) or re.match("", "")).groupdict().get("suffix")
                if suffix and suffix != "proxy":
                    logs.fatal("Failed to update the cluster: error: 'cluster edit' does not (yet) support the '%s' "
                               "opt/suffix for adding ports" % suffix)
        try:
            build.add_ports(cluster, added or deleted, remove=bool(deleted))
        except filters.FilterError as exc:
            logs.fatal("Failed to update the cluster: error transforming port config: %s" % exc)
        lb["created"] = build.created_now()  # NodeReplace: a new load balancer container
        logs.info("Renaming existing node %s to %s-old..." % (lb["name"], lb["name"]))
        logs.info("Creating new node %s..." % lb["name"])
        logs.info("Successfully updated %s" % name)


def cmd_node_create(argv):
    values, dummy, positional = parse(argv, [
        Flag("replicas", "int", default=1), Flag("role", default="agent"), Flag("cluster", short="c", default=DEFAULT_CLUSTER),
        Flag("image", short="i"), Flag("memory"), Flag("wait", "bool", default=True), Flag("timeout"),
        Flag("runtime-label", "array"), Flag("runtime-ulimit", "array"), Flag("k3s-node-label", "array"),
        Flag("network", "array", "n"), Flag("token", short="t"), Flag("k3s-arg", "array")])
    base = _args(positional, 1, 1, "create")[0]
    role, cluster_name, replicas = values["role"], values["cluster"], values["replicas"]
    if role not in ("server", "agent", "loadbalancer", "registry"):
        logs.fatal("Unknown node role '%s'\n" % role)
    labels = {}
    for raw in values["runtime-label"]:
        parts = raw.split("=")
        if len(parts) != 2:
            logs.fatal('unknown runtime-label format format: %s, use format "foo=bar"' % raw)
        if parts[0].startswith(("k3s.", "k3d.")) or parts[0] == "app":
            logs.fatal('runtime label "%s" is reserved for internal usage' % parts[0])
        labels[parts[0]] = parts[1]
    failed = "failed to add %d node(s) to the runtime local cluster '%s'" % (replicas, cluster_name)
    logs.info("Adding %d node(s) to the runtime local cluster '%s'..." % (replicas, cluster_name))
    with store.Store() as state:
        cluster = cluster_get(state, cluster_name)
        if cluster is None:
            logs.fatal("%s: Failed to find specified cluster '%s': No nodes found for given cluster" % (failed, cluster_name))
        for i in range(replicas):
            name = "k3d-%s-%d" % (base, i)
            if any(n["name"] == name for n in build.all_nodes(state)):
                logs.fatal('%s: failed to create node \'%s\': runtime failed to create node \'%s\': docker failed to create '
                           'container \'%s\': Error response from daemon: Conflict. The container name "/%s" is already in '
                           'use by container "%s". You have to remove (or rename) that container to be able to reuse that '
                           'name.' % (failed, name, name, name, name, build.image_id(name)[7:]))
            node = build.copy_for_new_node(cluster, role, name, values["image"])
            node["runtimeLabels"].update(labels)
            node["Cmd"] = (node["Cmd"] or []) + values["k3s-arg"]
            node["IP"]["IP"] = build.next_ip(cluster, state)
            cluster["nodes"].append(node)
            if role == "server" and "6443.tcp" in cluster["lbConfig"]["ports"]:
                cluster["lbConfig"]["ports"]["6443.tcp"].append(name)
            logs.info("Starting node '%s'" % name)
    logs.info("Successfully created %d node(s)!" % replicas)


def _find_node(state, name):
    for cluster in state["clusters"].values():
        for node in cluster["nodes"]:
            if node["name"] in (name, "k3d-" + name):
                return cluster, node
    return None, None


def cmd_node_delete(argv):
    values, dummy, names = parse(argv, [Flag("all", "bool", "a"), Flag("registries", "bool", "r")])
    if not values["all"] and not names:
        logs.fatal("Expecting at least one node name if `--all` is not set")
    with store.Store() as state:
        targets = []
        if values["all"]:
            if store.docker_down():
                logs.fatal(_list_down())
            targets = [(c, n) for c in state["clusters"].values() for n in c["nodes"]
                       if n["role"] != "registry" or values["registries"]]
        for name in names:
            if store.docker_down():
                logs.fatal("failed to get node '%s': failed to get container for node '%s': Failed to list containers: %s"
                           % (name, name, store.docker_down_message()))
            cluster, node = _find_node(state, name)
            if node is None:
                logs.fatal("failed to get node '%s': failed to get container for node '%s': Didn't find container for node '%s'"
                           % (name, name, name))
            targets.append((cluster, node))
        if not targets:
            logs.info("No nodes found")
            return
        for cluster, node in targets:
            cluster["nodes"].remove(node)
            for members in cluster["lbConfig"]["ports"].values():
                if node["name"] in members:
                    members.remove(node["name"])
            if not cluster["nodes"]:
                del state["clusters"][cluster["name"]]
        logs.info("Successfully deleted %d node(s)!" % len(targets))


def _clusters_for_kubeconfig(state, names, all_clusters, default_name=None):
    if all_clusters:
        if store.docker_down():
            logs.fatal(_list_down())
        return [state["clusters"][n] for n in sorted(state["clusters"])]
    return [must_get(state, name) for name in names or ([default_name] if default_name else [])]


def cmd_kubeconfig_get(argv):
    values, dummy, names = parse(argv, [Flag("all", "bool", "a")])
    if (not names and not values["all"]) or (names and values["all"]):
        raise FlagError("need to specify one or more cluster names *or* set `--all` flag")
    with store.Store() as state:
        clusters = _clusters_for_kubeconfig(state, names, values["all"])
    for cluster in clusters:
        print("---")
        sys.stdout.write(kubeconfig.text(cluster))


def cmd_kubeconfig_write(argv):
    values, dummy, names = parse(argv, [
        Flag("output", short="o", default=""), Flag("kubeconfig-merge-default", "bool", "d"),
        Flag("update", "bool", "u", True), Flag("kubeconfig-switch-context", "bool", "s", True),
        Flag("overwrite", "bool"), Flag("all", "bool", "a")])
    if values["kubeconfig-merge-default"] and values["output"]:
        logs.fatal("Cannot use both '--output' and '--kubeconfig-merge-default' at the same time")
    with store.Store() as state:
        clusters = _clusters_for_kubeconfig(state, names, values["all"], DEFAULT_CLUSTER)
    outputs = []
    for cluster in clusters:
        if values["kubeconfig-merge-default"]:
            path = kubeconfig.default_path()
            kubeconfig.merge_into(path, cluster, values["kubeconfig-switch-context"])
        elif values["output"] == "-":
            sys.stdout.write(kubeconfig.text(cluster))
            continue
        else:
            path = values["output"] or os.path.join(kubeconfig.config_dir(), "kubeconfig-%s.yaml" % cluster["name"])
            with open(path, "w") as handle:
                handle.write(kubeconfig.text(cluster))
            os.chmod(path, 0o600)
        outputs.append(path)
    if values["output"] != "-":
        print(":".join(outputs))


COMMANDS = {
    ("version",): cmd_version,
    ("cluster", "list"): cmd_cluster_list, ("cluster", "ls"): cmd_cluster_list, ("cluster", "get"): cmd_cluster_list,
    ("cluster", "create"): cmd_cluster_create,
    ("cluster", "delete"): cmd_cluster_delete, ("cluster", "del"): cmd_cluster_delete, ("cluster", "rm"): cmd_cluster_delete,
    ("cluster", "start"): lambda argv: cmd_cluster_start_stop(argv, True),
    ("cluster", "stop"): lambda argv: cmd_cluster_start_stop(argv, False),
    ("cluster", "edit"): cmd_cluster_edit, ("cluster", "update"): cmd_cluster_edit,
    ("node", "create"): cmd_node_create,
    ("node", "delete"): cmd_node_delete, ("node", "del"): cmd_node_delete, ("node", "rm"): cmd_node_delete,
    ("kubeconfig", "get"): cmd_kubeconfig_get, ("kubeconfig", "print"): cmd_kubeconfig_get,
    ("kubeconfig", "show"): cmd_kubeconfig_get,
    ("kubeconfig", "write"): cmd_kubeconfig_write, ("kubeconfig", "merge"): cmd_kubeconfig_write,
}


def main(argv):
    words = [w for w in argv if not w.startswith("-")][:2]
    handler, used = None, 0
    for size in (2, 1):
        if tuple(words[:size]) in COMMANDS:
            handler, used = COMMANDS[tuple(words[:size])], size
            break
    if handler is None:
        sys.stderr.write("Error: k3d stand-in: unsupported command %r (it implements: %s)\n"
                         % (" ".join(words), ", ".join(sorted(" ".join(k) for k in COMMANDS))))
        return 1
    rest = list(argv)
    for word in words[:used]:
        rest.remove(word)
    try:
        handler(rest)
    except FlagError as exc:
        # cobra prints the error and the command's usage, then k3d's Execute logs the error as fatal
        sys.stderr.write("Error: %s\nUsage:\n  (k3d's usage text, not reproduced by the stand-in)\n\n" % exc)
        try:
            logs.fatal(str(exc))
        except logs.Fatal:
            return 1
    except logs.Fatal:
        return 1
    return 0
