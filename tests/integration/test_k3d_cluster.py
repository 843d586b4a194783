"""k3d_cluster / k3d_cluster_info run THE WAY ANSIBLE DOES (ansible-playbook, collection from
.build/collections) against the k3d STAND-IN (tests/standins/k3d; no Docker engine here).

Every expectation about the cluster is checked twice: in the module's result and in the stand-in's
own ``k3d cluster list -o json`` read independently of the module.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "standins"))

import harness  # noqa: E402  pylint: disable=wrong-import-position
from harness import listing, nodes_by_role, playbook  # noqa: E402  pylint: disable=wrong-import-position

TOKEN = "Integration-Token-31337"


@pytest.fixture
def env(tmp_path):
    return harness.environment(tmp_path)


def k3d_task(title, **args):
    args.setdefault("name", "demo")
    args["k3d_binary"] = harness.STANDIN
    return {"name": title, "argoops.workflows.k3d_cluster": args, "ignore_errors": True}


def list_task(name):
    return {"name": name, "ansible.builtin.command": harness.STANDIN + " cluster list -o json", "changed_when": False}


def listed(result):
    return json.loads(result["stdout"])


def test_lifecycle_changed_only_when_the_listing_differs(env, tmp_path):
    ui = [{"port": "2746:2746", "node_filters": ["loadbalancer"]}]
    tasks = [
        k3d_task("create", agents=1), list_task("after create"),
        k3d_task("no-op", agents=1),
        k3d_task("scale 1->3", agents=3), list_task("after 3"),
        k3d_task("scale 3->2", agents=2), list_task("after 2"),
        k3d_task("no-op at 2", agents=2),
        k3d_task("add port", agents=2, ports=ui), list_task("after port add"),
        k3d_task("port no-op", agents=2, ports=ui),
        k3d_task("remove port", agents=2), list_task("after port remove"),
        k3d_task("stop", agents=2, state="stopped"), list_task("after stop"),
        k3d_task("stop again", agents=2, state="stopped"),
        k3d_task("start", agents=2, state="started"), list_task("after start"),
        k3d_task("start again", agents=2, state="started"),
        k3d_task("absent", state="absent"), list_task("after absent"),
        k3d_task("absent again", state="absent"),
    ]
    results, stats, dummy = playbook(env, tmp_path, tasks)
    changed = dict((name, r.get("changed")) for name, r in results.items() if not name.startswith("after"))
    assert changed == {
        "create": True, "no-op": False, "scale 1->3": True, "scale 3->2": True, "no-op at 2": False,
        "add port": True, "port no-op": False, "remove port": True, "stop": True, "stop again": False,
        "start": True, "start again": False, "absent": True, "absent again": False}
    assert stats["failures"] == 0 and stats["ignored"] == 0

    created = listed(results["after create"])[0]
    assert nodes_by_role(created, "agent") == ["k3d-demo-agent-0"] and nodes_by_role(created, "server") == ["k3d-demo-server-0"]
    assert results["create"]["cluster"]["api"]["port"] == int(
        next(n for n in created["nodes"] if n["role"] == "loadbalancer")["portMappings"]["6443/tcp"][0]["HostPort"])
    # scaling adds k3d-<base>-<i> nodes and removes the newest: counted by role, not by name
    assert len(nodes_by_role(listed(results["after 3"])[0], "agent")) == 3
    after_two = listed(results["after 2"])[0]
    assert nodes_by_role(after_two, "agent") == ["k3d-demo-agent-0", "k3d-demo-agent-1-0"]
    assert results["scale 1->3"]["actions"] == ["add 2 agent node(s) to cluster demo (k3d node create demo-agent-1)"]
    assert results["scale 3->2"]["actions"] == ["delete agent node(s) k3d-demo-agent-1-1"]

    def lb_ports(result):
        lb = next(n for n in listed(result)[0]["nodes"] if n["role"] == "loadbalancer")
        return dict((k, v) for k, v in lb["portMappings"].items() if k != "6443/tcp")

    assert lb_ports(results["after port add"]) == {"2746/tcp": [{"HostIp": "", "HostPort": "2746"}]}
    assert results["port no-op"]["cluster"]["ports"] == ["2746:2746/tcp"]
    assert lb_ports(results["after port remove"]) == {}
    assert all(not n["State"]["Running"] for n in listed(results["after stop"])[0]["nodes"])
    assert all(n["State"]["Running"] for n in listed(results["after start"])[0]["nodes"])
    assert listed(results["after absent"]) == []


def test_immutable_drift_fails_with_differences_then_recreates(env, tmp_path):
    tasks = [
        k3d_task("create", image="rancher/k3s:v1.34.1-k3s1", k3s_args=[{"arg": "--disable=traefik", "node_filters": ["server:*"]}]),
        list_task("before"),
        k3d_task("drift", image="rancher/k3s:v1.35.5-k3s1"),
        list_task("after failure"),
        k3d_task("recreate", image="rancher/k3s:v1.35.5-k3s1", recreate=True),
        list_task("after recreate"),
        k3d_task("no-op after recreate", image="rancher/k3s:v1.35.5-k3s1"),
    ]
    results, stats, dummy = playbook(env, tmp_path, tasks)
    drift = results["drift"]
    assert drift["failed"] is True and drift["changed"] is False
    assert [d["option"] for d in drift["differences"]] == ["image", "k3s_args"]
    assert "recreate: true" in drift["msg"] and "rancher/k3s:v1.35.5-k3s1" in drift["msg"]
    assert listed(results["after failure"]) == listed(results["before"])  # nothing touched
    assert results["recreate"]["changed"] is True
    assert results["recreate"]["actions"] == ["delete cluster demo", "create cluster demo"]
    before = listed(results["before"])[0]
    after = listed(results["after recreate"])[0]
    server = [n for n in after["nodes"] if n["role"] == "server"][0]
    assert server["created"] != [n for n in before["nodes"] if n["role"] == "server"][0]["created"]
    assert "--disable=traefik" not in server["Cmd"]
    assert results["no-op after recreate"]["changed"] is False
    assert stats["ignored"] == 1


def test_docker_down_fails_and_loses_nothing(env, tmp_path):
    down = {"K3D_STANDIN_DOCKER_DOWN": "1"}
    tasks = [k3d_task("create")]
    for state in ("present", "absent", "started", "stopped"):
        task = k3d_task("down " + state, state=state)
        task["environment"] = down
        tasks.append(task)
    info = {"name": "info down", "argoops.workflows.k3d_cluster_info": {"k3d_binary": harness.STANDIN},
            "environment": down, "ignore_errors": True}
    tasks += [info, list_task("after")]
    results, dummy, dummy2 = playbook(env, tmp_path, tasks)
    for name in ("down present", "down absent", "down started", "down stopped", "info down"):
        assert results[name]["failed"] is True, name
        assert "Cannot connect to the Docker daemon" in results[name]["msg"], name
        assert results[name]["rc"] == 1 and results[name]["cmd"].endswith("cluster list -o json")
    assert [c["name"] for c in listed(results["after"])] == ["demo"]


def test_check_mode_predicts_and_writes_nothing(env, tmp_path):
    state_file = tmp_path / "k3d-state.json"
    results, dummy, dummy2 = playbook(env, tmp_path, [k3d_task("create", agents=1)])
    before = state_file.read_bytes()
    tasks = [
        k3d_task("scale", agents=3, ports=[{"port": "80:80"}], kubeconfig={"path": str(tmp_path / "kc")}),
        k3d_task("stop", state="stopped", agents=1),
        k3d_task("delete", state="absent"),
        k3d_task("other", name="other"),
    ]
    results, dummy, dummy2 = playbook(env, tmp_path, tasks, "--check")
    assert all(r["changed"] is True for r in results.values())
    assert results["scale"]["actions"][:2] == [
        "add 2 agent node(s) to cluster demo (k3d node create demo-agent-1)", "add load balancer port(s) 80:80/tcp"]
    assert state_file.read_bytes() == before
    assert not (tmp_path / "kc").exists()
    results, dummy, dummy2 = playbook(env, tmp_path, [k3d_task("same", agents=1)], "--check")
    assert results["same"]["changed"] is False


def test_diff_mode_shows_before_and_after(env, tmp_path):
    playbook(env, tmp_path, [k3d_task("create")])
    results, dummy, dummy2 = playbook(env, tmp_path, [k3d_task("scale", agents=2, state="stopped")], "--diff")
    diff = results["scale"]["diff"]
    assert (diff["before"]["agents"], diff["after"]["agents"]) == (0, 2)
    assert (diff["before"]["state"], diff["after"]["state"]) == ("running", "stopped")
    assert diff["before"]["spec"] == diff["after"]["spec"]


def test_token_never_in_output(env, tmp_path):
    tasks = [
        k3d_task("create", token=TOKEN, agents=1, kubeconfig={"path": str(tmp_path / "kc")}),
        k3d_task("scale", token=TOKEN, agents=2),
        k3d_task("wrong token", token="Some-Other-Token-42", agents=2),
        {"name": "info", "argoops.workflows.k3d_cluster_info": {"k3d_binary": harness.STANDIN}},
    ]
    results, dummy, output = playbook(env, tmp_path, tasks, "--diff", "-vvv")
    assert results["wrong token"]["failed"] is True and results["wrong token"]["differences"][0]["option"] == "token"
    assert results["scale"]["changed"] is True and len(results["info"]["clusters"][0]["nodes"]) == 4
    stand_in_listing = harness.k3d(env, "cluster", "list", "-o", "json").stdout
    assert stand_in_listing.count(TOKEN) > 3  # the listing really carries it (env, labels)...
    assert TOKEN not in output  # ...the modules never show it, not even with -vvv and --diff
    assert "Some-Other-Token-42" not in output


def test_kubeconfig_file_and_default_kubeconfig(env, tmp_path):
    path = tmp_path / "out" / "kubeconfig-demo.yaml"
    tasks = [
        k3d_task("create", kubeconfig={"path": str(path), "update_default": False}),
        k3d_task("again", kubeconfig={"path": str(path), "update_default": False}),
        k3d_task("other with default", name="other"),
    ]
    results, dummy, dummy2 = playbook(env, tmp_path, tasks)
    assert results["create"]["changed"] is True and results["create"]["kubeconfig"] == str(path)
    assert results["again"]["changed"] is False
    assert (path.stat().st_mode & 0o777) == 0o600
    assert harness.k3d(env, "kubeconfig", "get", "demo").stdout == "---\n" + path.read_text()
    default = (tmp_path / "default-kubeconfig").read_text()
    assert "k3d-other" in default and "k3d-demo" not in default
    results, dummy, dummy2 = playbook(env, tmp_path, [
        k3d_task("delete", state="absent", kubeconfig={"path": str(path)}), k3d_task("delete other", name="other", state="absent")])
    assert results["delete"]["changed"] is True and not path.exists()
    assert "k3d-other" not in (tmp_path / "default-kubeconfig").read_text()


def test_ad_hoc_module_call(env, tmp_path):
    """`ansible localhost -m argoops.workflows.k3d_cluster` works the same as a play."""
    import subprocess  # pylint: disable=import-outside-toplevel
    done = subprocess.run(
        [os.path.join(harness.BIN, "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m",
         "argoops.workflows.k3d_cluster", "-a", "name=adhoc agents=1 k3d_binary=%s" % harness.STANDIN],
        env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CHANGED" in done.stdout
    assert nodes_by_role(listing(env, "adhoc")[0], "agent") == ["k3d-adhoc-agent-0"]
