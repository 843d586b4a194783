"""argo_manifests_info against the real API server: the labelled CRDs' metadata (PartialObjectMetadataList,
no schema, no status) decides which CRDs argo_install applies, so an unchanged CRD is not sent again.

A small CRD of its own (unique name) stands for Argo's: the session's Argo CRDs are shared by other tests.
"""
from __future__ import annotations

import uuid

import kubernetes
import pytest
import yaml

from persistence_support import run_module, unreachable_kubeconfig

MODULE = "argoops.workflows.argo_manifests_info"
LABEL, ANNOTATION = "argoops.workflows/crds", "argoops.workflows/manifest-sha256"
MANIFEST = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.example.com
spec:
  group: example.com
  names: {{kind: Thing, listKind: ThingList, plural: {plural}, singular: {singular}}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}{extra}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: argo
"""


@pytest.fixture
def crd_name(control_plane):
    plural = "argoopsthings" + uuid.uuid4().hex[:8]
    yield plural
    api = kubernetes.client.ApiextensionsV1Api(kubernetes.config.new_client_from_config(control_plane.kubeconfig))
    try:
        api.delete_custom_resource_definition(plural + ".example.com")
    except kubernetes.client.rest.ApiException as exc:
        if exc.status != 404:
            raise


def test_unchanged_crd_is_not_returned_again_changed_text_is(control_plane, crd_name, tmp_path):
    name = crd_name + ".example.com"
    manifest = tmp_path / "install.yaml"
    manifest.write_text(MANIFEST.format(plural=crd_name, singular=crd_name[:-1], extra=""))
    args = dict(src=str(manifest), namespace="argo-x", version="v4.0.5")
    api = kubernetes.client.ApiextensionsV1Api(kubernetes.config.new_client_from_config(control_plane.kubeconfig))

    first = run_module(control_plane.kubeconfig, args, module=MODULE)
    assert first.get("failed") is not True, first.get("msg")
    assert first["changed"] is False and name in first["crds_to_apply"]
    assert [(o["kind"], o["metadata"]) for o in first["objects"]] == [
        ("ServiceAccount", {"name": "argo", "namespace": "argo-x"})]
    docs = [d for d in yaml.safe_load_all(first["crd_manifest"]) if d["metadata"]["name"] == name]
    assert docs[0]["metadata"]["labels"] == {LABEL: "argo-workflows"}
    api.create_custom_resource_definition(docs[0])  # what argo_install's apply does

    again = run_module(control_plane.kubeconfig, args, module=MODULE)
    assert name not in again["crds_to_apply"] and name not in again["crd_manifest"]
    assert [c["name"] for c in again["crds"]] == [name]

    manifest.write_text(MANIFEST.format(plural=crd_name, singular=crd_name[:-1], extra="\n  # a new release"))
    changed = run_module(control_plane.kubeconfig, args, module=MODULE)
    assert name in changed["crds_to_apply"] and "# a new release" in changed["crd_manifest"]

    every = run_module(control_plane.kubeconfig, dict(args, compare_live=False), module=MODULE)
    assert name in every["crds_to_apply"]


def test_unreachable_api_server_is_explained(tmp_path):
    kubeconfig = unreachable_kubeconfig(tmp_path / "unreachable.kubeconfig")
    manifest = tmp_path / "install.yaml"
    manifest.write_text(MANIFEST.format(plural="things", singular="thing", extra=""))
    result = run_module(kubeconfig, dict(src=str(manifest), namespace="argo", version="v4.0.5"), module=MODULE)
    assert result["failed"] is True
    assert "cannot create a Kubernetes client" in result["msg"], result["msg"]
    assert "Connection refused" in result["msg"] and "check host / kubeconfig / context" in result["msg"]
