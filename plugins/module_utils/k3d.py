# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k3d client: find the binary, run it, parse and normalise its listings, mask its secrets; and the
runs of the k3d modules on top of it (``run_k3d_cluster``, ``run_k3d_cluster_info``).

Facts this relies on (k3d v5.9): ``k3d cluster list -o json`` is the only reliable state source and
fails (exit 1) when Docker is unreachable, while ``cluster delete`` exits 0 even then, so absence is
only ever concluded from a successful listing. Logs are coloured unless ``LOG_COLORS=false``. The
listing carries the cluster token three ways (``K3S_TOKEN=`` in node env, the ``k3d.cluster.token``
label, ``clusterToken`` with ``--token``); every text that leaves this file is masked.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import re
import shutil
import tempfile

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils.masking import MASK

from ansible_collections.argoops.workflows.plugins.module_utils.k3d_drift import (
    comparable, describe, plan, predict,
)
from ansible_collections.argoops.workflows.plugins.module_utils.k3d_spec import (
    API_CONTAINER_PORT, DOLLAR_ENV, SPEC_LABEL, build_spec, canonical_port, config_text, parse_label,
    render_config,
)

K3D_BINARY_SPEC = dict(k3d_binary=dict(type="path"))
MIN_VERSION = (5, 5, 0)
TOKEN_LABEL = "k3d.cluster.token"
_K3S_ROLES = ("server", "agent")
_RUNNING_ROLES = ("server", "agent", "loadbalancer")
_SECRET_PATTERNS = (
    re.compile(r"(K3S_TOKEN=)[^\s\"',\]]+"),
    re.compile(r"(\"?k3d\.cluster\.token\"?\s*[:=]\s*\"?)[^\s\"',}]+"),
    re.compile(r"(\"?clusterToken\"?\s*:\s*\"?)[^\s\"',}]+"),
    re.compile(r"(--token[= ])\S+"),
)
_LOG_RE = re.compile(r'level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S+)')


class K3dError(ArgoopsError):
    """A failed k3d call (or unusable output); every field is already masked."""

    def __init__(self, msg, cmd=None, rc=None, stdout=None, stderr=None):
        super(K3dError, self).__init__(msg, cmd=cmd, rc=rc, stdout=stdout, stderr=stderr)


def k3d_messages(text):
    """The ``msg`` of every warning/error/fatal line in plain (LOG_COLORS=false) k3d output."""
    out = []
    for level, msg in _LOG_RE.findall(text or ""):
        if level in ("warning", "error", "fatal", "panic"):
            out.append(json.loads(msg) if msg.startswith('"') else msg)
    return out


def _tokens(raw):
    """Every token value one raw listing entry carries: ``clusterToken``, the nodes' token labels, their
    ``K3S_TOKEN=`` env (in that order)."""
    nodes = raw.get("nodes") or []
    candidates = [raw.get("clusterToken")] + [(node.get("runtimeLabels") or {}).get(TOKEN_LABEL) for node in nodes]
    candidates += [item[len("K3S_TOKEN="):] for node in nodes for item in node.get("env") or []
                   if item.startswith("K3S_TOKEN=")]
    return [token for token in candidates if token]


def secrets_in(raw_clusters):
    """Token values found anywhere in a raw listing."""
    return set(token for cluster in raw_clusters or [] for token in _tokens(cluster))


def mask(value, secrets=()):
    """``value`` (str, list, dict) with every secret and every token-looking assignment replaced."""
    if isinstance(value, dict):
        return dict((k, mask(v, secrets)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [mask(v, secrets) for v in value]
    if not isinstance(value, str):
        return value
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        value = value.replace(secret, MASK)
    for pattern in _SECRET_PATTERNS:
        value = pattern.sub(lambda m: m.group(1) + MASK, value)
    return value


def _api_endpoint(nodes):
    api = {"host": None, "host_ip": None, "port": None}
    for node in nodes:
        if node.get("role") == "loadbalancer":
            bindings = (node.get("portMappings") or {}).get(API_CONTAINER_PORT) or []
            if bindings:
                api["host_ip"] = bindings[0].get("HostIp") or None
                api["port"] = int(bindings[0]["HostPort"]) if bindings[0].get("HostPort") else None
    for node in nodes:
        labels = node.get("runtimeLabels") or {}
        if node.get("role") == "server" and "k3d.server.api.port" in labels:
            api["host"] = labels.get("k3d.server.api.host") or None
            api["host_ip"] = api["host_ip"] or labels.get("k3d.server.api.hostIP") or None
            if api["port"] is None and labels["k3d.server.api.port"]:
                api["port"] = int(labels["k3d.server.api.port"])
            break
    return api


def _lb_ports(nodes):
    ports = []
    for node in nodes:
        if node.get("role") != "loadbalancer":
            continue
        for container, bindings in sorted((node.get("portMappings") or {}).items()):
            if container == API_CONTAINER_PORT:
                continue
            port, dummy, protocol = container.partition("/")
            for binding in bindings or []:
                ports.append(canonical_port(binding.get("HostIp", ""), binding.get("HostPort", ""), port, protocol or "tcp"))
    return sorted(ports)


def normalise_cluster(raw):
    """One raw ``cluster list -o json`` entry -> the stable, secret-free shape modules return."""
    nodes = sorted(raw.get("nodes") or [], key=lambda n: n.get("name") or "")
    out_nodes = []
    for node in nodes:
        labels = node.get("runtimeLabels") or {}
        state = node.get("State") or {}
        out_nodes.append({
            "name": node.get("name"), "role": node.get("role"), "running": bool(state.get("Running")),
            "status": state.get("Status") or "", "image": node.get("image"),
            "ip": (node.get("IP") or {}).get("IP") or "", "created": node.get("created"),
            "server_init": labels.get("k3d.server.init") == "true",
        })
    by_role = dict((role, [n for n in out_nodes if n["role"] == role]) for role in _RUNNING_ROLES)
    running = [n["running"] for role in _RUNNING_ROLES for n in by_role[role]]
    spec_labels = [(n.get("runtimeLabels") or {}).get(SPEC_LABEL) for n in nodes if n.get("role") in _K3S_ROLES]
    versions = [(n.get("runtimeLabels") or {}).get("k3d.version") for n in nodes]
    return {
        "name": raw.get("name"),
        "network": (raw.get("network") or {}).get("name"),
        "state": "running" if running and all(running) else ("stopped" if not any(running) else "partial"),
        "servers": len(by_role["server"]), "servers_running": sum(n["running"] for n in by_role["server"]),
        "agents": len(by_role["agent"]), "agents_running": sum(n["running"] for n in by_role["agent"]),
        "has_loadbalancer": bool(by_role["loadbalancer"]),
        "api": _api_endpoint(nodes),
        "ports": _lb_ports(nodes),
        "image_volume": raw.get("imageVolume") or None,
        "k3d_version": next((v for v in versions if v), None),
        "spec": next((s for s in sorted(spec_labels, key=lambda s: s or "") if s), None),
        "nodes": out_nodes,
    }


def cluster_token(raw):
    """The cluster's token from a raw listing entry (for comparison only; never returned)."""
    return next(iter(_tokens(raw)), None)


def parse_listing(text):
    """``cluster list -o json`` stdout -> list of raw clusters; ValueError when it is not that."""
    data = json.loads(text.strip() or "null")
    if not isinstance(data, list) or not all(isinstance(c, dict) and "name" in c for c in data):
        raise ValueError("not a JSON list of clusters")
    return data


def parse_version(text):
    """``k3d version -o json`` -> {"k3d": "v5.9.0", "k3s": "v1.35.5-k3s1"}; ValueError when unusable."""
    data = json.loads(text)
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(data.get("k3d", "")))
    if not match:
        raise ValueError("no k3d version in %r" % text)
    if tuple(int(x) for x in match.groups()) < MIN_VERSION:
        raise ValueError("k3d %s is too old: v1alpha5 configs need k3d v%d.%d.%d or newer" % ((data["k3d"],) + MIN_VERSION))
    return {"k3d": data["k3d"], "k3s": data.get("k3s")}


class K3dCli:
    """Runs k3d for one module invocation and remembers every secret it has seen."""

    def __init__(self, module, binary=None):
        self.module = module
        self.secrets = set()
        if binary:
            if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
                raise K3dError("k3d_binary: %s is not an executable file" % binary)
            self.binary = binary
        else:
            self.binary = module.get_bin_path("k3d")
            if not self.binary:
                raise K3dError("k3d was not found in PATH; install k3d v5.5 or newer, or set k3d_binary")

    def remember(self, *secrets):
        for secret in secrets:
            if secret:
                self.secrets.add(secret)
                self.module.no_log_values.add(secret)

    def mask(self, value):
        return mask(value, self.secrets)

    def run(self, args, data=None, what=None, environ=None, cwd=None):
        """Run k3d; return stdout; raise K3dError (masked, with k3d's own messages) on a non-zero exit."""
        cmd = [self.binary] + list(args)
        rc, out, err = self.module.run_command(
            cmd, data=data, environ_update=dict({"LOG_COLORS": "false", DOLLAR_ENV: "$"}, **(environ or {})), cwd=cwd)
        if rc != 0:
            messages = k3d_messages(err) or k3d_messages(out) or [(err or out or "").strip()]
            raise K3dError(self.mask("%s failed: %s" % (what or "k3d " + " ".join(args[:2]), "; ".join(messages))),
                           cmd=self.mask(" ".join(cmd)), rc=rc, stdout=self.mask(out), stderr=self.mask(err))
        return out

    def version(self):
        out = self.run(["version", "-o", "json"], what="k3d version -o json")
        try:
            return parse_version(out)
        except (ValueError, AttributeError) as exc:
            raise K3dError("k3d version -o json gave no usable version (%s); this module needs k3d v5.5 or newer" % exc,
                           cmd="%s version -o json" % self.binary, rc=0, stdout=self.mask(out))

    def list_clusters(self):
        """Raw clusters from ``cluster list -o json``; secrets remembered for masking."""
        out = self.run(["cluster", "list", "-o", "json"], what="listing k3d clusters (k3d cluster list -o json)")
        try:
            raw = parse_listing(out)
        except ValueError as exc:
            raise K3dError("k3d cluster list -o json printed something that is not a cluster list (%s)" % exc,
                           cmd="%s cluster list -o json" % self.binary, rc=0, stdout=self.mask(out[:2000]))
        self.remember(*secrets_in(raw))
        return raw

    def find(self, name):
        """(normalised, raw) of cluster ``name`` or (None, None) -- from a successful listing only."""
        for raw in self.list_clusters():
            if raw.get("name") == name:
                return normalise_cluster(raw), raw
        return None, None

    def delete(self, name):
        self.run(["cluster", "delete", name], what="k3d cluster delete %s" % name)
        # delete exits 0 even when Docker is down: confirm from a listing that it is gone.
        if self.find(name)[0] is not None:
            raise K3dError("k3d cluster delete %s exited 0 but the cluster is still listed" % name)

    def apply(self, action, name, spec):
        """Carry out one planned in-place action (see k3d_drift.plan)."""
        kind = action["action"]
        if kind == "create":
            # k3d copies the env-expanded config (the token in it) to a file in $TMPDIR and never removes it
            # (cmd/util/config/config.go in v5.9.0), so it gets a private TMPDIR that we remove. It runs in /
            # because it reads `files` sources relative to "-", our stdin config (see k3d_spec._check_file).
            with private_tmpdir() as scratch:
                self.run(["cluster", "create", name, "--config", "-"], data=config_text(render_config(spec)),
                         what="k3d cluster create %s" % name, environ={"TMPDIR": scratch}, cwd="/")
        elif kind == "delete":
            self.delete(name)
        elif kind in ("start", "stop"):
            self.run(["cluster", kind, name])
        elif kind == "node_create":
            args = ["node", "create", action["basename"], "--cluster", name, "--role", action["role"],
                    "--replicas", str(action["count"]), "--wait=%s" % ("true" if spec.wait else "false")]
            if spec.timeout:
                args += ["--timeout", spec.timeout]
            self.run(args, what="k3d node create %s" % action["basename"])
        elif kind == "node_delete":
            self.run(["node", "delete"] + action["nodes"], what="k3d node delete %s" % " ".join(action["nodes"]))
        elif kind in ("port_add", "port_delete"):
            flag = "--port-add" if kind == "port_add" else "--port-delete"
            args = ["cluster", "edit", name]
            for port in action["ports"]:
                args += [flag, port + "@loadbalancer"]
            self.run(args, what="k3d cluster edit %s %s" % (name, flag))
        else:
            raise ValueError("unknown action %r" % kind)

    def kubeconfig(self, name):
        """This cluster's kubeconfig text (contains a client key: never return or log it)."""
        out = self.run(["kubeconfig", "get", name], what="k3d kubeconfig get %s" % name)
        lines = out.splitlines(True)
        if lines and lines[0].strip() == "---":
            lines = lines[1:]
        return "".join(lines)


@contextlib.contextmanager
def private_tmpdir():
    """A directory only we can read, removed with whatever k3d left in it."""
    path = tempfile.mkdtemp(prefix="argoops-k3d-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sync_kubeconfig(module, path, content):
    """Make ``path`` hold exactly ``content`` with mode 0600; return whether it changed (check mode aware)."""
    try:
        with open(path) as handle:
            current = handle.read()
        mode_ok = (os.stat(path).st_mode & 0o777) == 0o600
    except (IOError, OSError):
        current, mode_ok = None, False
    if current == content and mode_ok:
        return False
    if module.check_mode:
        return True
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o600)
        # os.replace, not module.atomic_move: atomic_move gives a new file umask-based permissions,
        # which would leave the client key world-readable; tmp is in the same directory, so this is atomic.
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True


def remove_kubeconfig(module, path, name):
    """Remove ``path`` if it is this cluster's kubeconfig (names context k3d-NAME); return whether it did."""
    try:
        with open(path) as handle:
            ours = re.search(r"^\s*(- )?name: k3d-%s\s*$" % re.escape(name), handle.read(), re.M)
    except (IOError, OSError):
        return False
    if not ours:
        return False
    if not module.check_mode:
        os.unlink(path)
    return True


# ---- the modules' runs --------------------------------------------------------------------------

def run_k3d_cluster(module, result):
    """k3d_cluster: plan from one listing, carry the plan out (not in check mode), keep the kubeconfig file.

    Fills ``result`` (``k3d_version``, ``actions``, ``changed``, ``diff``, ``kubeconfig``, ``cluster``,
    ``api_port``) as it goes, so a failure still reports what was known.
    """
    params = module.params
    result.update(changed=False, actions=[], cluster={}, api_port=None, context="k3d-%s" % params["name"])
    state, path = params["state"], params["kubeconfig"]["path"]
    spec = build_spec(params)
    cli = K3dCli(module, params["k3d_binary"])
    cli.remember(params["token"])
    result["k3d_version"] = cli.version()
    current, raw = cli.find(spec.name)
    if current and state != "absent" and parse_label(current.get("spec")) is None:
        module.warn("cluster %s was not created by this module (no %s label): image, env, volumes, k3s args, "
                    "registries and config cannot be compared" % (spec.name, SPEC_LABEL))
    actions = plan(spec, current, state, params["recreate"], raw and cluster_token(raw))
    result["actions"] = [describe(action, spec.name) for action in actions]
    if module._diff:
        result["diff"] = dict(before=comparable(current), after=predict(spec, current, actions, state))
    if actions and not module.check_mode:
        for action in actions:
            cli.apply(action, spec.name, spec)
        # K3dCli.delete has confirmed the absence from a listing already; anything else is listed again
        current = None if state == "absent" else cli.find(spec.name)[0]
    result["changed"] = bool(actions)
    if path and state == "absent":
        if remove_kubeconfig(module, path, spec.name):
            result["changed"] = True
            result["actions"].append("remove kubeconfig %s" % path)
    elif path:
        result["kubeconfig"] = path
        if current is None or sync_kubeconfig(module, path, cli.kubeconfig(spec.name)):
            result["changed"] = True
            result["actions"].append("write kubeconfig %s" % path)
    if current:
        result["cluster"] = cli.mask(current)
        result["api_port"] = current["api"]["port"]


def run_k3d_cluster_info(module, result):
    """k3d_cluster_info: the k3d version and the clusters (all, or the one named), secrets masked."""
    name = module.params["name"]
    cli = K3dCli(module, module.params["k3d_binary"])
    version = cli.version()
    raw = cli.list_clusters()
    clusters = [normalise_cluster(c) for c in sorted(raw, key=lambda c: c["name"]) if name in (None, c["name"])]
    result.update(changed=False, clusters=cli.mask(clusters), k3d_version=version)
