"""The k3d client (module_utils/k3d.py): parsing and normalising k3d v5.9 listings, masking tokens, failing loudly.

Listings are the recorded examples in tests/standins/listings (shapes from k3d's Go types).
"""
import json
import os
import pathlib
import tempfile

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import k3d
from ansible_collections.argoops.workflows.plugins.module_utils.k3d_spec import SPEC_LABEL

LISTINGS = pathlib.Path(__file__).resolve().parents[3] / "standins" / "listings"
TOKEN = "PbgTHDxZWLxGoXeEkpwr"


def raw(name):
    return k3d.parse_listing((LISTINGS / ("%s.json" % name)).read_text())


def test_empty_listing_is_no_cluster():
    assert raw("cluster_list_empty") == []


@pytest.mark.parametrize("name", ["cluster_list_running", "cluster_list_running_token", "cluster_get_running"])
def test_running_one_server_two_agents_and_lb(name):
    cluster = k3d.normalise_cluster(raw(name)[0])
    assert cluster["name"] == "demo"
    assert cluster["state"] == "running"
    assert (cluster["servers"], cluster["servers_running"], cluster["agents"], cluster["agents_running"]) == (1, 1, 2, 2)
    assert cluster["has_loadbalancer"] is True
    assert cluster["api"] == {"host": "0.0.0.0", "host_ip": "0.0.0.0", "port": 6550}
    assert cluster["ports"] == ["8080:80/tcp"]
    assert cluster["network"] == "k3d-demo"
    assert cluster["image_volume"] == "k3d-demo-images"
    assert cluster["k3d_version"] == "v5.9.0"
    assert cluster["spec"] is None
    # the listing is newest first; we sort by name
    assert [n["name"] for n in cluster["nodes"]] == [
        "k3d-demo-agent-0", "k3d-demo-agent-1", "k3d-demo-server-0", "k3d-demo-serverlb"]
    assert [n["role"] for n in cluster["nodes"]] == ["agent", "agent", "server", "loadbalancer"]
    assert cluster["nodes"][2]["ip"] == "172.18.0.3"


def test_stopped_listing():
    cluster = k3d.normalise_cluster(raw("cluster_list_stopped")[0])
    assert cluster["state"] == "stopped"
    assert (cluster["servers_running"], cluster["agents_running"]) == (0, 0)
    assert all(n["ip"] == "" and n["status"] == "exited" for n in cluster["nodes"])
    assert cluster["api"]["port"] == 6550  # still known from the load balancer's port bindings


def test_partial_state_and_spec_label():
    cluster = raw("cluster_list_running")[0]
    cluster["nodes"][1]["State"] = {"Running": False, "Status": "exited", "Started": ""}
    for node in cluster["nodes"]:
        if node["role"] in ("server", "agent"):
            node["runtimeLabels"][SPEC_LABEL] = "1:image=abc"
    normalised = k3d.normalise_cluster(cluster)
    assert normalised["state"] == "partial"
    assert normalised["agents_running"] == 1
    assert normalised["spec"] == "1:image=abc"


def test_api_port_from_server_label_without_load_balancer():
    cluster = raw("cluster_list_running")[0]
    cluster["nodes"] = [n for n in cluster["nodes"] if n["role"] != "loadbalancer"]
    normalised = k3d.normalise_cluster(cluster)
    assert normalised["has_loadbalancer"] is False
    assert normalised["api"]["port"] == 6550
    assert normalised["ports"] == []


def test_node_counts_by_role_not_by_name():
    cluster = raw("cluster_list_running")[0]
    extra = json.loads(json.dumps(cluster["nodes"][1]))
    extra["name"] = "k3d-demo-agent-2-0"  # k3d node create names nodes k3d-NAME-<i>
    cluster["nodes"].append(extra)
    assert k3d.normalise_cluster(cluster)["agents"] == 3


def test_secrets_found_everywhere_and_masked():
    token_listing = raw("cluster_list_running_token")
    assert k3d.secrets_in(token_listing) == {TOKEN}
    assert k3d.secrets_in(raw("cluster_list_running")) == {TOKEN}  # env and label, without clusterToken
    assert k3d.cluster_token(token_listing[0]) == TOKEN
    normalised = k3d.normalise_cluster(token_listing[0])
    assert TOKEN not in json.dumps(normalised)
    masked = k3d.mask(token_listing, {TOKEN})
    assert TOKEN not in json.dumps(masked)
    assert masked[0]["clusterToken"] == k3d.MASK


@pytest.mark.parametrize("text", [
    "env K3S_TOKEN=unknownsecret1 here",
    '{"k3d.cluster.token":"unknownsecret1"}',
    "label k3d.cluster.token=unknownsecret1",
    '"clusterToken": "unknownsecret1"',
    "k3d node create x --token unknownsecret1",
])
def test_token_patterns_masked_without_knowing_the_token(text):
    assert "unknownsecret1" not in k3d.mask(text)


def test_k3d_messages_from_plain_logs():
    err = ('time="2026-06-10T09:12:41Z" level=info msg="Prep: Network"\n'
           'time="2026-06-10T09:12:41Z" level=fatal msg="Failed to create cluster \'demo\' because a cluster with '
           'that name already exists"\n'
           'time="2026-06-10T09:12:41Z" level=warning msg=plain\n')
    assert k3d.k3d_messages(err) == [
        "Failed to create cluster 'demo' because a cluster with that name already exists", "plain"]


@pytest.mark.parametrize("text, expected", [
    ('{"k3d":"v5.9.0","k3s":"v1.35.5-k3s1"}', {"k3d": "v5.9.0", "k3s": "v1.35.5-k3s1"}),
    ('{"k3d":"v5.5.0","k3s":"v1.27.4-k3s1"}', {"k3d": "v5.5.0", "k3s": "v1.27.4-k3s1"}),
])
def test_version(text, expected):
    assert k3d.parse_version(text) == expected


@pytest.mark.parametrize("text", ['{"k3d":"v5.4.9","k3s":"v1"}', '{"k3d":"dev"}', "k3d version v5.9.0"])
def test_version_rejected(text):
    with pytest.raises(ValueError):
        k3d.parse_version(text)


@pytest.mark.parametrize("text", ["", "{}", '[{"nodes": []}]', "Cannot connect"])
def test_listing_rejects_non_listings(text):
    with pytest.raises(ValueError):
        k3d.parse_listing(text)


class FakeModule:
    """Just what the k3d client uses: run_command (scripted), no_log_values, get_bin_path, check_mode."""

    def __init__(self, replies=(), check_mode=False):
        self.replies = list(replies)
        self.calls = []
        self.cwds = []
        self.no_log_values = set()
        self.check_mode = check_mode

    def run_command(self, cmd, data=None, environ_update=None, cwd=None):
        self.calls.append((cmd, data, environ_update))
        self.cwds.append(cwd)
        return self.replies.pop(0)

    def get_bin_path(self, name):
        return None


def cli(module, tmp_path):
    binary = tmp_path / "k3d"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return k3d.K3dCli(module, str(binary))


DOCKER_DOWN = ('time="2026-06-10T09:12:41Z" level=fatal msg="runtime failed to list nodes: docker failed to get '
               'containers with labels \'map[app:k3d]\': failed to list containers: Cannot connect to the Docker '
               'daemon at unix:///var/run/docker.sock. Is the docker daemon running?"\n')


def test_failing_list_is_an_error_never_absence(tmp_path):
    module = FakeModule([(1, "", DOCKER_DOWN)])
    with pytest.raises(k3d.K3dError) as err:
        cli(module, tmp_path).find("demo")
    assert "Cannot connect to the Docker daemon" in str(err.value)
    assert err.value.details["rc"] == 1
    assert err.value.details["cmd"].endswith("cluster list -o json")
    assert module.calls[0][2]["LOG_COLORS"] == "false"


def test_delete_is_confirmed_from_a_listing(tmp_path):
    still_there = (LISTINGS / "cluster_list_running.json").read_text()
    module = FakeModule([(0, "", ""), (0, still_there, "")])
    with pytest.raises(k3d.K3dError) as err:
        cli(module, tmp_path).delete("demo")
    assert "still listed" in str(err.value)
    assert TOKEN not in json.dumps(err.value.details)


def test_errors_are_masked_with_tokens_seen_before(tmp_path):
    listing = (LISTINGS / "cluster_list_running.json").read_text()
    module = FakeModule([(0, listing, ""), (1, "echo " + TOKEN, 'level=fatal msg="bad token %s"' % TOKEN)])
    k3d_client = cli(module, tmp_path)
    k3d_client.find("demo")
    assert TOKEN in module.no_log_values
    with pytest.raises(k3d.K3dError) as err:
        k3d_client.run(["cluster", "start", "demo"])
    assert TOKEN not in str(err.value) + json.dumps(err.value.details)


def test_missing_binary(tmp_path):
    with pytest.raises(k3d.K3dError, match="k3d was not found in PATH"):
        k3d.K3dCli(FakeModule())
    with pytest.raises(k3d.K3dError, match="not an executable file"):
        k3d.K3dCli(FakeModule(), str(tmp_path / "nope"))


def test_create_passes_the_config_on_stdin_and_protects_dollars(tmp_path):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.argoops.workflows.plugins.module_utils.k3d_spec import argument_spec, build_spec
    module = FakeModule([(0, "", "")])
    spec = build_spec(ArgumentSpecValidator(argument_spec()).validate({"name": "demo", "token": "pa$$word"})
                      .validated_parameters)
    cli(module, tmp_path).apply({"action": "create"}, "demo", spec)
    cmd, data, env = module.calls[0]
    assert cmd[1:] == ["cluster", "create", "demo", "--config", "-"]
    assert "pa$$word" not in " ".join(cmd) and "pa$$word" not in data
    assert "pa${ARGOOPS_K3D_DOLLAR}${ARGOOPS_K3D_DOLLAR}word" in data
    assert env["ARGOOPS_K3D_DOLLAR"] == "$"
    assert module.cwds == ["/"]  # absolute `files` sources resolve there


class LeavingModule(FakeModule):
    """k3d v5.9.0's create: writes the expanded config into $TMPDIR and leaves it there."""

    def run_command(self, cmd, data=None, environ_update=None, cwd=None):
        with open(os.path.join(environ_update["TMPDIR"], "k3d-config-tmp--123"), "w") as handle:
            handle.write(data)
        return super(LeavingModule, self).run_command(cmd, data, environ_update, cwd)


def test_create_gives_k3d_a_private_tmpdir_and_removes_what_it_left(tmp_path):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.argoops.workflows.plugins.module_utils.k3d_spec import argument_spec, build_spec
    module = LeavingModule([(1, "", 'time="x" level=fatal msg="Cluster creation FAILED"\n')])
    spec = build_spec(ArgumentSpecValidator(argument_spec()).validate({"name": "demo", "token": "Secret-1"})
                      .validated_parameters)
    with pytest.raises(k3d.K3dError):  # removed on failure too
        cli(module, tmp_path).apply({"action": "create"}, "demo", spec)
    scratch = module.calls[0][2]["TMPDIR"]
    assert not os.path.exists(scratch) and scratch != tempfile.gettempdir()


def test_kubeconfig_file_written_once_with_mode_0600(tmp_path):
    path = tmp_path / "sub" / "kubeconfig"
    content = "apiVersion: v1\ncontexts:\n- name: k3d-demo\n"
    module = FakeModule()
    assert k3d.sync_kubeconfig(module, str(path), content) is True
    assert path.read_text() == content and (path.stat().st_mode & 0o777) == 0o600
    assert k3d.sync_kubeconfig(module, str(path), content) is False
    path.chmod(0o644)
    assert k3d.sync_kubeconfig(FakeModule(check_mode=True), str(path), content) is True
    assert (path.stat().st_mode & 0o777) == 0o644  # check mode writes nothing
    assert k3d.remove_kubeconfig(module, str(path), "other") is False
    assert k3d.remove_kubeconfig(FakeModule(check_mode=True), str(path), "demo") is True and path.exists()
    assert k3d.remove_kubeconfig(module, str(path), "demo") is True and not path.exists()
