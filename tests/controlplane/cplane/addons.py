"""The real node's cluster add-ons, from their upstream manifests in the Go module cache:

- CoreDNS: Kubernetes' own add-on manifest (cluster/addons/dns/coredns/coredns.yaml.base in the
  k8s.io/kubernetes module) with its placeholders filled the way kube-up fills them, as the cluster
  DNS at 10.0.0.10;
- local-path-provisioner: its deploy/local-path-storage.yaml, what k3s ships, with the StorageClass
  marked default and volumes under ``<state>/node-storage``.

Images are rewritten to the locally built ``localhost/...`` ones; everything else is upstream's.
"""
from __future__ import annotations

import json
import time

import yaml

from . import build, images

FIELD_MANAGER = "argoops-controlplane"
# kind -> (API prefix, plural, namespaced)
RESOURCES = {
    "Namespace": ("/api/v1", "namespaces", False),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Service": ("/api/v1", "services", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "StorageClass": ("/apis/storage.k8s.io/v1", "storageclasses", False),
}


def coredns_objects(cluster_dns: str) -> list:
    base = f"{build.module_dir('k8s.io/kubernetes', build.kube_version())}/cluster/addons/dns/coredns/coredns.yaml.base"
    with open(base, encoding="utf-8") as handle:
        text = handle.read()
    text = (text.replace("__DNS__DOMAIN__", "cluster.local").replace("__DNS__SERVER__", cluster_dns)
            .replace("__DNS__MEMORY__LIMIT__", "170Mi"))
    objects = [obj for obj in yaml.safe_load_all(text) if obj]
    for obj in objects:
        if obj["kind"] == "Deployment":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                container["image"] = images.catalog()["coredns"].ref
    return objects


def local_path_objects(storage_dir: str) -> list:
    manifest = f"{build.module_dir(build.LOCAL_PATH_MODULE, build.LOCAL_PATH_VERSION)}/deploy/local-path-storage.yaml"
    with open(manifest, encoding="utf-8") as handle:
        objects = [obj for obj in yaml.safe_load_all(handle) if obj]
    catalog = images.catalog()
    for obj in objects:
        if obj["kind"] == "Deployment":
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = catalog["local-path-provisioner"].ref
        elif obj["kind"] == "StorageClass":
            obj["metadata"].setdefault("annotations", {})["storageclass.kubernetes.io/is-default-class"] = "true"
        elif obj["kind"] == "ConfigMap":
            data = obj["data"]
            data["config.json"] = json.dumps({"nodePathMap": [
                {"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [storage_dir]}]})
            helper = yaml.safe_load(data["helperPod.yaml"])
            helper["spec"]["containers"][0]["image"] = catalog["busybox"].ref
            data["helperPod.yaml"] = yaml.safe_dump(helper)
    return objects


def apply(api, objects: list) -> None:
    """Server-side apply each object (``api`` is KubeCluster.api)."""
    for obj in objects:
        prefix, plural, namespaced = RESOURCES[obj["kind"]]
        namespace = f"/namespaces/{obj['metadata']['namespace']}" if namespaced else ""
        path = f"{prefix}{namespace}/{plural}/{obj['metadata']['name']}?fieldManager={FIELD_MANAGER}&force=true"
        status, body = api("PATCH", path, obj, content_type="application/apply-patch+yaml")
        if status not in (200, 201):
            raise RuntimeError(f"applying {obj['kind']} {obj['metadata']['name']} failed: HTTP {status} {body}")


def wait_available(api, namespace: str, name: str, timeout: float = 180) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        status = api("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")[1].get("status", {})
        if status.get("availableReplicas", 0) >= 1:
            return time.monotonic() - began
        time.sleep(0.5)
    raise TimeoutError(f"Deployment {namespace}/{name} not available after {timeout:.0f}s")
