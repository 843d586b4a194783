# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes door: the only place this collection talks to the API server.

Connection options, ``K8S_AUTH_*`` fallbacks and the client come from kubernetes.core
(``get_api_client``); this file adds the few typed calls our modules need: read and update a
ConfigMap under optimistic concurrency, look at which keys a Secret has (never its values), and
read the image tag of the workflow-controller Deployment.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

try:
    from kubernetes.client import AppsV1Api, CoreV1Api, V1ConfigMap, V1ObjectMeta
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError
    HAS_KUBERNETES = True
except ImportError:  # reported by the module (AnsibleK8SModule checks the library)
    HAS_KUBERNETES = False
    ApiException = HTTPError = type("Unavailable", (Exception,), {})

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
except ImportError:  # pragma: no cover - kubernetes.core is a declared collection dependency
    get_api_client = CoreException = None

RETRIED_STATUS = (409, 429, 500, 502, 503, 504)
REQUEST_TIMEOUT = 30


class KubeError(Exception):
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
    reason = getattr(err, "reason", None) or str(err).splitlines()[0]
    return KubeError("%s failed (%s%s): %s" % (what, "HTTP %s " % status if status else "", reason, hint))


def connect(module):
    """A Kube bound to the client kubernetes.core builds from the module's connection options."""
    try:
        return Kube(get_api_client(module=module).client.client)
    except (CoreException, HTTPError, OSError, ApiException) as err:
        raise KubeError("cannot create a Kubernetes client: %s" % err)


class ConfigMapUpdate:
    """Outcome of ``Kube.update_config_map``: the data before/after, whether it was written, attempts."""

    def __init__(self, before, after, written, attempts, resource_version):
        self.before, self.after, self.written = before, after, written
        self.attempts, self.resource_version = attempts, resource_version


class Kube:
    """Typed calls over one kubernetes ``ApiClient``."""

    def __init__(self, api_client, attempts=5, backoff=0.2):
        self.core = CoreV1Api(api_client)
        self.apps = AppsV1Api(api_client)
        self.attempts, self.backoff = attempts, backoff

    def _call(self, what, function, *args, **kwargs):
        try:
            return function(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
        except ApiException as err:
            if err.status == 404:
                return None
            raise
        except (HTTPError, OSError) as err:
            raise _explain(err, what)

    def read_config_map(self, namespace, name):
        """The ConfigMap object, or None when it does not exist."""
        what = "reading ConfigMap %s/%s" % (namespace, name)
        try:
            return self._call(what, self.core.read_namespaced_config_map, name, namespace)
        except ApiException as err:
            raise _explain(err, what)

    def update_config_map(self, namespace, name, mutate, check_mode=False):
        """Read the ConfigMap, let ``mutate(data or None)`` return new data (None: no change), write it.

        Writes carry the resourceVersion that was read; on a conflict (someone else wrote in between)
        or a transient API error the ConfigMap is read again and ``mutate`` re-applied, so a concurrent
        edit of another key is never lost. Creates the ConfigMap when it is missing.
        """
        what = "updating ConfigMap %s/%s" % (namespace, name)
        for attempt in range(1, self.attempts + 1):
            current = self.read_config_map(namespace, name)
            before = None if current is None else dict(current.data or {})
            after = mutate(before)
            version = None if current is None else current.metadata.resource_version
            if after is None or check_mode:
                return ConfigMapUpdate(before, before if after is None else after, False, attempt, version)
            try:
                if current is None:
                    body = V1ConfigMap(metadata=V1ObjectMeta(name=name, namespace=namespace), data=after)
                    written = self.core.create_namespaced_config_map(namespace, body, _request_timeout=REQUEST_TIMEOUT)
                else:
                    current.data = after  # metadata.resourceVersion stays: the server refuses stale writes
                    written = self.core.replace_namespaced_config_map(name, namespace, current,
                                                                      _request_timeout=REQUEST_TIMEOUT)
                return ConfigMapUpdate(before, after, True, attempt, written.metadata.resource_version)
            except ApiException as err:
                if err.status not in RETRIED_STATUS or attempt == self.attempts:
                    raise _explain(err, what + (" after %d attempts" % attempt if attempt > 1 else ""))
            except (HTTPError, OSError) as err:
                raise _explain(err, what)
            time.sleep(self.backoff * attempt * random.uniform(0.5, 1.5))  # nosec - jitter, not crypto
        raise KubeError("%s: no attempt left" % what)  # pragma: no cover - the loop returns or raises

    def secret_keys(self, namespace, name):
        """Names of the keys a Secret holds (None when it does not exist). Values are never kept."""
        what = "reading Secret %s/%s" % (namespace, name)
        try:
            secret = self._call(what, self.core.read_namespaced_secret, name, namespace)
        except ApiException as err:
            raise _explain(err, what)
        if secret is None:
            return None
        keys = set(secret.data or {})
        secret.data = None
        return keys

    def deployment_image_tag(self, namespace, name, container):
        """The image tag of ``container`` (else the first container) in a Deployment; None if unknown."""
        what = "reading Deployment %s/%s" % (namespace, name)
        try:
            deployment = self._call(what, self.apps.read_namespaced_deployment, name, namespace)
        except ApiException as err:
            raise _explain(err, what)
        if deployment is None:
            return None
        containers = deployment.spec.template.spec.containers or []
        chosen = next((c for c in containers if c.name == container), containers[0] if containers else None)
        return image_tag(chosen.image) if chosen is not None else None


def image_tag(image):
    """'quay.io/argoproj/workflow-controller:v4.0.5@sha256:..' -> 'v4.0.5'; None without a tag."""
    if not image:
        return None
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None
