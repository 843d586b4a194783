"""persistence_config against the local control plane's real kube-apiserver, run as Ansible runs it.

Covers issue 4's list: create; second run changed=false; change one field; foreign keys preserved
exactly; the `config`-key layout; check mode leaves the object untouched (resourceVersion unchanged);
a concurrent update of another key is not lost; a missing Secret fails clearly and writes nothing.
"""
from __future__ import annotations

import sys
import threading
import uuid
from types import SimpleNamespace

import kubernetes
import pytest

from persistence_support import (CONFIGMAP, SECRET, core, create_config_map, create_secret, persistence_args,
                                 read_config_map, run_module, warnings_of)
# fixtures shared with the other persistence tests
from persistence_support import api, ns  # noqa: F401  pylint: disable=unused-import

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config, kube

FOREIGN = {
    "artifactRepository": "archiveLogs: true\ns3:\n  bucket: my-bucket   # keep this comment\n  endpoint: minio:9000\n",
    "executor": "resources:\n  requests: {cpu: 10m}\n",
    "metricsConfig": "enabled: true\npath: /metrics\n",
    "namespaceParallelism": "10",
}


def say(message):
    sys.stderr.write(f"[persistence_config] {message}\n")


def test_create_then_second_run_is_unchanged(control_plane, api, ns):
    args = persistence_args(ns, control_plane.postgres)
    first = run_module(control_plane.kubeconfig, args)
    assert first.get("failed") is not True, first["_output"]
    assert first["changed"] is True and first["restart_required"] is True
    assert first["argo_version"] is None  # no Deployment in the namespace: version unknown, and said so
    assert "controller version is unknown" in warnings_of(first)
    stored = read_config_map(api, ns)
    expected = argo_config.from_options({k: v for k, v in args.items() if k != "namespace"}, None)
    assert stored.data == {"persistence": argo_config.render(expected.persistence),
                           "retentionPolicy": argo_config.render(expected.retention)}
    assert first["config"] == expected.persistence and first["retention_policy"] == expected.retention

    second = run_module(control_plane.kubeconfig, args)
    assert second["changed"] is False and second["restart_required"] is False and second["restart_settings"] == []
    assert read_config_map(api, ns).metadata.resource_version == stored.metadata.resource_version
    say(f"module run time: first {first['_seconds']:.2f}s (create), second {second['_seconds']:.2f}s (no change)")


def test_change_one_field(control_plane, api, ns):
    args = persistence_args(ns, control_plane.postgres, archive_ttl="30d")
    run_module(control_plane.kubeconfig, args)
    before = read_config_map(api, ns)
    result = run_module(control_plane.kubeconfig, dict(args, archive_ttl="7d"), diff=True)
    assert result["changed"] is True and result["restart_required"] is True
    assert "archiveTTL is shortened from 30d to 7d" in warnings_of(result)
    assert result["restart_settings"] == ["persistence.archiveTTL"]  # only what changed, in Argo's names
    after = read_config_map(api, ns)
    assert after.data["persistence"] == before.data["persistence"].replace("archiveTTL: 30d", "archiveTTL: 7d")
    assert after.data["retentionPolicy"] == before.data["retentionPolicy"]
    assert "archiveTTL: 30d" in result["diff"]["before"] and "archiveTTL: 7d" in result["diff"]["after"]


def test_foreign_keys_labels_and_annotations_preserved(control_plane, api, ns):
    create_config_map(api, ns, dict(FOREIGN, persistence="archive: false\n"),
                      labels={"app": "argo"}, annotations={"note": "hand-made"})
    result = run_module(control_plane.kubeconfig, persistence_args(ns, control_plane.postgres))
    assert result["changed"] is True
    stored = read_config_map(api, ns)
    for key, value in FOREIGN.items():
        assert stored.data[key] == value  # byte for byte
    assert set(stored.data) == set(FOREIGN) | {"persistence", "retentionPolicy"}
    assert stored.metadata.labels == {"app": "argo"} and stored.metadata.annotations == {"note": "hand-made"}


def test_config_key_layout(control_plane, api, ns):
    head = "# one document for everything\nexecutor:\n  imagePullPolicy: IfNotPresent   # keep\n\n"
    tail = "\nmetricsConfig: {enabled: true}\ninstanceID: blue\n"
    create_config_map(api, ns, {"config": head + "persistence:\n  archive: false\n" + tail})
    args = persistence_args(ns, control_plane.postgres)
    result = run_module(control_plane.kubeconfig, args)
    assert result["changed"] is True
    text = read_config_map(api, ns).data
    assert list(text) == ["config"]
    assert text["config"].startswith(head) and text["config"].endswith(tail)
    assert "persistence:\n  archive: true\n" in text["config"]
    again = run_module(control_plane.kubeconfig, args)
    assert again["changed"] is False


def test_check_mode_leaves_the_object_untouched(control_plane, api, ns):
    create_config_map(api, ns, dict(FOREIGN))
    before = read_config_map(api, ns)
    result = run_module(control_plane.kubeconfig, persistence_args(ns, control_plane.postgres), check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == "" and result["diff"]["after"].startswith("persistence:\n  archive: true\n")
    after = read_config_map(api, ns)
    assert after.metadata.resource_version == before.metadata.resource_version and after.data == before.data

    api.delete_namespaced_config_map(CONFIGMAP, ns)
    result = run_module(control_plane.kubeconfig, persistence_args(ns, control_plane.postgres), check=True)
    assert result["changed"] is True and read_config_map(api, ns) is None


def test_conflict_between_read_and_write_is_retried_without_losing_the_other_edit(control_plane, api, ns):
    """The Kubernetes client itself (kube.Kube), deterministically: another writer changes a key after our read, before our write."""
    create_config_map(api, ns, {"executor": "v0\n"})
    kube_client = kube.Kube(kubernetes.dynamic.DynamicClient(
        kubernetes.config.new_client_from_config(config_file=control_plane.kubeconfig)))
    seen = []

    def plan_for(data):
        seen.append(dict(data))
        if len(seen) == 1:  # the concurrent edit lands between our read and our write
            cm = api.read_namespaced_config_map(CONFIGMAP, ns)
            cm.data["executor"] = "v1\n"
            api.replace_namespaced_config_map(CONFIGMAP, ns, cm)
        return SimpleNamespace(changed=True, data=dict(data, persistence="archive: true\n"))

    update = kube_client.update_config_map(ns, CONFIGMAP, plan_for)
    assert update.written and update.attempts == 2
    assert update.plan.data["executor"] == "v1\n"  # the applied plan is the one made from the second read
    assert seen[1]["executor"] == "v1\n"
    assert read_config_map(api, ns).data == {"executor": "v1\n", "persistence": "archive: true\n"}


def test_concurrent_writer_and_module_lose_nothing(control_plane, api, ns):
    """The module, end to end, while another client keeps rewriting a foreign key."""
    # a foreign key Argo can read (the module refuses to write next to one it cannot: foreign_key_errors)
    create_config_map(api, ns, {"namespaceParallelism": "0"})
    stop, written = threading.Event(), []

    def writer():
        other = core(control_plane.kubeconfig)
        count = 0
        while not stop.is_set():
            cm = other.read_namespaced_config_map(CONFIGMAP, ns)
            count += 1
            cm.data = dict(cm.data or {}, namespaceParallelism=f"{count}")
            try:
                other.replace_namespaced_config_map(CONFIGMAP, ns, cm)
                written.append(count)
            except kubernetes.client.rest.ApiException as exc:
                if exc.status != 409:
                    raise
            stop.wait(0.1)  # a busy controller or operator, not a tight loop

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        results = [run_module(control_plane.kubeconfig, persistence_args(ns, control_plane.postgres, archive_ttl=ttl))
                   for ttl in ("1d", "2d", "3d")]
    finally:
        stop.set()
        thread.join(30)
    assert all(r.get("failed") is not True for r in results), [r.get("msg") for r in results]
    final = read_config_map(api, ns).data
    assert final["namespaceParallelism"] == f"{written[-1]}"  # the writer's last successful write survived
    assert "archiveTTL: 3d" in final["persistence"]  # and so did the module's
    say(f"concurrent writer made {len(written)} writes during 3 module runs")


def test_missing_namespace_is_named_and_nothing_is_written(control_plane, api):
    namespace = "argo-missing-" + uuid.uuid4().hex[:8]
    result = run_module(control_plane.kubeconfig, persistence_args(namespace, control_plane.postgres))
    assert result["failed"] is True
    assert f"postgresql.username_secret: namespace {namespace} does not exist" in result["msg"], result["msg"]
    assert read_config_map(api, namespace) is None


def test_missing_secret_fails_clearly_and_writes_nothing(control_plane, api, argo_namespace):
    args = persistence_args(argo_namespace, control_plane.postgres)
    result = run_module(control_plane.kubeconfig, args)
    assert result["failed"] is True
    assert f"postgresql.username_secret: Secret {argo_namespace}/{SECRET} does not exist" in result["msg"]
    assert read_config_map(api, argo_namespace) is None

    create_secret(api, argo_namespace, {"username": "argo-user-value"})
    result = run_module(control_plane.kubeconfig, args)
    assert result["failed"] is True
    assert "postgresql.password_secret" in result["msg"] and "has no key 'password' (it has: username)" in result["msg"]
    assert "argo-user-value" not in result["_output"]  # key names only, never values
    assert read_config_map(api, argo_namespace) is None


def test_invalid_input_writes_nothing(control_plane, api, ns):
    create_config_map(api, ns, dict(FOREIGN))
    before = read_config_map(api, ns)
    result = run_module(control_plane.kubeconfig, persistence_args(ns, control_plane.postgres, archive_ttl="1h30m"))
    assert result["failed"] is True and "archive_ttl: '1h30m' is not a TTL Argo accepts" in result["msg"]
    assert read_config_map(api, ns).metadata.resource_version == before.metadata.resource_version


def test_absent_removes_only_managed_keys(control_plane, api, ns):
    create_config_map(api, ns, dict(FOREIGN))
    run_module(control_plane.kubeconfig, persistence_args(ns, control_plane.postgres))
    result = run_module(control_plane.kubeconfig, {"namespace": ns, "state": "absent"})
    assert result["changed"] is True and result["config"] is None
    assert read_config_map(api, ns).data == FOREIGN
    assert run_module(control_plane.kubeconfig, {"namespace": ns, "state": "absent"})["changed"] is False


@pytest.mark.parametrize("tag, accepted", [("v4.0.5", False), ("v4.1.2", True)])
def test_version_read_from_the_controller_deployment(control_plane, api, ns, tag, accepted):
    apps = kubernetes.client.AppsV1Api(kubernetes.config.new_client_from_config(config_file=control_plane.kubeconfig))
    labels = {"app": "workflow-controller"}
    apps.create_namespaced_deployment(ns, kubernetes.client.V1Deployment(
        metadata=kubernetes.client.V1ObjectMeta(name="workflow-controller"),
        spec=kubernetes.client.V1DeploymentSpec(
            replicas=0, selector=kubernetes.client.V1LabelSelector(match_labels=labels),
            template=kubernetes.client.V1PodTemplateSpec(
                metadata=kubernetes.client.V1ObjectMeta(labels=labels),
                spec=kubernetes.client.V1PodSpec(containers=[kubernetes.client.V1Container(
                    name="workflow-controller", image=f"quay.io/argoproj/workflow-controller:{tag}")])))))
    result = run_module(control_plane.kubeconfig,
                        persistence_args(ns, control_plane.postgres, connection_timeout_seconds=7))
    if accepted:
        assert result["changed"] is True and result["argo_version"] == tag
        assert "connectionTimeoutSeconds: 7" in read_config_map(api, ns).data["persistence"]
    else:
        assert result["failed"] is True
        assert "connection_timeout_seconds needs Argo v4.1 or later; the controller is v4.0" in result["msg"]
        assert read_config_map(api, ns) is None


def test_strings_go_yaml_reads_as_numbers_are_written_quoted_and_stay_unchanged(control_plane, api, ns):
    """cluster_name 1e3 and a label value 09: Argo would read them as 1000 and 9 if written plainly."""
    args = persistence_args(ns, control_plane.postgres, cluster_name="1e3",
                            archive_label_selector={"match_labels": {"tier": "09"}})
    first = run_module(control_plane.kubeconfig, args)
    assert first.get("failed") is not True, first["_output"]
    text = read_config_map(api, ns).data["persistence"]
    assert "clusterName: '1e3'\n" in text and "tier: '09'\n" in text
    assert run_module(control_plane.kubeconfig, args)["changed"] is False
    # the same values written plainly by hand are other values for Argo: the module says so and rewrites them
    cm = read_config_map(api, ns)
    cm.data["persistence"] = text.replace("'1e3'", "1e3").replace("'09'", "09")
    api.replace_namespaced_config_map(CONFIGMAP, ns, cm)
    again = run_module(control_plane.kubeconfig, args, diff=True)
    assert again["changed"] is True and "clusterName changes from '1000' to '1e3'" in warnings_of(again)
    assert read_config_map(api, ns).data["persistence"] == text
