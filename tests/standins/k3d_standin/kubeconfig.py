"""Kubeconfigs of stand-in clusters: ``kubeconfig get`` text, ``kubeconfig write`` files and the
default-kubeconfig merge k3d does at create (and undoes at delete) unless told not to."""
import base64
import os

from . import logs


def _yaml():
    """PyYAML, imported lazily (only the default-kubeconfig merge needs it)."""
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return yaml


def credentials():
    """Fake but stable-per-cluster certificate data (generated once, kept in the state file)."""
    return dict((key, base64.b64encode(os.urandom(48)).decode()) for key in ("ca", "cert", "key"))


def server_url(cluster):
    lb_or_server = next(n for n in cluster["nodes"] if "6443/tcp" in (n.get("portMappings") or {}))
    binding = lb_or_server["portMappings"]["6443/tcp"][0]
    return "https://%s:%s" % (binding["HostIp"] or "0.0.0.0", binding["HostPort"])


def text(cluster):
    ctx = "k3d-" + cluster["name"]
    creds = cluster["credentials"]
    values = (creds["ca"], server_url(cluster), ctx, ctx, ctx, ctx, ctx, ctx, creds["cert"], creds["key"])
    return ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n    server: %s\n  name: %s\n"
            "contexts:\n- context:\n    cluster: %s\n    user: admin@%s\n  name: %s\ncurrent-context: %s\nkind: Config\n"
            "preferences: {}\nusers:\n- name: admin@%s\n  user:\n    client-certificate-data: %s\n"
            "    client-key-data: %s\n" % values)


def config_dir():
    directory = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config", "k3d")
    os.makedirs(directory, exist_ok=True)
    return directory


def default_path():
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return paths[0] if paths else os.path.join(os.path.expanduser("~"), ".kube", "config")


def _load(yaml, path):
    if not os.path.exists(path):
        return {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": [],
                "current-context": "", "preferences": {}}
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def _save(yaml, path, data):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        yaml.safe_dump(data, handle, default_flow_style=False)
    os.chmod(path, 0o600)


def merge_into(path, cluster, switch_context):
    """Add (or replace) the cluster's entries in the kubeconfig at ``path``."""
    yaml = _yaml()
    if yaml is None:
        logs.warn("k3d stand-in: PyYAML missing, not updating %s" % path)
        return
    mine = yaml.safe_load(text(cluster))
    data = _load(yaml, path)
    for section in ("clusters", "contexts", "users"):
        names = set(item["name"] for item in mine[section])
        data[section] = [i for i in data.get(section) or [] if i.get("name") not in names] + mine[section]
    if switch_context or not data.get("current-context"):
        data["current-context"] = mine["current-context"]
    _save(yaml, path, data)


def remove_from(path, name):
    yaml = _yaml()
    if yaml is None or not os.path.exists(path):
        return
    data = _load(yaml, path)
    ctx = "k3d-" + name
    for section, entry in (("clusters", ctx), ("contexts", ctx), ("users", "admin@" + ctx)):
        data[section] = [i for i in data.get(section) or [] if i.get("name") != entry]
    if data.get("current-context") == ctx:
        data["current-context"] = ""
    _save(yaml, path, data)
