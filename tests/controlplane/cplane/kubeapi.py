"""Small Kubernetes helpers shared by the fixtures and the CLI (Python `kubernetes` client)."""
from __future__ import annotations

import hashlib
import json
import os
import time
import uuid

import yaml

FIELD_MANAGER = "argoops-tests"
SOURCE_HASH = "argoops.test/source-sha256"
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def api_client(kubeconfig: str):
    from kubernetes import config  # pylint: disable=import-outside-toplevel
    return config.new_client_from_config(config_file=kubeconfig)


def crd_variant() -> str:
    """``full`` (what Argo v4's own install applies: schema-validated, ~5 MB, ~0.8 GB more
    apiserver memory) or ``minimal`` (schema-less, fast): $ARGOOPS_ARGO_CRDS, default full."""
    variant = os.environ.get("ARGOOPS_ARGO_CRDS", "full")
    if variant not in ("full", "minimal"):
        raise ValueError(f"ARGOOPS_ARGO_CRDS must be 'full' or 'minimal', not {variant!r}")
    return variant


def _argo_crd_files(manifests: str) -> list:
    """Argo's CRD files, in the order its own kustomization lists them."""
    crd_dir = os.path.join(manifests, "base", "crds", crd_variant())
    with open(os.path.join(crd_dir, "kustomization.yaml"), encoding="utf-8") as handle:
        return [os.path.join(crd_dir, name) for name in yaml.safe_load(handle)["resources"]]


def _read_json(call, *args, metadata_only: bool = False) -> dict | None:
    """GET without the client's model deserialisation (seconds per multi-MB CRD)."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    headers = {"Accept": METADATA_ONLY} if metadata_only else None
    try:
        return json.loads(call(*args, _preload_content=False, _headers=headers).data)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def apply_argo_crds(kubeconfig: str, manifests: str, timeout: float = 180.0) -> list:
    """Server-side apply Argo's CRDs (the full ones are too big for client-side apply) and wait until each is
    Established; returns their names. A CRD whose source-hash annotation matches is left alone,
    so a warm run costs a few GETs instead of parsing and applying ~5 MB of schema."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    names, applied = [], []
    with api_client(kubeconfig) as api:
        ext = client.ApiextensionsV1Api(api)
        for path in _argo_crd_files(manifests):
            with open(path, "rb") as handle:
                raw = handle.read()
            digest = hashlib.sha256(raw).hexdigest()
            group, plural = os.path.basename(path)[:-len(".yaml")].split("_", 1)  # Argo's file naming
            name = f"{plural}.{group}"
            names.append(name)
            current = _read_json(ext.read_custom_resource_definition, name, metadata_only=True)
            if current and current["metadata"].get("annotations", {}).get(SOURCE_HASH) == digest:
                continue
            doc = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # nosec - CSafeLoader is safe
            if doc["metadata"]["name"] != name:
                raise RuntimeError(f"{path} defines {doc['metadata']['name']}, expected {name}")
            doc["metadata"].setdefault("annotations", {})[SOURCE_HASH] = digest
            ext.patch_custom_resource_definition(name, doc, field_manager=FIELD_MANAGER, force=True,
                                                 _content_type="application/apply-patch+yaml", _preload_content=False)
            applied.append(name)
        deadline = time.monotonic() + timeout
        for name in applied:
            while True:
                current = _read_json(ext.read_custom_resource_definition, name) or {}
                conditions = (current.get("status") or {}).get("conditions") or []
                if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
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


def delete_namespace(kubeconfig: str, name: str) -> None:
    """Delete (an absent namespace is fine); the namespace controller finishes it in the background."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    with api_client(kubeconfig) as api:
        try:
            client.CoreV1Api(api).delete_namespace(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
