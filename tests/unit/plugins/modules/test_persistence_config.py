"""persistence_config: argument handling and result shaping, with the Kubernetes client (kube.Kube) replaced by a recorder.

The client's real behaviour (resourceVersion, conflicts, Secrets) is covered against a real API server in
tests/integration/test_persistence_config.py; here only the module's own decisions are under test.
"""
import json
from types import SimpleNamespace

import pytest
from unittest import mock

from ansible.module_utils.testing import patch_module_args

from ansible_collections.argoops.workflows.plugins.module_utils import kube
from ansible_collections.argoops.workflows.plugins.modules import persistence_config

SECRET = {"name": "argo-postgres-config", "key": "password"}


class RecordingKube:
    """Holds one ConfigMap's data in memory and records what the module asks of the API."""

    def __init__(self, data=None, image_tag="v4.0.5", secrets=None, namespaces=("argo",)):
        self.data, self.image_tag, self.writes, self.namespaces = data, image_tag, [], namespaces
        self.secrets = {"argo-postgres-config": {"username", "password"}} if secrets is None else secrets
        self.secret_reads = []

    def deployment_image_tag(self, namespace, name, container):
        if isinstance(self.image_tag, Exception):
            raise self.image_tag
        return self.image_tag

    def namespace_exists(self, name):
        return name in self.namespaces

    def secret_keys(self, namespace, name):
        self.secret_reads.append((namespace, name))
        return self.secrets.get(name)

    def update_config_map(self, namespace, name, plan_for, check_mode=False):
        plan = plan_for(None if self.data is None else dict(self.data))
        if plan.changed and not check_mode:
            self.data = plan.data
            self.writes.append(plan.data)
        return kube.ConfigMapUpdate(plan, plan.changed and not check_mode, 1)


def tutorial(**extra):
    args = {"archive": True, "archive_ttl": "7d", "node_status_offload": True,
            "connection_pool": {"max_idle_conns": 100, "max_open_conns": 0, "conn_max_lifetime": "0s"},
            "postgresql": {"host": "postgres", "port": 5432, "database": "postgres",
                           "username_secret": {"name": "argo-postgres-config", "key": "username"},
                           "password_secret": SECRET},
            "retention_policy": {"completed": 10, "failed": 3, "errored": 3}}
    args.update(extra)
    return args


def run(args, kube_client, capsys, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(args), mock.patch.object(kube, "connect", return_value=kube_client) as connect:
        with pytest.raises(SystemExit):
            persistence_config.main()
    result = json.loads(capsys.readouterr().out)
    result["_connected"] = connect.called
    # ansible-core 2.19 modules emit structured warnings; the controller shows their "msg"
    result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]
    return result


def test_result_shape_and_defaults(capsys):
    kube_client = RecordingKube()
    result = run(tutorial(), kube_client, capsys)
    assert result["changed"] is True and result["restart_required"] is True
    assert result["argo_version"] == "v4.0.5"
    assert result["config"]["postgresql"]["tableName"] == "argo_workflows"  # the documented default
    assert result["config"]["archiveTTL"] == "7d" and result["config"]["nodeStatusOffLoad"] is True
    assert result["retention_policy"] == {"completed": 10, "failed": 3, "errored": 3}
    assert "diff" not in result
    assert list(kube_client.writes[0]) == ["persistence", "retentionPolicy"]
    assert kube_client.secret_reads == [("argo", "argo-postgres-config")]  # both keys checked with one read
    again = run(tutorial(), kube_client, capsys)
    assert again["changed"] is False and again["restart_required"] is False and len(kube_client.writes) == 1


def test_check_mode_predicts_without_writing_and_diff_shows_blocks(capsys):
    kube_client = RecordingKube(data={"executor": "image: x\n"})
    result = run(tutorial(), kube_client, capsys, check=True, diff=True)
    assert result["changed"] is True and kube_client.writes == []
    assert result["diff"]["before"] == "" and result["diff"]["after"].startswith("persistence:\n")
    assert "executor" not in result["diff"]["after"]


@pytest.mark.parametrize("args, message", [
    (tutorial(archive_ttl="1h30m"), "archive_ttl: '1h30m' is not a TTL Argo accepts"),
    (tutorial(mysql={"host": "m", "username_secret": SECRET, "password_secret": SECRET}),
     "exactly one of postgresql and mysql is required"),
    (tutorial(postgresql=dict(tutorial()["postgresql"], table_name="")), "postgresql.table_name is required"),
    (tutorial(postgresql=dict(tutorial()["postgresql"], ssl_mode="require")),
     "postgresql.ssl_mode is ignored unless postgresql.ssl is true"),
])
def test_invalid_input_fails_before_connecting(capsys, args, message):
    kube_client = RecordingKube()
    result = run(args, kube_client, capsys)
    assert result["failed"] is True and message in result["msg"]
    assert result["_connected"] is False and kube_client.writes == []


def test_unknown_option_is_rejected_by_the_argument_spec(capsys):
    args = tutorial()
    args["postgresql"] = dict(args["postgresql"], tablename="x")
    result = run(args, RecordingKube(), capsys)
    assert result["failed"] is True and "tablename" in result["msg"]


def test_v41_key_for_the_deployed_v405_controller_fails_without_writing(capsys):
    kube_client = RecordingKube(image_tag="v4.0.5")
    result = run(tutorial(connection_timeout_seconds=5), kube_client, capsys)
    assert result["failed"] and "connection_timeout_seconds needs Argo v4.1 or later; the controller is v4.0" \
        in result["msg"]
    assert kube_client.writes == []
    result = run(tutorial(connection_timeout_seconds=5, argo_version="v4.1.2"), kube_client, capsys)
    assert result["changed"] and "connectionTimeoutSeconds: 5" in kube_client.writes[0]["persistence"]


def test_unknown_version_leaves_new_keys_out_and_warns(capsys):
    kube_client = RecordingKube(image_tag="latest")
    result = run(tutorial(connection_timeout_seconds=5), kube_client, capsys)
    assert result["argo_version"] is None and "connectionTimeoutSeconds" not in result["config"]
    assert any("controller version is unknown" in w for w in result["warnings"])


def test_unreadable_deployment_is_a_warning_not_a_failure(capsys):
    kube_client = RecordingKube(image_tag=kube.KubeError("reading Deployment argo/workflow-controller failed (HTTP 403)"))
    result = run(tutorial(), kube_client, capsys)
    assert result["changed"] and any("could not be read" in w and "403" in w for w in result["warnings"])


def test_argo_version_must_be_a_version(capsys):
    result = run(tutorial(argo_version="newest"), RecordingKube(), capsys)
    assert result["failed"] and "argo_version: 'newest' is not a version like v4.0.5" in result["msg"]
    assert result["_connected"] is False


@pytest.mark.parametrize("secrets, message", [
    ({}, "postgresql.username_secret: Secret argo/argo-postgres-config does not exist"),
    ({"argo-postgres-config": {"username"}},
     "postgresql.password_secret: Secret argo/argo-postgres-config has no key 'password' (it has: username)"),
])
def test_missing_secret_fails_before_writing(capsys, secrets, message):
    kube_client = RecordingKube(secrets=secrets)
    result = run(tutorial(), kube_client, capsys)
    assert result["failed"] and message in result["msg"] and kube_client.writes == []
    assert kube_client.secret_reads == [("argo", "argo-postgres-config")]


def test_missing_namespace_is_named_not_reported_as_a_missing_secret(capsys):
    kube_client = RecordingKube(secrets={}, namespaces=())
    result = run(tutorial(), kube_client, capsys)
    assert result["failed"] and kube_client.writes == []
    assert "postgresql.username_secret: namespace argo does not exist" in result["msg"], result["msg"]


def test_validate_secrets_false_skips_the_check(capsys):
    kube_client = RecordingKube(secrets={})
    result = run(tutorial(validate_secrets=False), kube_client, capsys)
    assert result["changed"] and kube_client.secret_reads == []


def test_absent_ignores_persistence_options_and_removes_managed_keys(capsys):
    kube_client = RecordingKube()
    run(tutorial(), kube_client, capsys)
    kube_client.data["executor"] = "image: x\n"
    result = run({"state": "absent", "archive_ttl": "not validated"}, kube_client, capsys)
    assert result["changed"] and result["config"] is None and result["retention_policy"] is None
    assert kube_client.data == {"executor": "image: x\n"}
    assert any("archiving is turned off" in w for w in result["warnings"])


def test_findings_reach_the_warnings(capsys):
    result = run(tutorial(retention_policy={"completed": 10}), RecordingKube(), capsys)
    warnings = " ".join(result["warnings"])
    assert "retention_policy.failed is not set" in warnings
    assert result["restart_required"] is True
    assert "persistence.archive" in result["restart_settings"] and "retentionPolicy" in result["restart_settings"]


def test_broken_existing_config_key_layout_is_a_clear_failure(capsys):
    kube_client = RecordingKube(data={"config": "persistence: {}\n", "executor": "x"})
    result = run(tutorial(), kube_client, capsys)
    assert result["failed"] and "Argo refuses" in result["msg"] and kube_client.writes == []


def test_argument_spec_reuses_kubernetes_core_auth_options():
    spec = persistence_config.argument_spec()
    for option in ("kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert"):
        assert option in spec
    assert spec["name"]["default"] == "workflow-controller-configmap" and spec["namespace"]["default"] == "argo"


class FakeDynamicClient:
    """Answers request() like kubernetes' DynamicClient for one ConfigMap; the first replaces lose a race."""

    def __init__(self, conflicts):
        self.version, self.conflicts, self.replaced = 1, conflicts, []

    def request(self, method, path, body=None, _request_timeout=None):
        if method == "GET":
            return mock.Mock(to_dict=lambda: {"metadata": {"resourceVersion": str(self.version)},
                                              "data": {"other": "v%d" % self.version}})
        assert method == "PUT" and body["metadata"]["resourceVersion"] == str(self.version)  # as read
        if self.conflicts:
            self.conflicts -= 1
            self.version += 1
            raise kube.ApiException(status=409, reason="Conflict")
        self.replaced.append(dict(body["data"]))
        return mock.Mock(to_dict=lambda: {"metadata": {"resourceVersion": str(self.version + 1)}})


@pytest.mark.parametrize("conflicts, attempts, fails", [(0, 1, False), (2, 3, False), (5, 5, True)])
def test_conflicts_are_retried_on_fresh_data(conflicts, attempts, fails):
    kube_client = kube.Kube(FakeDynamicClient(conflicts), attempts=5, backoff=0)
    seen, plans = [], []

    def plan_for(data):
        seen.append(data["other"])
        plans.append(SimpleNamespace(changed=True, data=dict(data, persistence="archive: true\n")))
        return plans[-1]

    if fails:
        with pytest.raises(kube.KubeError) as err:
            kube_client.update_config_map("argo", "cm", plan_for)
        assert "HTTP 409" in str(err.value) and "after 5 attempts" in str(err.value)
        return
    update = kube_client.update_config_map("argo", "cm", plan_for)
    assert update.written and update.attempts == attempts
    assert update.plan is plans[-1]  # the plan made from the last read is the one reported
    assert seen == ["v%d" % n for n in range(1, attempts + 1)]  # each attempt re-read the ConfigMap
    assert kube_client.client.replaced == [{"other": "v%d" % attempts, "persistence": "archive: true\n"}]


@pytest.mark.parametrize("image, tag", [
    ("quay.io/argoproj/workflow-controller:v4.0.5", "v4.0.5"),
    ("registry:5000/argoproj/workflow-controller:v4.1.2@sha256:abc", "v4.1.2"),
    ("registry:5000/argoproj/workflow-controller", None),
    ("workflow-controller@sha256:abc", None), ("", None),
])
def test_image_tag(image, tag):
    assert kube.image_tag(image) == tag


@pytest.mark.parametrize("selector, words", [
    # Ansible's dict type used to make {app: etl} of this and report "archive_label_selector.app"
    ("app=etl", "the string 'app=etl' (a selector string such as 'app=etl' is not accepted here)"),
    # ... this one it refused without naming the option at all
    ("app in (a,b)", "not the string 'app in (a,b)'"),
    ("workflows.argoproj.io/archive!=false", "not the string 'workflows.argoproj.io/archive!=false'"),
    (["app=etl"], "not ['app=etl']"),
    ({"app": "etl"}, "unknown option 'app'; known: match_expressions, match_labels"),
])
def test_archive_label_selector_of_the_wrong_shape_says_what_is_expected(capsys, selector, words):
    kube_client = RecordingKube()
    result = run(tutorial(archive_label_selector=selector), kube_client, capsys)
    assert result["failed"] is True and result["_connected"] is False and kube_client.writes == []
    assert result["msg"].startswith("archive_label_selector"), result["msg"]
    assert "a mapping with match_labels (label key: value) and/or match_expressions" in result["msg"]
    assert words in result["msg"], result["msg"]


@pytest.mark.parametrize("selector, words", [
    # these raised TypeError / AttributeError from label_selector.check (a module traceback)
    ({"match_labels": {"app": ["a"]}}, "archive_label_selector.match_labels['app']: ['a'] is not a label value"),
    ({"match_expressions": [{"key": ["x"], "operator": "In", "values": ["a"]}]},
     "archive_label_selector.match_expressions[0].key: ['x'] is not a label key"),
    ({"match_expressions": [{"key": "x", "operator": "In", "values": [{"a": 1}]}]},
     "archive_label_selector.match_expressions[0].values"),
    ({"match_expressions": [{"key": "x", "operator": "in", "values": ["a"]}]},
     "operator 'in' is not a valid label selector operator"),
])
def test_archive_label_selector_with_values_of_the_wrong_type_fails_naming_them(capsys, selector, words):
    result = run(tutorial(archive_label_selector=selector), RecordingKube(), capsys)
    assert result["failed"] is True and words in result["msg"], result["msg"]


def test_archive_label_selector_mapping_is_written_with_argo_names(capsys):
    kube_client = RecordingKube()
    selector = {"match_labels": {"app": "etl", "tier": 1},
                "match_expressions": [{"key": "workflows.argoproj.io/archive", "operator": "NotIn",
                                       "values": ["false"]}, {"key": "team", "operator": "Exists"}]}
    result = run(tutorial(archive_label_selector=selector), kube_client, capsys)
    assert result["changed"] is True, result.get("msg")
    assert result["config"]["archiveLabelSelector"] == {
        "matchLabels": {"app": "etl", "tier": "1"},
        "matchExpressions": [{"key": "workflows.argoproj.io/archive", "operator": "NotIn", "values": ["false"]},
                             {"key": "team", "operator": "Exists"}]}
