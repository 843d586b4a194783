# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes client: the only place this collection talks to the API server.

Connection options, ``K8S_AUTH_*`` fallbacks and the client come from kubernetes.core
(``get_api_client``); this file adds the few REST calls our modules need: read and update a
ConfigMap under optimistic concurrency, look at which keys a Secret has (never its values), read the
image tag of the workflow-controller Deployment, and list objects' metadata only (Argo's CRDs).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

try:
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError
except ImportError:  # reported by the module (AnsibleK8SModule checks the library)
    ApiException = HTTPError = type("Unavailable", (Exception,), {})

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
except ImportError:  # pragma: no cover - kubernetes.core is a declared collection dependency
    get_api_client = CoreException = None

RETRIED_STATUS = (409, 429, 500, 502, 503, 504)
REQUEST_TIMEOUT = 30
# Plain REST paths through the dynamic client's request(): the typed CoreV1Api/AppsV1Api of the
# kubernetes 37 client build hundreds of pydantic models on import (about 7 s per module run here).
CONFIG_MAPS = "/api/v1/namespaces/%s/configmaps"
SECRET = "/api/v1/namespaces/%s/secrets/%s"
DEPLOYMENT = "/apis/apps/v1/namespaces/%s/deployments/%s"
NAMESPACE = "/api/v1/namespaces/%s"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


class KubeError(ArgoopsError):
    """An API failure, phrased for the person running the play."""


def _explain(err, what):
    status = getattr(err, "status", None)
    if status is None:
        hint = "the API server could not be reached: check host / kubeconfig and that the cluster is up"
    else:
        hint = {
            401: "the credentials were rejected: check kubeconfig / api_key",
            403: "the credentials are not allowed to do this (RBAC)",
            404: "it does not exist (check the namespace)",
            409: "it kept changing underneath us: another writer updates it continuously; run again",
        }.get(status, "the API server answered with an error; run again when it is healthy")
    summary = err.summary() if hasattr(err, "summary") else None
    reason = summary or getattr(err, "reason", None) or str(err).splitlines()[0]
    return KubeError("%s failed (%s%s): %s" % (what, "HTTP %s: " % status if status else "", reason, hint))


def connect(module):
    """A Kube bound to the client kubernetes.core builds from the module's connection options."""
    try:
        return Kube(get_api_client(module=module).client)
    except (CoreException, HTTPError, OSError, ApiException) as err:
        raise KubeError("cannot create a Kubernetes client: %s; check host / kubeconfig / context and that the "
                        "cluster is up" % err)


class ConfigMapUpdate:
    """Outcome of ``Kube.update_config_map``: the plan it applied (made from the last read), whether it was
    written, after how many attempts."""

    def __init__(self, plan, written, attempts):
        self.plan, self.written, self.attempts = plan, written, attempts


class Kube:
    """A few REST calls over kubernetes.core's dynamic client; objects are plain dicts."""

    def __init__(self, dynamic_client, attempts=8, backoff=0.2):
        self.client = dynamic_client
        self.attempts, self.backoff = attempts, backoff

    def _request(self, what, method, path, body=None, **params):
        """The response as a dict. API errors (ApiException) propagate; a failed connection is explained."""
        try:
            return self.client.request(method, path, body=body, _request_timeout=REQUEST_TIMEOUT, **params).to_dict()
        except (HTTPError, OSError) as err:
            raise _explain(err, what)

    def _read(self, what, path):
        """The object as a dict, or None when it does not exist."""
        try:
            return self._request(what, "GET", path)
        except ApiException as err:
            if err.status == 404:
                return None
            raise _explain(err, what)

    def read_config_map(self, namespace, name):
        """The ConfigMap as a dict, or None when it does not exist."""
        return self._read("reading ConfigMap %s/%s" % (namespace, name), CONFIG_MAPS % namespace + "/" + name)

    def update_config_map(self, namespace, name, plan_for, check_mode=False):
        """Read the ConfigMap, let ``plan_for(data or None)`` return a plan (``changed``, and ``data``: the
        new data), write it when it changes something; return the applied plan in a ConfigMapUpdate.

        Writes carry the resourceVersion that was read; on a conflict (someone else wrote in between)
        or a transient API error the ConfigMap is read again and planned again, so a concurrent edit of
        another key is never lost. Creates the ConfigMap when it is missing.
        """
        what = "updating ConfigMap %s/%s" % (namespace, name)
        for attempt in range(1, self.attempts + 1):
            current = self.read_config_map(namespace, name)
            plan = plan_for(None if current is None else dict(current.get("data") or {}))
            if not plan.changed or check_mode:
                return ConfigMapUpdate(plan, False, attempt)
            try:
                if current is None:
                    body = {"apiVersion": "v1", "kind": "ConfigMap", "data": plan.data,
                            "metadata": {"name": name, "namespace": namespace}}
                    self._request(what, "POST", CONFIG_MAPS % namespace, body)
                else:
                    current["data"] = plan.data  # metadata.resourceVersion stays: the server refuses stale writes
                    self._request(what, "PUT", CONFIG_MAPS % namespace + "/" + name, current)
                return ConfigMapUpdate(plan, True, attempt)
            except ApiException as err:
                if err.status not in RETRIED_STATUS or attempt == self.attempts:
                    raise _explain(err, what + (" after %d attempts" % attempt if attempt > 1 else ""))
            time.sleep(self.backoff * attempt * random.uniform(0.5, 1.5))  # nosec - jitter, not crypto
        raise KubeError("%s: no attempt left" % what)  # pragma: no cover - the loop returns or raises

    def secret_keys(self, namespace, name):
        """Names of the keys a Secret holds (None when it does not exist). Values are never kept."""
        secret = self._read("reading Secret %s/%s" % (namespace, name), SECRET % (namespace, name))
        return None if secret is None else set(secret.get("data") or {})

    def list_metadata(self, what, path, label_selector=None):
        """The metadata of the objects at a list ``path`` (PartialObjectMetadataList: no spec, no status), so
        that listing large objects such as CRDs transfers and parses only what a decision needs."""
        try:
            listed = self._request(what, "GET", path, label_selector=label_selector,
                                   header_params={"Accept": METADATA_LIST})
        except ApiException as err:
            raise _explain(err, what)
        return listed.get("items") or []

    def namespace_exists(self, name):
        """Whether the namespace exists (so a missing object can be told from a missing namespace)."""
        return self._read("reading Namespace %s" % name, NAMESPACE % name) is not None

    def deployment_image_tag(self, namespace, name, container):
        """The image tag of ``container`` (else the first container) in a Deployment; None if unknown."""
        deployment = self._read("reading Deployment %s/%s" % (namespace, name), DEPLOYMENT % (namespace, name))
        if deployment is None:
            return None
        containers = deployment["spec"]["template"]["spec"].get("containers") or []
        chosen = next((c for c in containers if c.get("name") == container), containers[0] if containers else None)
        return image_tag(chosen.get("image")) if chosen is not None else None


def image_tag(image):
    """'quay.io/argoproj/workflow-controller:v4.0.5@sha256:..' -> 'v4.0.5'; None without a tag."""
    if not image:
        return None
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None
