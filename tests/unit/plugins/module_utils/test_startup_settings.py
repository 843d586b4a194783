"""startup_settings: the digest of the start-up settings, and the restart decision, with a recorded Kubernetes client."""
import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config, kube, startup_settings as ss

SECRET = "argo-postgres-config"


def configmap_data(**options):
    args = {"archive": True, "archive_ttl": "7d", "node_status_offload": True,
            "postgresql": {"host": "db", "database": "argo", "table_name": "argo_workflows",
                           "username_secret": {"name": SECRET, "key": "username"},
                           "password_secret": {"name": SECRET, "key": "password"}},
            "retention_policy": {"completed": 10, "failed": 3, "errored": 3}}
    args.update(options)
    desired = argo_config.from_options(args, None)
    return {"persistence": argo_config.render(desired.persistence),
            "retentionPolicy": argo_config.render(desired.retention), "namespaceParallelism": "10"}


def digest(data, secrets=None):
    persistence, retention, stored = ss.startup_view(data)
    names = ss.secret_names(stored)
    return ss.settings_hash(persistence, retention, dict((n, (secrets or {}).get(n, "u/1")) for n in names))


class FakeKube:
    """A ConfigMap, Secrets and Deployments in memory; records the PATCH requests."""

    def __init__(self, data, deployments, secret_rv="1"):
        self.data, self.patches = data, []
        self.deployments = deployments  # name -> annotation value (None: no annotation)
        self.secret_rv = secret_rv
        self.client = self

    def read_config_map(self, namespace, name):
        return None if self.data is None else {"data": dict(self.data)}

    def _read(self, what, path):
        if path.startswith("/api/v1/namespaces/argo/secrets/"):
            return None if self.secret_rv is None else {"metadata": {"uid": "u", "resourceVersion": self.secret_rv},
                                                        "data": {"password": "c2VjcmV0"}}
        name = path.rsplit("/", 1)[-1]
        if name not in self.deployments:
            return None
        annotations = {} if self.deployments[name] is None else {ss.ANNOTATION: self.deployments[name]}
        return {"spec": {"template": {"metadata": {"annotations": annotations}}}}

    def request(self, method, path, body=None, content_type=None, _request_timeout=None):
        assert method == "PATCH" and content_type == ss.MERGE_PATCH
        name = path.rsplit("/", 1)[-1]
        self.patches.append(name)
        self.deployments[name] = body["spec"]["template"]["metadata"]["annotations"][ss.ANNOTATION]


def test_equivalent_spellings_give_the_same_digest():
    assert digest(configmap_data(archive_ttl="7d")) == digest(configmap_data(archive_ttl="168h"))


def test_a_start_up_setting_changes_the_digest():
    base = digest(configmap_data())
    assert digest(configmap_data(archive_ttl="30d")) != base
    assert digest(configmap_data(retention_policy={"completed": 5, "failed": 3, "errored": 3})) != base
    assert digest(configmap_data(node_status_offload=False)) != base


def test_the_label_selector_is_re_read_by_a_running_controller_so_it_does_not_count():
    selector = {"match_labels": {"archive": "yes"}}
    assert digest(configmap_data(archive_label_selector=selector)) == digest(configmap_data())


def test_foreign_keys_do_not_count():
    data = configmap_data()
    assert digest(dict(data, namespaceParallelism="20")) == digest(data)


def test_a_changed_secret_changes_the_digest_but_its_values_never_enter():
    data = configmap_data()
    assert digest(data, {SECRET: "u/2"}) != digest(data, {SECRET: "u/1"})
    kube_client = FakeKube(data, {"workflow-controller": None})
    settings = ss.StartupSettings(kube_client, "argo", "workflow-controller-configmap")
    assert settings.secret_identity(SECRET) == "u/1"  # uid/resourceVersion, not the data


def test_no_configmap_has_a_digest_too():
    assert digest(None) == digest({})


def test_stale_deployments_are_rolled_then_the_next_run_is_unchanged():
    kube_client = FakeKube(configmap_data(), {"workflow-controller": None, "argo-server": "old"})
    settings = ss.StartupSettings(kube_client, "argo", "cm")
    first = ss.reconcile(settings, ["workflow-controller", "argo-server"], restart=True, check_mode=False)
    assert first["changed"] is True and first["stale"] == ["workflow-controller", "argo-server"]
    assert kube_client.patches == ["workflow-controller", "argo-server"]
    assert kube_client.deployments == {"workflow-controller": first["settings_hash"], "argo-server": first["settings_hash"]}
    assert ss.ANNOTATION in first["diff"]["after"] and '"old"' in first["diff"]["before"]
    second = ss.reconcile(settings, ["workflow-controller", "argo-server"], restart=True, check_mode=False)
    assert second["changed"] is False and second["stale"] == [] and len(kube_client.patches) == 2


def test_check_mode_predicts_without_writing():
    kube_client = FakeKube(configmap_data(), {"workflow-controller": "old"})
    result = ss.reconcile(ss.StartupSettings(kube_client, "argo", "cm"), ["workflow-controller"], True, check_mode=True)
    assert result["changed"] is True and result["deployments"][0]["restarted"] is True
    assert kube_client.patches == [] and kube_client.deployments == {"workflow-controller": "old"}


def test_restart_false_only_reports():
    kube_client = FakeKube(configmap_data(), {"workflow-controller": "old"})
    result = ss.reconcile(ss.StartupSettings(kube_client, "argo", "cm"), ["workflow-controller"], False, False)
    assert result["changed"] is False and result["stale"] == ["workflow-controller"] and kube_client.patches == []


def test_a_missing_deployment_is_reported_not_patched():
    kube_client = FakeKube(configmap_data(), {})
    result = ss.reconcile(ss.StartupSettings(kube_client, "argo", "cm"), ["argo-server"], True, False)
    assert result["missing"] == ["argo-server"] and result["stale"] == [] and result["changed"] is False


def test_a_secret_that_appears_makes_the_deployments_stale():
    kube_client = FakeKube(configmap_data(), {"workflow-controller": None}, secret_rv=None)
    settings = ss.StartupSettings(kube_client, "argo", "cm")
    ss.reconcile(settings, ["workflow-controller"], True, False)
    kube_client.secret_rv = "7"
    assert ss.reconcile(settings, ["workflow-controller"], True, False)["changed"] is True


def test_a_failed_patch_is_explained():
    kube_client = FakeKube(configmap_data(), {"workflow-controller": None})

    def refuse(*_args, **_kwargs):
        raise OSError("connection refused")
    kube_client.request = refuse
    with pytest.raises(kube.KubeError, match="restarting Deployment argo/workflow-controller"):
        ss.reconcile(ss.StartupSettings(kube_client, "argo", "cm"), ["workflow-controller"], True, False)
