"""Small Kubernetes helpers shared by the fixtures and the CLI (Python `kubernetes` client)."""
from __future__ import annotations

import os
import time
import uuid

import yaml

FIELD_MANAGER = "argoops-tests"


def api_client(kubeconfig: str):
    from kubernetes import config  # pylint: disable=import-outside-toplevel
    return config.new_client_from_config(config_file=kubeconfig)


def argo_crd_documents(manifests: str) -> list:
    """Argo's full CRDs, in the order its own kustomization lists them (they need server-side apply)."""
    crd_dir = os.path.join(manifests, "base", "crds", "full")
    with open(os.path.join(crd_dir, "kustomization.yaml"), encoding="utf-8") as handle:
        files = yaml.safe_load(handle)["resources"]
    docs = []
    for name in files:
        with open(os.path.join(crd_dir, name), encoding="utf-8") as handle:
            docs.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    return docs


def apply_argo_crds(kubeconfig: str, manifests: str, timeout: float = 120.0) -> list:
    """Server-side apply every Argo CRD and wait until each is Established; returns their names."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    with api_client(kubeconfig) as api:
        ext = client.ApiextensionsV1Api(api)
        names = []
        for doc in argo_crd_documents(manifests):
            name = doc["metadata"]["name"]
            ext.patch_custom_resource_definition(name, doc, field_manager=FIELD_MANAGER, force=True,
                                                 _content_type="application/apply-patch+yaml")
            names.append(name)
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                conditions = ext.read_custom_resource_definition(name).status.conditions or []
                if any(c.type == "Established" and c.status == "True" for c in conditions):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"CRD {name} not Established after {timeout:.0f}s")
                time.sleep(0.2)
    return names


def create_namespace(kubeconfig: str, prefix: str = "argo-test") -> str:
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with api_client(kubeconfig) as api:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": name, "labels": {"argoops.test": "true"}}})
    return name


def delete_namespace(kubeconfig: str, name: str, wait: float = 0.0) -> bool:
    """Delete; with ``wait`` > 0, True once it is really gone (the namespace controller finished)."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    with api_client(kubeconfig) as api:
        core = client.CoreV1Api(api)
        try:
            core.delete_namespace(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                core.read_namespace(name)
            except client.ApiException as exc:
                if exc.status == 404:
                    return True
                raise
            time.sleep(0.5)
    return wait <= 0
