"""k3d_cluster and k3d_cluster_info main(), in-process, against the k3d stand-in (tests/standins/k3d).

The stand-in replaces k3d only because no Docker engine runs here; everything else is the real module
code path: AnsibleModule argument handling, run_command, check mode, diff mode, no_log masking.
"""
import json
import os
import pathlib
import sys

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.argoops.workflows.plugins.modules import k3d_cluster, k3d_cluster_info

STANDIN = str(pathlib.Path(__file__).resolve().parents[3] / "standins" / "k3d")
TOKEN = "Unit-Test-Token-4711"


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """A fresh stand-in state file, and a private default kubeconfig so nothing touches ~/.kube."""
    monkeypatch.setenv("K3D_STANDIN_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "default-kubeconfig"))
    monkeypatch.delenv("K3D_STANDIN_DOCKER_DOWN", raising=False)
    # the stand-in's "#!/usr/bin/env python" should find this interpreter, not a slower shim
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    return tmp_path


def run(module, capsys, **args):
    args.setdefault("k3d_binary", STANDIN)
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def cluster(capsys, **args):
    return run(k3d_cluster, capsys, **args)


def test_create_then_no_op(standin, capsys):
    result, dummy = cluster(capsys, name="demo", agents=2, ports=[{"port": "8080:80", "node_filters": ["loadbalancer"]}])
    assert result["changed"] is True and not result.get("failed")
    assert result["actions"] == ["create cluster demo"]
    assert result["cluster"]["agents"] == 2 and result["cluster"]["ports"] == ["8080:80/tcp"]
    assert result["context"] == "k3d-demo" and result["api_port"] == result["cluster"]["api"]["port"]
    assert result["k3d_version"] == {"k3d": "v5.9.0", "k3s": "v1.35.5-k3s1"}
    again, dummy = cluster(capsys, name="demo", agents=2, ports=[{"port": "8080:80", "node_filters": ["loadbalancer"]}])
    assert again["changed"] is False and again["actions"] == []


def test_check_mode_writes_nothing(standin, capsys):
    result, dummy = cluster(capsys, name="demo", _ansible_check_mode=True, kubeconfig={"path": str(standin / "kc")})
    assert result["changed"] is True
    assert result["actions"] == ["create cluster demo", "write kubeconfig %s" % (standin / "kc")]
    assert not (standin / "state.json").exists() and not (standin / "kc").exists()
    info, dummy = run(k3d_cluster_info, capsys)
    assert info["clusters"] == []


def test_diff_mode(standin, capsys):
    cluster(capsys, name="demo")
    result, dummy = cluster(capsys, name="demo", agents=1, _ansible_diff=True)
    assert result["diff"]["before"]["agents"] == 0 and result["diff"]["after"]["agents"] == 1
    assert result["cluster"]["agents"] == 1


def test_token_never_in_output(standin, capsys):
    dummy, out = cluster(capsys, name="demo", token=TOKEN, agents=1, _ansible_diff=True)
    assert TOKEN not in out
    dummy, out = cluster(capsys, name="demo", token="Another-Token-0815", agents=1)
    assert "token" in json.loads(out)["msg"] and json.loads(out)["failed"] is True
    assert TOKEN not in out and "Another-Token-0815" not in out
    dummy, out = run(k3d_cluster_info, capsys)
    assert TOKEN not in out


def test_k3d_runs_only_as_often_as_needed(standin, capsys, monkeypatch):
    from ansible.module_utils.basic import AnsibleModule
    calls = []
    real = AnsibleModule.run_command

    def recording(self, args, *rest, **kwargs):
        calls.append(" ".join(args[1:]))
        return real(self, args, *rest, **kwargs)

    monkeypatch.setattr(AnsibleModule, "run_command", recording)

    def commands(**args):
        del calls[:]
        result, dummy = cluster(capsys, name="demo", **args)
        assert not result.get("failed"), result
        return list(calls)

    listing = "cluster list -o json"
    assert commands() == ["version -o json", listing, "cluster create demo --config -", listing]
    assert commands() == ["version -o json", listing]
    assert commands(kubeconfig={"path": str(standin / "kc")}) == ["version -o json", listing, "kubeconfig get demo"]
    # the delete is confirmed from one listing, which is also the result's
    assert commands(state="absent") == ["version -o json", listing, "cluster delete demo", listing]
    assert commands(state="absent") == ["version -o json", listing]


def test_bad_input_fails_before_anything_runs(standin, capsys):
    result, dummy = cluster(capsys, name="Bad_Name")
    assert result["failed"] is True and result["msg"].startswith("name: ")
    result, dummy = cluster(capsys, name="demo", config={"options": {"k3d": {"nope": True}}})
    assert result["failed"] is True and "config.options.k3d: unknown key 'nope'" in result["msg"]
    assert not (standin / "state.json").exists()


def test_docker_down_fails_also_for_absent(standin, capsys, monkeypatch):
    cluster(capsys, name="demo")
    monkeypatch.setenv("K3D_STANDIN_DOCKER_DOWN", "1")
    for state in ("present", "absent", "started"):
        result, dummy = cluster(capsys, name="demo", state=state)
        assert result["failed"] is True, state
        assert "Cannot connect to the Docker daemon" in result["msg"] and result["rc"] == 1
    info, dummy = run(k3d_cluster_info, capsys)
    assert info["failed"] is True and "Cannot connect to the Docker daemon" in info["msg"]
    monkeypatch.delenv("K3D_STANDIN_DOCKER_DOWN")
    info, dummy = run(k3d_cluster_info, capsys, name="demo")
    assert [c["name"] for c in info["clusters"]] == ["demo"]  # nothing was deleted


def test_info_lists_all_or_one(standin, capsys):
    cluster(capsys, name="b")
    cluster(capsys, name="a", state="stopped")
    info, dummy = run(k3d_cluster_info, capsys)
    assert [(c["name"], c["state"]) for c in info["clusters"]] == [("a", "stopped"), ("b", "running")]
    info, dummy = run(k3d_cluster_info, capsys, name="zzz")
    assert info["clusters"] == [] and info["changed"] is False


def test_missing_k3d(standin, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(standin / "empty"))
    result, dummy = run(k3d_cluster_info, capsys, k3d_binary=None)
    assert result["failed"] is True and "k3d was not found in PATH" in result["msg"]
