"""What ``k3d cluster list`` prints: Go's json.Marshal of k3d's types (key order, omitempty, HTML
escaping), nodes newest first, only runtime labels whose key starts with "k3d"."""
import json

_NODE_KEYS = ("name", "role", "image", "volumes", "env", "Cmd", "portMappings", "restart", "created", "runtimeLabels",
              "Networks", "ExtraHosts", "serverOpts", "agentOpts", "GPURequest", "Memory", "State", "IP", "K3dEntrypoint")


def go_json(value):
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def node_view(node):
    out = {}
    for key in _NODE_KEYS:
        if key == "portMappings" and not node.get(key):
            continue  # omitempty
        value = node.get(key)
        if key == "runtimeLabels":
            value = dict((k, v) for k, v in sorted(value.items()) if k.startswith("k3d"))
        elif key == "portMappings":
            value = dict(sorted(value.items()))  # Go marshals map keys sorted
        out[key] = value
    return out


def cluster_view(cluster, with_token=False, detailed=False):
    nodes = sorted(cluster["nodes"], key=lambda n: n["created"], reverse=True)
    network = {"name": cluster["network"]["name"], "id": ""}
    if cluster["network"]["external"]:
        network["isExternal"] = True
    network.update({"ipam": {"ipPrefix": "", "Managed": False}, "Members": None})
    out = {"name": cluster["name"], "network": network}
    if with_token:
        out["clusterToken"] = cluster["token"]
    out["nodes"] = [node_view(n) for n in nodes]
    out["InitNode"] = None
    lb = next((n for n in nodes if n["role"] == "loadbalancer"), None)
    if detailed and lb:
        config = {"ports": dict(sorted(cluster["lbConfig"]["ports"].items())), "settings": cluster["lbConfig"]["settings"]}
        out["serverLoadBalancer"] = dict(node_view(lb), config=config)
    out["imageVolume"] = cluster["imageVolume"]
    if detailed:
        out["volumes"] = [cluster["imageVolume"]] if cluster["imageVolume"] else []

    def count(role):
        members = [n for n in nodes if n["role"] == role]
        return len(members), sum(1 for n in members if n["State"]["Running"])

    servers, servers_running = count("server")
    agents, agents_running = count("agent")
    out.update({"serversRunning": servers_running, "serversCount": servers,
                "agentsRunning": agents_running, "agentsCount": agents})
    if lb:
        out["hasLoadbalancer"] = True
    return out


def table(clusters, with_token=False, headers=True):
    rows = [["NAME", "SERVERS", "AGENTS", "LOADBALANCER"] + (["TOKEN"] if with_token else [])] if headers else []
    for cluster in clusters:
        view = cluster_view(cluster)
        rows.append([cluster["name"], "%d/%d" % (view["serversRunning"], view["serversCount"]),
                     "%d/%d" % (view["agentsRunning"], view["agentsCount"]), str("hasLoadbalancer" in view).lower()]
                    + ([cluster["token"]] if with_token else []))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))] if rows else []
    return "".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)
