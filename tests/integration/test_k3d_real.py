"""The REAL k3d v5.9.0 binary wherever no Docker engine is needed (tests/realk3d/README.md).

No Docker engine answers here, and every run points DOCKER_HOST at a closed socket or port, so nothing
can be created even where Docker runs. Real k3d decides: what ``version -o json`` prints, how its
commands fail without Docker, and whether a config gets past all of its checks -- schema, transform,
validation, network preparation -- to its first Docker call. The k3d STAND-IN (tests/standins) and
the collection's ``k3d_schema``/``k3d_spec`` are held to those answers.
"""
import copy
import json
import os
import subprocess
import sys

import pytest
import yaml

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "standins"))
sys.path.insert(0, os.path.join(TESTS, "realk3d"))

import harness  # noqa: E402  pylint: disable=wrong-import-position
import realk3d  # noqa: E402  pylint: disable=wrong-import-position
from k3d_standin import config as standin_config  # noqa: E402  pylint: disable=wrong-import-position

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible_collections.argoops.workflows.plugins.module_utils import k3d, k3d_schema, k3d_spec  # noqa: E402
from ansible_collections.argoops.workflows.plugins.modules import k3d_cluster  # noqa: E402

NETWORK_DOWN = "failed to check for duplicate docker networks: docker failed to list networks: Cannot connect"
ROLLBACK_FAILED = "Cluster creation FAILED, also FAILED to rollback changes!"
TOKEN = "Real-K3d-Token-4711"


@pytest.fixture(scope="module")
def k3d_bin():
    try:
        return realk3d.binary(lambda message: sys.stderr.write("[k3d] %s\n" % message))
    except (RuntimeError, OSError) as exc:
        pytest.skip("the real k3d binary could not be built here (%s)" % str(exc).splitlines()[0])


@pytest.fixture
def closed(tmp_path):
    return realk3d.closed_unix_socket(tmp_path)


def standin_env(env, tmp_path):
    """The stand-in with its Docker down, everything else as the real run gets it."""
    return dict(env, K3D_STANDIN_DOCKER_DOWN="1", K3D_STANDIN_STATE=str(tmp_path / "standin-state.json"),
                PATH=harness.BIN + os.pathsep + env.get("PATH", ""))


def module_params(**given):
    checked = ArgumentSpecValidator(k3d_spec.argument_spec()).validate(dict({"name": "demo"}, **given))
    assert not checked.error_messages, checked.error_messages
    return checked.validated_parameters


# ---- version ------------------------------------------------------------------------------------

def test_version_is_what_the_standin_prints_and_the_module_accepts(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed)
    for args in (["version", "-o", "json"], ["version"]):
        real = realk3d.run(k3d_bin, env, *args)
        stand = harness.k3d(standin_env(env, tmp_path), *args)
        assert real.returncode == 0 and real.stderr == ""
        assert (stand.returncode, stand.stdout, stand.stderr) == (real.returncode, real.stdout, real.stderr)
    parsed = k3d.parse_version(realk3d.run(k3d_bin, env, "version", "-o", "json").stdout)
    assert parsed["k3d"] == realk3d.version()  # the ldflags stamp took (unstamped k3d says v5-dev)
    assert parsed["k3s"].startswith("v1.") and parsed["k3s"].endswith("-k3s1")


# ---- without Docker -----------------------------------------------------------------------------

WITHOUT_DOCKER = [
    "version x", "cluster list", "cluster list -o json", "cluster list -o json --token", "cluster list demo",
    "cluster get demo -o json", "cluster delete demo", "cluster delete", "cluster delete a b", "cluster delete --all",
    "cluster start demo", "cluster stop demo", "cluster start --all", "cluster edit demo --port-add 1:1@loadbalancer",
    "node delete k3d-demo-agent-0", "node delete", "kubeconfig get demo", "kubeconfig get", "kubeconfig write demo",
    "cluster create demo", "cluster create demo --no-rollback", "cluster create -e A=1", "cluster create Bad_Name",
    "cluster create demo --wait false", "cluster create --wait=maybe", "cluster create demo --nope",
    "cluster create demo --network shared --subnet 10.0.0.0/16", "cluster create demo -v data:relative@all",
    "cluster create demo --runtime-label k3d.mine=1@all",
]


@pytest.mark.parametrize("endpoint", ["unix", "tcp"])
def test_without_docker_the_standin_fails_like_k3d(k3d_bin, tmp_path, endpoint):
    docker_host = realk3d.closed_unix_socket(tmp_path) if endpoint == "unix" else realk3d.closed_tcp_port()
    env = realk3d.environment(tmp_path, docker_host)
    down = "Cannot connect to the Docker daemon at %s. Is the docker daemon running?" % docker_host
    for command in WITHOUT_DOCKER:
        real = realk3d.run(k3d_bin, env, *command.split())
        stand = harness.k3d(standin_env(env, tmp_path), *command.split())
        assert realk3d.comparable(stand) == realk3d.comparable(real), command
    # the facts the collection is built on, from the real binary
    listed = realk3d.run(k3d_bin, env, "cluster", "list", "-o", "json")
    assert listed.returncode == 1 and listed.stdout == "" and down in realk3d.fatal(listed.stderr)
    deleted = realk3d.run(k3d_bin, env, "cluster", "delete", "demo")
    assert deleted.returncode == 0 and "No nodes found for cluster 'demo', nothing to delete." in deleted.stdout
    assert down in deleted.stderr  # "succeeds" although it could not even look


def test_an_unusable_docker_endpoint_fails_even_version(k3d_bin, tmp_path):
    env = realk3d.environment(tmp_path, "bogus://nowhere")
    done = realk3d.run(k3d_bin, env, "version", "-o", "json")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Failed to initialize: unable to resolve docker endpoint: invalid bind address")


# ---- configs the module generates ---------------------------------------------------------------

def example_params():
    """Every k3d_cluster task in the module's EXAMPLES, as module parameters."""
    for task in yaml.safe_load(k3d_cluster.EXAMPLES):
        args = task.get("argoops.workflows.k3d_cluster")
        if args is not None:
            yield task["name"], module_params(**dict(args, kubeconfig={}))


GENERATED = {
    "minimal": {},
    "dollars and token": dict(token="Tok$en$$1", env=[{"env_var": "PASS=a$b${HOME}", "node_filters": ["all"]}]),
    "everything": dict(
        servers=3, agents=2, image="rancher/k3s:v1.30.0-k3s1",
        api_port={"host": "k3d.local", "host_ip": "127.0.0.1", "host_port": 6550},
        ports=[{"port": "8080:80", "node_filters": ["loadbalancer"]},
               {"port": "127.0.0.1:8443:443/tcp", "node_filters": ["agent:*"]},
               {"port": "9000:9000", "node_filters": ["server:0:direct"]}],
        k3s_args=[{"arg": "--disable=traefik", "node_filters": ["server:*"]}],
        volumes=[{"volume": "/tmp:/host-tmp"}, {"volume": "k3d-demo-data:/data", "node_filters": ["agent:0"]}],
        network="shared", token=TOKEN, registry_use=["k3d-registry.localhost:5000"], wait=False, timeout="2m",
        kubeconfig={"update_default": False},
        config={"subnet": "auto", "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
                "files": [{"source": "/etc/hostname", "destination": "/etc/copied", "nodeFilters": ["all"]},
                          {"source": "kind: ConfigMap\nmetadata: {name: x}\n", "destination": "k3s-manifests/x.yaml",
                           "nodeFilters": ["server:*"]}],
                "options": {"k3d": {"disableImageVolume": True, "loadbalancer": {"configOverrides": [
                    "settings.workerConnections=2048"]}},
                    "runtime": {"ulimits": [{"name": "nofile", "soft": 1024, "hard": 2048}],
                                "serversMemory": "1g", "labels": [{"label": "team=a", "nodeFilters": ["all"]}]},
                    "k3s": {"nodeLabels": [{"label": "tier=x", "nodeFilters": ["agent:*"]}]}}}),
    "registry created": dict(registry_create={"name": "reg.localhost", "host": "0.0.0.0", "host_port": "5000"}),
    "no load balancer, no rollback": dict(env=[{"env_var": "A=1"}], ports=[{"port": "80", "node_filters": [
        "server:0:direct"]}], config={"subnet": "172.28.0.0/16", "options": {"k3d": {
            "disableLoadbalancer": True, "disableRollback": True}}}),
}


def generated_cases():
    cases = [(name, module_params(**params)) for name, params in GENERATED.items()]
    return cases + list(example_params())


def create_with_module_code(binary, env, spec):
    """``k3d cluster create`` exactly as the module runs it (K3dCli.apply); -> the K3dError it raises."""
    with pytest.raises(k3d.K3dError) as failed:
        k3d.K3dCli(realk3d.ProcessRunner(env), binary).apply({"action": "create"}, spec.name, spec)
    return failed.value


def test_every_generated_config_passes_all_checks_of_real_k3d(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed, HOME=str(tmp_path))
    cases = generated_cases()
    assert len(cases) >= len(GENERATED) + 3  # the EXAMPLES were found
    for name, params in cases:
        spec = k3d_spec.build_spec(params)
        real = create_with_module_code(k3d_bin, env, spec)
        rc, out, err = realk3d.comparable(subprocess.CompletedProcess([], *[real.details[k] for k in
                                                                            ("rc", "stdout", "stderr")]))
        # k3d read, schema-checked, transformed and validated it, and failed only at its first Docker call
        assert rc == 1 and any('msg="Prep: Network"' in line for line in out), (name, out, err)
        assert any(NETWORK_DOWN in line for line in err), (name, err)
        no_rollback = k3d_spec._get_path(spec.config, "options.k3d.disableRollback")  # pylint: disable=protected-access
        assert realk3d.fatal(real.details["stderr"]) == (
            "Cluster creation FAILED, rollback deactivated." if no_rollback else ROLLBACK_FAILED), name
        stand = create_with_module_code(harness.STANDIN, standin_env(env, tmp_path), spec)
        assert realk3d.comparable(subprocess.CompletedProcess([], *[stand.details[k] for k in (
            "rc", "stdout", "stderr")])) == (rc, out, err), name
        assert str(stand) == str(real), name
        assert TOKEN not in str(real) + real.details["stdout"] + real.details["stderr"]
    assert os.listdir(env["TMPDIR"]) == []  # k3d's copies of the configs went with the module's private TMPDIR


def _expanded_by_k3d(binary, env, text):
    """The config as k3d expanded it: k3d leaves its env-expanded copy in $TMPDIR (read, then removed)."""
    realk3d.run(binary, env, "cluster", "create", "demo", "--config", "-", stdin=text)
    left = [os.path.join(env["TMPDIR"], f) for f in os.listdir(env["TMPDIR"])]
    assert [os.path.basename(f).startswith("k3d-config-tmp-") for f in left] == [True]
    with open(left[0]) as handle:
        expanded = handle.read()
    os.unlink(left[0])
    return expanded


def test_real_k3d_leaves_the_expanded_config_in_tmpdir_the_module_removes_it(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed)
    spec = k3d_spec.build_spec(module_params(token=TOKEN))
    text = k3d_spec.config_text(k3d_spec.render_config(spec))
    assert TOKEN in _expanded_by_k3d(k3d_bin, dict(env, ARGOOPS_K3D_DOLLAR="$"), text)  # why a private TMPDIR
    create_with_module_code(k3d_bin, env, spec)
    assert os.listdir(env["TMPDIR"]) == []


def test_env_expansion_is_k3ds_and_the_module_keeps_every_dollar(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed, ARGOOPS_K3D_DOLLAR="$", A="value-of-A", HOME="/h")
    tricky = "a$$b ${A} $A$HOME ${} $1 $- ${A x$ ${HOME}/y $ABC_1 $\u00e9"
    assert _expanded_by_k3d(k3d_bin, env, tricky) == standin_config.expand_env(tricky, env.get)
    spec = k3d_spec.build_spec(module_params(token="p$$w${A}$HOME", env=[{"env_var": "X=$A", "node_filters": ["all"]}]))
    rendered = k3d_spec.render_config(spec)
    assert json.loads(_expanded_by_k3d(k3d_bin, env, k3d_spec.config_text(rendered))) == rendered


# ---- k3d's schema: k3d_schema and the stand-in against the real check --------------------------

WRONG = {k3d_schema.STR: 5, k3d_schema.NUM: "x", k3d_schema.BOOL: "yes"}
# valid values where the schema has more than a type (enum, format): those rules live in k3d_spec
SAMPLES = {"apiVersion": k3d_spec.API_VERSION, "kind": "Simple", "kubeAPI.hostIP": "127.0.0.1"}


def _sample(rule, path):
    if isinstance(rule, k3d_schema.Obj):
        return dict((key, _sample(rule.props[key], path + (key,))) for key in rule.required)
    if isinstance(rule, k3d_schema.Arr):
        return [_sample(rule.items, path)]
    return SAMPLES.get(".".join(path), {k3d_schema.STR: "s", k3d_schema.NUM: 1, k3d_schema.BOOL: True}.get(rule, "a"))


def _cases(rule, path=()):
    """(label, value) pairs for ``rule``: a valid value and one breaking each rule k3d_schema states."""
    where = ".".join(path) or "(root)"
    if isinstance(rule, k3d_schema.Obj):
        base = _sample(rule, path)
        if not path:  # required by k3d's schema; the module always writes them (render_config)
            base.update(apiVersion=k3d_spec.API_VERSION, kind="Simple")
        yield where + " unknown key", dict(base, zzUnknown=1)
        for key in rule.refused:
            yield where + " key " + key, dict(base, **{key: False})
        if path:
            yield where + " not an object", 5
        for key in rule.required:
            yield where + " without " + key, dict((k, v) for k, v in base.items() if k != key)
        for key, sub in rule.props.items():
            for label, value in _cases(sub, path + (key,)):
                yield label, dict(base, **{key: value})
    elif isinstance(rule, k3d_schema.Arr):
        yield where + " not a list", "x"
        for label, value in _cases(rule.items, path):
            yield label, [value]
    else:
        if rule in WRONG and path != ("apiVersion",):  # k3d picks the schema by apiVersion: FRAGMENTS has that
            yield where + " wrong type", WRONG[rule]
        yield where + " valid", _sample(rule, path)


def _real_schema_verdict(binary, env, tmp_path, config):
    """k3d's own schema check of a config file: [] when it passes, else its messages."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    done = realk3d.run(binary, env, "cluster", "create", "--config", str(path))
    message = realk3d.fatal(done.stderr) or ""
    prefix = "Schema Validation failed for config file %s: " % path
    if message.startswith(prefix):
        return [line[2:] for line in message[len(prefix):].splitlines()]
    assert "Schema Validation" not in done.stderr and "Cannot validate" not in message, message
    return []


def test_k3d_schema_and_the_standin_refuse_what_real_k3d_refuses(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed)
    refused = accepted = 0
    for label, config in _cases(k3d_schema.SIMPLE_CONFIG):
        real = _real_schema_verdict(k3d_bin, env, tmp_path, config)
        ours = k3d_schema.schema_errors(config)
        assert bool(ours) == bool(real), (label, real, ours)
        stand = standin_config.schema_errors(config)
        assert sorted(stand) == sorted(real), label  # same messages (gojsonschema's order is not kept)
        refused, accepted = refused + bool(real), accepted + (not real)
    assert refused > 60 and accepted > 50  # the walk covered the table


def _resolve(node, definitions):
    return definitions[node["$ref"].split("/")[-1]] if "$ref" in node else node


def _schema_minimal(node, definitions):
    """The smallest value k3d's schema.json accepts for ``node`` (required keys only)."""
    node = _resolve(node, definitions)
    kind = node.get("type")
    if kind == "object":
        return dict((key, _schema_minimal(node["properties"][key], definitions)) for key in node.get("required", []))
    if kind == "array":
        return []
    if "enum" in node:
        return node["enum"][0]
    if "format" in node:
        return {"hostname": "a", "ipv4": "127.0.0.1"}[node["format"]]
    return {"string": "a", "number": max(1, node.get("minimum", 1)), "boolean": True}.get(kind, "a")


def _schema_samples(node, definitions, label="(root)"):
    """(label, value, valid) read from k3d's own schema.json: a valid value reaching each declared property,
    and an invalid one for each property declared ``false`` and for an unknown key in each closed object."""
    node = _resolve(node, definitions)
    kind = node.get("type")
    if kind == "object":
        base = _schema_minimal(node, definitions)
        if node.get("additionalProperties") is False:
            yield label + " unknown key", dict(base, zzUnknown=1), False
        for key, sub in node.get("properties", {}).items():
            where = key if label == "(root)" else label + "." + key
            if sub is False:  # registries' misplaced "additionalProperties": false
                yield where, dict(base, **{key: False}), False
                continue
            for sub_label, value, valid in _schema_samples(sub, definitions, where):
                yield sub_label, dict(base, **{key: value}), valid
    elif kind == "array" and "items" in node:
        for sub_label, value, valid in _schema_samples(node["items"], definitions, label + "[0]"):
            yield sub_label, [value], valid
    else:
        yield label, [_schema_minimal(node, definitions)] if kind == "array" else _schema_minimal(node, definitions), True


def test_k3d_schema_follows_k3ds_own_schema_file(k3d_bin, tmp_path, closed):
    schema_file = os.path.join(realk3d.build.module_dir(realk3d.build.K3D_MODULE, realk3d.version()),
                               "pkg", "config", "v1alpha5", "schema.json")
    with open(schema_file) as handle:
        schema = json.load(handle)
    env = realk3d.environment(tmp_path, closed)
    samples = list(_schema_samples(schema, schema["definitions"]))
    assert len([s for s in samples if s[2]]) > 50 and len([s for s in samples if not s[2]]) > 15
    for label, config, valid in samples:
        real = _real_schema_verdict(k3d_bin, env, tmp_path, config)
        assert (real == []) is valid, (label, real)  # what the schema file says is what the binary does
        assert (k3d_schema.schema_errors(config) == []) is valid, label
        assert (standin_config.schema_errors(config) == []) is valid, label


# ---- what real k3d refuses, the module refuses first --------------------------------------------

FRAGMENTS = [  # (config, other options): values k3d_spec's unit tests refuse, and more that real k3d refuses
    ({"optoins": {}}, {}), ({"options": {"k3d": {"disableLoadbalancers": True}}}, {}),
    ({"options": {"k3d": {"disableRollback": "yes"}}}, {}), ({"files": [{"source": "/etc/hostname"}]}, {}),
    ({"files": [{"source": "hostname", "destination": "/x"}]}, {}),
    ({"files": [{"source": "/etc/hostname", "destination": "manifests/x"}]}, {}),
    ({"registries": {"additionalProperties": False}}, {}), ({"hostAliases": "db"}, {}),
    ({"options": {"runtime": {"labels": [{"label": "k3d.mine=1", "nodeFilters": ["all"]}]}}}, {}),
    ({"options": {"runtime": {"labels": [{"label": "mine=1"}]}}}, {}),
    ({"options": {"k3s": {"nodeLabels": [{"label": "a=b", "nodeFilters": ["agent:7"]}]}}}, {}),
    ({"subnet": "172.28.0.0"}, {}), ({"subnet": "10.0.0.0/16"}, {"network": "shared"}),
    ({"apiVersion": 5}, {}), ({"kind": "simple"}, {}), ({"apiVersion": "k3d.io/v1alpha4"}, {}), ({"servers": 0}, {}),
    ({"metadata": {"name": "Bad_Name"}}, {}), ({"kubeAPI": {"hostIP": "localhost"}}, {}),
    ({"options": {"k3s": {"extraArgs": []}}}, {}),
    ({"options": {"runtime": {"somethingNew": 1}}}, {}),  # open in k3d's schema: accepted by both
]


def _merge(base, overlay):
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def test_what_real_k3d_refuses_the_module_refuses_before_running_k3d(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed, ARGOOPS_K3D_DOLLAR="$")
    verdicts = []
    for fragment, options in FRAGMENTS:
        config = _merge(k3d_spec.render_config(k3d_spec.build_spec(module_params(**options))), copy.deepcopy(fragment))
        done = realk3d.run(k3d_bin, env, "cluster", "create", "demo", "--config", "-",
                           stdin=k3d_spec.config_text(config))
        k3d_refuses = not any(NETWORK_DOWN in line for line in done.stderr.splitlines())
        try:
            k3d_spec.build_spec(module_params(config=fragment, **options))
            module_error = None
        except k3d_spec.SpecError as exc:
            module_error = str(exc)
        if k3d_refuses:
            assert module_error, (fragment, realk3d.fatal(done.stderr))
        elif module_error:  # stricter than k3d: only by the module's own, documented rules
            assert "set this with the" in module_error or "this module writes v1alpha5" in module_error, module_error
        verdicts.append((k3d_refuses, bool(module_error)))
    assert verdicts.count((True, True)) >= 12 and (False, False) in verdicts


# ---- the modules, through Ansible, with real k3d and no Docker ---------------------------------

def test_modules_with_real_k3d_and_no_docker_fail_naming_k3ds_message(k3d_bin, tmp_path, closed):
    env = realk3d.environment(tmp_path, closed, base=harness.environment(tmp_path))
    kubeconfig = str(tmp_path / "cluster-kubeconfig")

    def task(title, module="k3d_cluster", **args):
        args.update(k3d_binary=k3d_bin)
        if module == "k3d_cluster":
            args.update(name="demo", kubeconfig={"path": kubeconfig})
        return {"name": title, "argoops.workflows." + module: args, "ignore_errors": True}

    tasks = [task("down " + state, state=state) for state in ("present", "absent", "started", "stopped")]
    tasks += [dict(task("down check", agents=2), check_mode=True), task("info down", module="k3d_cluster_info"),
              dict(task("bogus endpoint"), environment={"DOCKER_HOST": "bogus://nowhere"})]
    results, stats, dummy = harness.playbook(env, tmp_path, tasks)
    for name in ("down present", "down absent", "down started", "down stopped", "down check", "info down"):
        result = results[name]
        assert result["failed"] is True and result["rc"] == 1, name
        assert result["cmd"].endswith("cluster list -o json"), name
        assert "Cannot connect to the Docker daemon at %s" % closed in result["msg"], name
    assert results["down present"]["k3d_version"]["k3d"] == realk3d.version()
    bogus = results["bogus endpoint"]
    assert bogus["failed"] is True and bogus["cmd"].endswith("version -o json")
    assert "k3d version -o json failed: Failed to initialize: unable to resolve docker endpoint" in bogus["msg"]
    assert stats["ignored"] == len(tasks) and not os.path.exists(kubeconfig)
