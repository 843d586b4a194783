"""The desired-cluster model (k3d_spec: validation, the v1alpha5 config, the spec fingerprint) and what it
means for an existing cluster (k3d_drift: drift -> actions)."""
import copy
import json
import pathlib

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.argoops.workflows.plugins.module_utils import k3d_drift as d
from ansible_collections.argoops.workflows.plugins.module_utils import k3d_spec as m
from ansible_collections.argoops.workflows.plugins.module_utils.k3d import normalise_cluster, parse_listing
from ansible_collections.argoops.workflows.plugins.module_utils.k3d_schema import schema_errors

LISTINGS = pathlib.Path(__file__).resolve().parents[3] / "standins" / "listings"


def module_params(**given):
    """``given`` with every option and sub-option defaulted, by the validator AnsibleModule runs."""
    checked = ArgumentSpecValidator(m.argument_spec()).validate(given)
    assert not checked.error_messages
    return checked.validated_parameters


def spec(**params):
    return m.build_spec(module_params(**dict({"name": "demo"}, **params)))


def current_for(desired, **changes):
    """The running example listing (1 server, 2 agents, LB, port 8080:80) labelled as created from ``desired``."""
    raw = parse_listing((LISTINGS / "cluster_list_running.json").read_text())[0]
    for node in raw["nodes"]:
        if node["role"] in ("server", "agent"):
            node["runtimeLabels"][m.SPEC_LABEL] = m.label_value(m.fingerprint(desired))
    cluster = normalise_cluster(raw)
    cluster.update(changes)
    return cluster


EXAMPLE = dict(agents=2, ports=[{"port": "8080:80", "node_filters": ["loadbalancer"]}])


def example(**changes):
    """EXAMPLE's params with ``changes`` applied."""
    params = dict(EXAMPLE)
    params.update(changes)
    return params


# ---- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["demo", "argo-demo", "a", "a.b-c", "x" * 32, "0demo"])
def test_valid_names(name):
    assert m.validate_name(name) == name


@pytest.mark.parametrize("name, words", [
    ("", "required"), ("-demo", "RFC 1123"), ("demo-", "RFC 1123"), ("de_mo", "RFC 1123"), ("de mo", "RFC 1123"),
    ("x" * 33, "at most 32"), (None, "required"),
])
def test_invalid_names(name, words):
    with pytest.raises(m.SpecError) as err:
        m.validate_name(name)
    assert str(err.value).startswith("name: ") and words in str(err.value)


COUNTS = {"server": 3, "agent": 2, "loadbalancer": 1}


@pytest.mark.parametrize("text, selected", [
    ("server:0", {("server", 0)}), ("servers:0,2", {("server", 0), ("server", 2)}), ("agent:*", {("agent", 0), ("agent", 1)}),
    ("server:1-", {("server", 1), ("server", 2)}), ("server:-1", {("server", 0), ("server", 1)}),
    ("loadbalancer", {("loadbalancer", 0)}),
    ("all", {("server", 0), ("server", 1), ("server", 2), ("agent", 0), ("agent", 1), ("loadbalancer", 0)}),
])
def test_node_filters(text, selected):
    assert m.select_nodes(text, "opt", COUNTS) == selected


@pytest.mark.parametrize("text, counts, words", [
    ("server", COUNTS, "needs a subset"), ("agents", COUNTS, "needs a subset"), ("server:3", COUNTS, "out of range"),
    ("agent:1-5", COUNTS, "out of bounds"), ("node:0", COUNTS, "not a k3d node filter"), ("server:0:direct", COUNTS, "suffix"),
    ("loadbalancer", {"server": 1, "agent": 0, "loadbalancer": 0}, "disabled"), ("server:a", COUNTS, "suffix ':a'"),
    ("server:0,x", COUNTS, "not a k3d node filter"),
])
def test_bad_node_filters(text, counts, words):
    with pytest.raises(m.SpecError) as err:
        m.select_nodes(text, "env[0].node_filters[0]", counts)
    assert str(err.value).startswith("env[0].node_filters[0]: ") and words in str(err.value)


@pytest.mark.parametrize("text, mappings", [
    ("80", ["80/tcp"]), ("8080:80", ["8080:80/tcp"]), ("0.0.0.0:2746:2746", ["0.0.0.0:2746:2746/tcp"]),
    ("127.0.0.1::80/udp", ["127.0.0.1::80/udp"]), ("8000-8001:80-81", ["8000:80/tcp", "8001:81/tcp"]),
    ("[::1]:8080:80", ["[::1]:8080:80/tcp"]), ("53:53/sctp", ["53:53/sctp"]),
])
def test_port_specs(text, mappings):
    assert m.parse_port(text, "ports[0].port") == mappings


@pytest.mark.parametrize("text, words", [
    ("", "required"), ("80/http", "protocol"), ("a:80", "invalid host port"), ("8080:0", "within 1-65535"),
    ("999.1.1.1:80:80", "not an IPv4"), ("1:2:3:4", "not [HOST:]"), ("8000-8002:80-81", "same length"),
    ("90-80", "ascending"),
])
def test_bad_port_specs(text, words):
    with pytest.raises(m.SpecError) as err:
        m.parse_port(text, "ports[0].port")
    assert str(err.value).startswith("ports[0].port: ") and words in str(err.value)


@pytest.mark.parametrize("params, words", [
    ({"servers": 0}, "servers: must be a whole number >= 1"),
    ({"agents": -1}, "agents: must be a whole number >= 0"),
    ({"env": [{"env_var": "A=1"}]}, "env[0].node_filters: required because the cluster has 2 nodes"),
    ({"k3s_args": [{"arg": "--disable=traefik"}]}, "k3s_args[0].node_filters: required"),
    ({"k3s_args": [{"arg": "--x", "node_filters": ["server:1"]}]}, "index 1 in 'server:1' is out of range"),
    ({"ports": [{"port": "6443:6443"}]}, "is the Kubernetes API"),
    ({"ports": [{"port": "80:80"}, {"port": "80:80"}]}, "mapped twice"),
    ({"ports": [{"port": "80:80", "node_filters": ["agent:*"]}]}, "select no server or agent"),
    ({"ports": [{"port": "80:80", "node_filters": ["server:0:direct", "server:0"]}]}, "mixes :direct"),
    ({"agents": 2, "ports": [{"port": "80", "node_filters": ["agent:*:direct"]}]}, "one node only"),
    ({"ports": [{"port": "80:80"}], "config": {"options": {"k3d": {"disableLoadbalancer": True}}}}, "load balancer, which is disabled"),
    ({"timeout": "1 minute"}, "timeout: '1 minute' is not a Go duration"),
    ({"api_port": {"host_ip": "localhost"}}, "api_port.host_ip"),
    ({"api_port": {"host_port": 70000}}, "api_port.host_port"),
    ({"token": ""}, "token: must not be empty"),
    ({"network": ""}, "network: must not be empty"),
    ({"registry_create": {"name": "bad_name"}}, "registry_create.name"),
    ({"config": {"servers": 3}}, "config.servers: set this with the servers option"),
    ({"config": {"options": {"k3s": {"extraArgs": []}}}}, "config.options.k3s.extraArgs: set this with the k3s_args option"),
    ({"config": {"optoins": {}}}, "config: unknown key 'optoins'"),
    ({"config": {"options": {"k3d": {"disableLoadbalancers": True}}}}, "config.options.k3d: unknown key 'disableLoadbalancers'"),
    ({"config": {"options": {"k3d": {"disableRollback": "yes"}}}}, "config.options.k3d.disableRollback: must be a boolean"),
    ({"config": {"apiVersion": "k3d.io/v1alpha4"}}, "config.apiVersion: must be 'k3d.io/v1alpha5'"),
    ({"config": {"options": {"runtime": {"labels": [{"label": "k3d.mine=1", "nodeFilters": ["all"]}]}}}}, "reserved"),
    ({"config": {"options": {"runtime": {"labels": [{"label": "mine=1"}]}}}}, "config.options.runtime.labels[0].node_filters"),
    ({"config": {"files": [{"source": "a"}]}}, "config.files[0]: missing required key 'destination'"),
    ({"config": {"files": [{"source": "app.yaml", "destination": "/x"}]}}, "config.files[0].source: 'app.yaml' is neither"),
    ({"config": {"files": [{"source": "/a", "destination": "manifests/a"}]}}, "config.files[0].destination: 'manifests/a'"),
    ({"config": {"registries": {"additionalProperties": False}}}, "config.registries: key 'additionalProperties' is not"),
    ({"config": {"subnet": "172.28.0.0"}}, "config.subnet: '172.28.0.0' is not a CIDR prefix"),
    ({"config": {"subnet": "172.28.0.0/40"}}, "config.subnet: '172.28.0.0/40' is not a CIDR prefix"),
    ({"config": {"subnet": "172.28.0.0/16"}, "network": "shared"}, "config.subnet: k3d refuses a subnet for an existing"),
])
def test_bad_specs_name_the_option(params, words):
    with pytest.raises(m.SpecError) as err:
        spec(**params)
    assert words in str(err.value)


def test_volumes_and_single_node_clusters_need_no_filter():
    no_lb = {"options": {"k3d": {"disableLoadbalancer": True}}}
    assert spec(volumes=[{"volume": "/data:/data"}]).volumes[0]["volume"] == "/data:/data"
    assert spec(env=[{"env_var": "A=1"}], config=no_lb).env[0]["env_var"] == "A=1"


def test_files_take_absolute_sources_or_content_and_k3s_shortcuts():
    files = [{"source": "/srv/app.yaml", "destination": "k3s-manifests/app.yaml", "nodeFilters": ["server:*"]},
             {"source": "kind: ConfigMap\n", "destination": "/var/lib/x.yaml", "nodeFilters": ["server:*"]}]
    assert spec(config={"files": files}).config["files"] == files


def test_open_parts_of_the_schema_stay_open():
    config = {"options": {"runtime": {"somethingNew": 1}}, "registries": {"somethingNew": 1},
              "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["a"], "extra": True}]}
    assert schema_errors(config) == []


# ---- the config ----------------------------------------------------------------------------------

def test_render_config_minimal():
    desired = spec()
    cfg = m.render_config(desired)
    assert schema_errors(cfg) == []
    assert cfg["apiVersion"] == "k3d.io/v1alpha5" and cfg["kind"] == "Simple"
    assert cfg["metadata"] == {"name": "demo"} and (cfg["servers"], cfg["agents"]) == (1, 0)
    assert "image" not in cfg and "token" not in cfg and "ports" not in cfg
    assert cfg["options"]["k3d"] == {"wait": True}
    assert cfg["options"]["kubeconfig"] == {"updateDefaultKubeconfig": True, "switchCurrentContext": True}
    (label,) = cfg["options"]["runtime"]["labels"]
    assert label["nodeFilters"] == ["server:*", "agent:*"]
    assert label["label"] == "%s=%s" % (m.SPEC_LABEL, m.label_value(m.fingerprint(desired)))


def test_render_config_everything():
    desired = spec(
        servers=3, agents=2, image="rancher/k3s:v1.34.1-k3s1", token="t0k",
        api_port={"host": "k3d.local", "host_ip": "127.0.0.1", "host_port": 6550},
        ports=[{"port": "2746:2746", "node_filters": ["loadbalancer"]}, {"port": "9090:90"}],
        env=[{"env_var": "HTTP_PROXY=http://p:3128", "node_filters": ["server:*", "agent:*"]}],
        volumes=[{"volume": "/srv:/srv", "node_filters": ["agent:0"]}],
        k3s_args=[{"arg": "--disable=traefik", "node_filters": ["server:*"]}],
        network="shared", registry_create={"name": "reg", "host_port": "5000"}, registry_use=["k3d-other:5000"],
        wait=False, timeout="2m", kubeconfig={"update_default": False, "switch_context": True},
        config={"subnet": "auto", "options": {"runtime": {"labels": [{"label": "team=a", "nodeFilters": ["all"]}]}}})
    cfg = m.render_config(desired)
    assert schema_errors(cfg) == []
    assert cfg["kubeAPI"] == {"host": "k3d.local", "hostIP": "127.0.0.1", "hostPort": "6550"}
    assert cfg["ports"] == [{"port": "2746:2746", "nodeFilters": ["loadbalancer"]}, {"port": "9090:90"}]
    assert cfg["env"] == [{"envVar": "HTTP_PROXY=http://p:3128", "nodeFilters": ["server:*", "agent:*"]}]
    assert cfg["volumes"] == [{"volume": "/srv:/srv", "nodeFilters": ["agent:0"]}]
    assert cfg["options"]["k3s"] == {"extraArgs": [{"arg": "--disable=traefik", "nodeFilters": ["server:*"]}]}
    assert cfg["registries"] == {"create": {"name": "reg", "hostPort": "5000"}, "use": ["k3d-other:5000"]}
    assert cfg["options"]["k3d"] == {"wait": False, "timeout": "2m"}
    assert cfg["options"]["kubeconfig"] == {"updateDefaultKubeconfig": False, "switchCurrentContext": True}
    assert [lab["label"].split("=")[0] for lab in cfg["options"]["runtime"]["labels"]] == [m.SPEC_LABEL, "team"]
    assert cfg["subnet"] == "auto" and cfg["network"] == "shared" and cfg["token"] == "t0k"
    assert desired.proxied_ports == ["2746:2746/tcp", "9090:90/tcp"]


def test_config_text_is_json_with_dollars_protected():
    text = m.config_text(m.render_config(spec(env=[{"env_var": "PASS=a$b", "node_filters": ["server:0"]}])))
    assert "$b" not in text and "a${ARGOOPS_K3D_DOLLAR}b" in text
    assert json.loads(text.replace("${ARGOOPS_K3D_DOLLAR}", "$"))["env"][0]["envVar"] == "PASS=a$b"


def test_fingerprint_tracks_only_immutable_settings():
    base = m.fingerprint(spec())
    assert m.fingerprint(spec()) == base
    for params in ({"wait": False}, {"timeout": "5m"}, {"kubeconfig": {"update_default": False}}, {"agents": 3},
                   {"ports": [{"port": "80:80"}]}, {"config": {"options": {"k3d": {"disableRollback": True}}}}):
        assert m.fingerprint(spec(**params)) == base, params
    for field, params in (("image", {"image": "rancher/k3s:v1.33.0-k3s1"}),
                          ("env", {"env": [{"env_var": "A=1", "node_filters": ["server:0"]}]}),
                          ("volumes", {"volumes": [{"volume": "/a:/a"}]}),
                          ("k3s_args", {"k3s_args": [{"arg": "--x", "node_filters": ["server:0"]}]}),
                          ("registries", {"registry_use": ["r:5000"]}),
                          ("direct_ports", {"ports": [{"port": "80:80", "node_filters": ["server:0:direct"]}]}),
                          ("config", {"config": {"subnet": "10.0.0.0/16"}})):
        changed = m.fingerprint(spec(**params))
        assert [k for k in base if base[k] != changed[k]] == [field]


def test_label_round_trip():
    fields = m.fingerprint(spec())
    assert m.parse_label(m.label_value(fields)) == fields
    assert m.parse_label(None) is None and m.parse_label("2:x=y") is None


# ---- drift -> actions ----------------------------------------------------------------------------

def test_absent_cluster():
    desired = spec(**EXAMPLE)
    assert d.plan(desired, None, "present") == [{"action": "create"}]
    assert d.plan(desired, None, "started") == [{"action": "create"}]
    assert d.plan(desired, None, "stopped") == [{"action": "create"}, {"action": "stop"}]
    assert d.plan(desired, None, "absent") == []


def test_matching_cluster_needs_nothing():
    desired = spec(**EXAMPLE)
    assert d.plan(desired, current_for(desired), "present") == []
    assert d.plan(desired, current_for(desired), "started") == []
    assert d.plan(desired, current_for(desired), "absent") == [{"action": "delete"}]


def test_scale_agents_up_and_down():
    desired = spec(**EXAMPLE)
    current = current_for(desired)
    up = d.plan(spec(**example(agents=4)), current, "present")
    assert up == [{"action": "node_create", "role": "agent", "count": 2, "basename": "demo-agent-2"}]
    down = d.plan(spec(**example(agents=1)), current, "present")
    # the newest agent goes first (agent-1 was created after agent-0)
    assert down == [{"action": "node_delete", "role": "agent", "nodes": ["k3d-demo-agent-1"]}]


def test_new_node_names_do_not_collide():
    desired = spec(**EXAMPLE)
    current = current_for(desired)
    current["nodes"].append(dict(current["nodes"][0], name="k3d-demo-agent-3-0", created="2030-01-01T00:00:00Z"))
    current["agents"] = 3
    (action,) = d.plan(spec(**example(agents=5)), current, "present")
    assert action["basename"] == "demo-agent-4" and action["count"] == 2


def test_servers_scale_in_place_only_with_embedded_etcd():
    one = spec(**EXAMPLE)
    with pytest.raises(d.DriftError) as err:
        d.plan(spec(**example(servers=3)), current_for(one), "present")
    assert err.value.differences[0]["option"] == "servers"
    three = spec(**example(servers=3))
    current = current_for(three, servers=3)
    current["nodes"] += [
        {"name": "k3d-demo-server-1", "role": "server", "created": "2026-06-10T09:12:40Z", "server_init": False},
        {"name": "k3d-demo-server-2", "role": "server", "created": "2026-06-10T09:12:40.5Z", "server_init": False}]
    for node in current["nodes"]:
        if node["name"] == "k3d-demo-server-0":
            node["server_init"] = True
    assert d.plan(spec(**example(servers=1)), current, "present") == [
        {"action": "node_delete", "role": "server", "nodes": ["k3d-demo-server-2", "k3d-demo-server-1"]}]


def test_ports_are_diffed_not_re_added():
    desired = spec(**EXAMPLE)
    current = current_for(desired)
    wanted = spec(agents=2, ports=[{"port": "2746:2746", "node_filters": ["loadbalancer"]}])
    assert d.plan(wanted, current, "present") == [
        {"action": "port_delete", "ports": ["8080:80/tcp"]}, {"action": "port_add", "ports": ["2746:2746/tcp"]}]
    both = spec(agents=2, ports=EXAMPLE["ports"] + [{"port": "2746:2746"}])
    assert d.plan(both, current, "present") == [{"action": "port_add", "ports": ["2746:2746/tcp"]}]
    duplicated = dict(current, ports=["8080:80/tcp", "8080:80/tcp"])
    assert d.plan(desired, duplicated, "present") == [{"action": "port_delete", "ports": ["8080:80/tcp"]}]


@pytest.mark.parametrize("params, option", [
    ({"image": "rancher/k3s:v1.33.0-k3s1"}, "image"),
    ({"env": [{"env_var": "A=1", "node_filters": ["server:0"]}]}, "env"),
    ({"k3s_args": [{"arg": "--disable=traefik", "node_filters": ["server:*"]}]}, "k3s_args"),
    ({"volumes": [{"volume": "/a:/a", "node_filters": ["all"]}]}, "volumes"),
    ({"config": {"subnet": "10.1.0.0/16"}}, "config"),
    ({"network": "elsewhere"}, "network"),
    ({"api_port": {"host_port": 7000}}, "api_port.host_port"),
    ({"api_port": {"host_ip": "127.0.0.1"}}, "api_port.host_ip"),
    ({"config": {"options": {"k3d": {"disableLoadbalancer": True}}}, "ports": []}, "config.options.k3d.disableLoadbalancer"),
])
def test_immutable_drift_fails_with_the_difference_or_recreates(params, option):
    desired = spec(**EXAMPLE)
    current = current_for(desired)
    changed = spec(**example(**params))
    with pytest.raises(d.DriftError) as err:
        d.plan(changed, current, "present")
    assert [d["option"] for d in err.value.differences] == [option]
    assert option in str(err.value) and "recreate: true" in str(err.value)
    assert d.plan(changed, current, "present", recreate=True) == [{"action": "delete"}, {"action": "create"}]
    assert d.plan(changed, current, "stopped", recreate=True)[-1] == {"action": "stop"}


def test_token_drift_never_shows_tokens():
    desired = spec(**example(token="NewSecretToken"))
    current = current_for(desired)
    with pytest.raises(d.DriftError) as err:
        d.plan(desired, current, "present", current_token="PbgTHDxZWLxGoXeEkpwr")
    assert err.value.differences[0]["option"] == "token"
    text = str(err.value) + json.dumps(err.value.differences)
    assert "NewSecretToken" not in text and "PbgTHDxZWLxGoXeEkpwr" not in text
    assert d.plan(desired, current, "present", current_token="NewSecretToken") == []


def test_cluster_not_created_by_us_is_compared_on_what_the_listing_shows():
    desired = spec(**example(image="rancher/k3s:v1.33.0-k3s1"))
    current = current_for(desired, spec=None)
    assert d.plan(desired, current, "present") == []


def test_start_stop_from_the_listing():
    desired = spec(**EXAMPLE)
    stopped = current_for(desired, state="stopped")
    assert d.plan(desired, stopped, "started") == [{"action": "start"}]
    assert d.plan(desired, stopped, "stopped") == []
    assert d.plan(desired, stopped, "present") == []
    assert d.plan(desired, current_for(desired), "stopped") == [{"action": "stop"}]
    assert d.plan(desired, current_for(desired, state="partial"), "stopped") == [{"action": "stop"}]
    assert d.plan(desired, current_for(desired, state="partial"), "started") == [{"action": "start"}]


def test_changes_on_a_stopped_cluster_need_state_started():
    desired = spec(**EXAMPLE)
    more = spec(**example(agents=3))
    with pytest.raises(m.SpecError, match="use state: started"):
        d.plan(more, current_for(desired, state="stopped"), "present")
    assert [a["action"] for a in d.plan(more, current_for(desired, state="stopped"), "started")] == ["start", "node_create"]


def test_diff_views():
    desired = spec(**EXAMPLE)
    current = current_for(desired)
    before = d.comparable(current)
    assert before == {"state": "running", "servers": 1, "agents": 2, "load_balancer": True, "ports": ["8080:80/tcp"],
                      "network": "k3d-demo", "api_port": 6550, "spec": m.fingerprint(desired)}
    more = spec(**example(agents=3))
    after = d.predict(more, current, d.plan(more, current, "stopped"), "stopped")
    assert after == dict(before, agents=3, state="stopped")
    created = d.predict(desired, None, [{"action": "create"}], "present")
    assert created["state"] == "running" and created["api_port"] == "(chosen by k3d)"
    assert d.comparable(None) == d.predict(desired, current, [{"action": "delete"}], "absent") == {"state": "absent"}


def test_describe():
    assert d.describe({"action": "create"}, "demo") == "create cluster demo"
    assert "add 2 agent node(s)" in d.describe({"action": "node_create", "role": "agent", "count": 2, "basename": "b"}, "demo")
    assert d.describe({"action": "port_add", "ports": ["1:1/tcp"]}, "demo") == "add load balancer port(s) 1:1/tcp"


def test_argument_spec_defaults_sub_options():
    filled = module_params(name="x", ports=[{"port": "1"}], kubeconfig={"path": "/k"})
    assert filled["ports"] == [{"port": "1", "node_filters": []}]
    assert filled["kubeconfig"] == {"path": "/k", "update_default": True, "switch_context": True}
    assert filled["state"] == "present" and filled["servers"] == 1 and filled["config"] == {}
    assert copy.deepcopy(filled) == filled
