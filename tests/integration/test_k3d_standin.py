"""The k3d STAND-IN itself (tests/standins/k3d): does it behave like k3d v5.9 where our modules rely on it?

The modules are only as well tested as the stand-in is faithful, so its JSON shape is compared with the
recorded k3d listings and its messages/exit codes with the facts in k3d's source. Whatever needs no
Docker (version, failures without Docker, config checks) is compared with the real k3d binary in
test_k3d_real.py instead.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "standins"))

import harness  # noqa: E402  pylint: disable=wrong-import-position
from harness import k3d, listing  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def env(tmp_path):
    return harness.environment(tmp_path, LOG_COLORS="false")


def recorded(name):
    with open(os.path.join(harness.LISTINGS, name + ".json")) as handle:
        return json.load(handle)


def keys_in_order(obj):
    return list(obj.keys())


def test_listing_has_k3d_shape(env):
    assert k3d(env, "cluster", "list", "-o", "json").stdout == "[]\n"
    assert k3d(env, "cluster", "create", "demo", "--agents", "2", "-p", "8080:80@loadbalancer").returncode == 0
    ours, theirs = listing(env)[0], recorded("cluster_list_running")[0]
    assert keys_in_order(ours) == keys_in_order(theirs)
    assert keys_in_order(ours["network"]) == keys_in_order(theirs["network"])
    assert [n["role"] for n in ours["nodes"]] == [n["role"] for n in theirs["nodes"]]  # newest first
    for mine, recorded_node in zip(ours["nodes"], theirs["nodes"]):
        assert keys_in_order(mine) == keys_in_order(recorded_node), mine["name"]
        assert set(mine["runtimeLabels"]) - {"k3d.cluster.network.id"} == set(recorded_node["runtimeLabels"]) - {
            "k3d.cluster.network.id"}, mine["name"]
        assert [e.split("=")[0] for e in mine["env"]] == [e.split("=")[0] for e in recorded_node["env"]]
    lb = ours["nodes"][0]
    assert lb["portMappings"]["80/tcp"] == [{"HostIp": "", "HostPort": "8080"}]
    assert ours["nodes"][-1]["Cmd"] == theirs["nodes"][-1]["Cmd"]
    # `cluster get NAME` is the same command with a filter; it adds serverLoadBalancer and volumes
    detailed = listing(env, "demo")[0]
    assert keys_in_order(detailed) == keys_in_order(recorded("cluster_get_running")[0])
    assert "clusterToken" in json.loads(k3d(env, "cluster", "list", "-o", "json", "--token").stdout)[0]


def test_existing_cluster_and_absent_cluster_messages(env):
    assert k3d(env, "cluster", "create", "demo").returncode == 0
    again = k3d(env, "cluster", "create", "demo")
    assert again.returncode == 1
    assert "level=fatal msg=\"Failed to create cluster 'demo' because a cluster with that name already exists\"" in again.stderr
    gone = k3d(env, "cluster", "delete", "nothere")
    assert gone.returncode == 0 and "No nodes found for cluster 'nothere', nothing to delete." in gone.stdout
    for command in (["cluster", "start", "nothere"], ["cluster", "stop", "nothere"], ["cluster", "list", "nothere"],
                    ["kubeconfig", "get", "nothere"], ["cluster", "edit", "nothere", "--port-add", "1:1"]):
        done = k3d(env, *command)
        assert done.returncode == 1 and "No nodes found for given cluster" in done.stderr, command
    missing = k3d(env, "node", "delete", "k3d-demo-agent-9")
    assert missing.returncode == 1 and "Didn't find container for node 'k3d-demo-agent-9'" in missing.stderr


def test_start_stop_are_idempotent_exit_0(env):
    k3d(env, "cluster", "create", "demo")
    for command in ("stop", "stop", "start", "start"):
        assert k3d(env, "cluster", command, "demo").returncode == 0
    assert "All servers already running." in k3d(env, "cluster", "start", "demo").stdout


def test_docker_down(env):
    k3d(env, "cluster", "create", "demo")
    down = dict(env, K3D_STANDIN_DOCKER_DOWN="1")
    listed = k3d(down, "cluster", "list", "-o", "json")
    assert listed.returncode == 1 and "Cannot connect to the Docker daemon" in listed.stderr and listed.stdout == ""
    deleted = k3d(down, "cluster", "delete", "demo")
    assert deleted.returncode == 0  # the trap: delete "succeeds" although nothing was deleted
    assert "nothing to delete" in deleted.stdout and "Cannot connect to the Docker daemon" in deleted.stderr
    assert k3d(down, "cluster", "start", "demo").returncode == 1
    assert [c["name"] for c in listing(env)] == ["demo"]


def test_boolean_flag_trap(env):
    """`--wait false` leaves wait=true and makes `false` the cluster name, as with k3d (pflag)."""
    assert k3d(env, "cluster", "create", "--wait", "false").returncode == 0
    assert [c["name"] for c in listing(env)] == ["false"]
    two = k3d(env, "cluster", "create", "demo", "--wait", "false")
    assert two.returncode == 1 and "accepts between 0 and 1 arg(s), received 2" in two.stderr
    assert k3d(env, "cluster", "create", "demo", "--wait=false").returncode == 0


def test_config_schema_and_env_expansion(env):
    bad = k3d(env, "cluster", "create", "-c", "-", stdin='{"apiVersion": "k3d.io/v1alpha5", "kind": "Simple", "nope": 1}')
    assert bad.returncode == 1
    assert "Schema Validation failed for config file -: - (root): Additional property nope is not allowed" in bad.stderr
    config = ('apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata: {name: fromfile}\ntoken: "a${HOME}b${ARGOOPS_K3D_DOLLAR}c$$HOMEd"\n'
              'options:\n  runtime:\n    labels: [{label: "k3d-x.y=1", nodeFilters: ["server:*"]}, {label: "team=a", nodeFilters: [all]}]\n')
    done = k3d(dict(env, HOME="/h", ARGOOPS_K3D_DOLLAR="$"), "cluster", "create", "-c", "-", stdin=config)
    assert done.returncode == 0, done.stderr
    cluster = listing(env, "fromfile")[0]
    server = [n for n in cluster["nodes"] if n["role"] == "server"][0]
    assert server["runtimeLabels"]["k3d.cluster.token"] == "a/hb$cHOMEd"  # "$$" is the (empty) variable "$"
    assert server["runtimeLabels"]["k3d-x.y"] == "1" and "team" not in server["runtimeLabels"]  # only k3d* keys listed
    reserved = k3d(env, "cluster", "create", "r", "--runtime-label", "k3d.mine=1@all")
    assert reserved.returncode == 1 and 'runtime label \\"k3d.mine\\" is reserved' in reserved.stderr
    unfiltered = k3d(env, "cluster", "create", "u", "-e", "A=1")
    assert unfiltered.returncode == 1 and "EnvVarMapping 'A=1' lacks a node filter" in unfiltered.stderr


def test_node_create_copies_labels_and_names_nodes_k3d_base_i(env):
    k3d(env, "cluster", "create", "demo", "--runtime-label", "k3d-mark=yes@server:*;agent:*")
    assert k3d(env, "node", "create", "extra", "-c", "demo", "--role", "agent", "--replicas", "2").returncode == 0
    agents = [n for n in listing(env)[0]["nodes"] if n["role"] == "agent"]
    assert sorted(n["name"] for n in agents) == ["k3d-extra-0", "k3d-extra-1"]
    assert all(n["runtimeLabels"]["k3d-mark"] == "yes" for n in agents)
    clash = k3d(env, "node", "create", "extra", "-c", "demo")
    assert clash.returncode == 1 and "is already in use" in clash.stderr


def test_cluster_edit_ports(env):
    k3d(env, "cluster", "create", "demo")
    both = k3d(env, "cluster", "edit", "demo", "--port-add", "1:1@loadbalancer", "--port-delete", "2:2@loadbalancer")
    assert both.returncode == 1 and "Cannot combine port addition and deletion" in both.stderr
    for dummy in range(2):  # re-adding duplicates the mapping, as k3d does
        assert k3d(env, "cluster", "edit", "demo", "--port-add", "8080:80@loadbalancer").returncode == 0
    lb = [n for n in listing(env)[0]["nodes"] if n["role"] == "loadbalancer"][0]
    assert lb["portMappings"]["80/tcp"] == [{"HostIp": "", "HostPort": "8080"}] * 2
    assert k3d(env, "cluster", "edit", "demo", "--port-delete", "8080:80/tcp@loadbalancer").returncode == 0
    lb = [n for n in listing(env)[0]["nodes"] if n["role"] == "loadbalancer"][0]
    assert lb["portMappings"]["80/tcp"] == [{"HostIp": "", "HostPort": "8080"}]


def test_logs_coloured_unless_log_colors_false(env):
    coloured = dict(env)
    coloured.pop("LOG_COLORS")
    assert "\x1b[36mINFO\x1b[0m" in k3d(coloured, "cluster", "create", "demo").stdout
    assert k3d(env, "cluster", "stop", "demo").stdout.startswith('time="')


def test_kubeconfig_get_and_write(env, tmp_path):
    k3d(env, "cluster", "create", "demo", "--kubeconfig-update-default=false")
    assert not os.path.exists(env["KUBECONFIG"])
    text = k3d(env, "kubeconfig", "get", "demo").stdout
    assert text.startswith("---\napiVersion: v1\n") and "current-context: k3d-demo" in text
    assert "user: admin@k3d-demo" in text and "server: https://0.0.0.0:" in text
    written = k3d(env, "kubeconfig", "write", "demo").stdout.strip()
    assert written == str(tmp_path / "xdg" / "kubeconfig-demo.yaml")
    with open(written) as handle:
        assert "---\n" + handle.read() == text
