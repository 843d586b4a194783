# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""argo-server's archived-workflows API (``GET /api/v1/archived-workflows``), what Argo's UI lists.

Two ways to reach argo-server:

- ``server_url``: straight to it (k3d's port mapping, an Ingress), the token in ``Authorization``;
- through the Kubernetes API server's service proxy (nothing exposed; the caller's kubeconfig). The
  API server authenticates the caller and strips ``Authorization`` before proxying, so the token
  travels in the ``authorization`` cookie, which argo-server reads like the header (as its UI sends it).

Without a token, argo-server in ``client`` auth mode answers 401: the module reports that as a denial.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.six.moves.urllib.error import HTTPError as UrlHTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import open_url

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

try:
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError
except ImportError:  # reported by the module (AnsibleK8SModule checks the library)
    ApiException = HTTPError = type("Unavailable", (Exception,), {})

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
except ImportError:  # pragma: no cover - kubernetes.core is a declared collection dependency
    AUTH_ARG_SPEC, get_api_client, CoreException = {}, None, Exception

ARCHIVE_PATH = "/api/v1/archived-workflows"
SERVICE_PROXY = "/api/v1/namespaces/%s/services/https:%s:%s/proxy"
TOKEN_REQUEST = "/api/v1/namespaces/%s/serviceaccounts/%s/token"
TIMEOUT = 30


class ArgoServerError(ArgoopsError):
    """argo-server could not be asked, or refused; ``status`` is its HTTP status when it answered."""

    def __init__(self, message, status=None):
        super(ArgoServerError, self).__init__(message, status=status)
        self.status = status


def query(namespace, name_prefix=None, label_selector=None, limit=None):
    """The query string argo-server's ListArchivedWorkflows reads (v3.5+ field names)."""
    params = [("namespace", namespace)]
    if name_prefix:
        params.append(("namePrefix", name_prefix))
    if label_selector:
        params.append(("listOptions.labelSelector", ",".join(label_selector)))
    if limit:
        params.append(("listOptions.limit", str(limit)))
    return urlencode(params)


def proxy_path(server_namespace, service, port):
    return SERVICE_PROXY % (quote(server_namespace, safe=""), quote(service, safe=""), quote(str(port), safe=""))


def auth_headers(token, through_proxy):
    if not token:
        return {}
    if through_proxy:  # the API server strips Authorization before proxying; argo-server also reads this cookie
        return {"Cookie": "authorization=Bearer %s" % token}
    return {"Authorization": "Bearer %s" % token}


def parse_body(text):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"message": text[:200]}


def from_argo_server(body):
    """argo-server's errors are gRPC-gateway JSON ({code, message}); the API server's are a Status."""
    return body.get("kind") != "Status"


def denial(status, body, through_proxy):
    """The error for a non-2xx answer, phrased for the person running the play."""
    message = body.get("message") or ""
    if through_proxy and not from_argo_server(body):
        where = "the Kubernetes API server"
        hint = {401: "check kubeconfig / api_key", 403: "the caller needs get on services/proxy in the namespace",
                404: "no such Service (check server_namespace / server_service / server_port)",
                503: "the Service has no ready argo-server pod"}.get(status, "is the cluster healthy?")
    else:
        where = "argo-server"
        hint = {401: "no token, or argo-server does not accept it (auth mode client needs a valid "
                     "Kubernetes token: token or service_account)",
                403: "the token's identity may not list workflows in that namespace (RBAC: list on "
                     "workflows.argoproj.io)",
                404: "argo-server has no archive API here: is persistence.archive on?"}.get(status, "")
    detail = (": " + message if message else "") + (" (%s)" % hint if hint else "")
    return ArgoServerError("%s answered HTTP %s%s" % (where, status, detail), status)


def summarize(workflow):
    """What a play needs of one archived workflow (the full object stays with argo-server)."""
    metadata = workflow.get("metadata") or {}
    status = workflow.get("status") or {}
    return {
        "name": metadata.get("name"), "namespace": metadata.get("namespace"), "uid": metadata.get("uid"),
        "labels": metadata.get("labels") or {}, "phase": status.get("phase"),
        "started_at": status.get("startedAt"), "finished_at": status.get("finishedAt"),
    }


def summarize_list(body):
    return [summarize(item) for item in body.get("items") or []]


def argument_spec():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", required=True),
        name_prefix=dict(type="str"),
        label_selector=dict(type="list", elements="str", default=[]),
        limit=dict(type="int", default=100),
        token=dict(type="str", no_log=True),
        service_account=dict(type="str"),
        token_expiration_seconds=dict(type="int", default=600, no_log=False),  # a lifetime, not a secret
        server_url=dict(type="str", default=""),
        validate_server_certs=dict(type="bool", default=False),
        server_namespace=dict(type="str", default="argo"),
        server_service=dict(type="str", default="argo-server"),
        server_port=dict(type="str", default="web"),
    )
    return spec


def _kube(module):
    try:
        return get_api_client(module=module).client
    except (CoreException, HTTPError, OSError, ApiException) as err:
        raise ArgoServerError("cannot create a Kubernetes client: %s" % err)


def token_for(module):
    """A short-lived token for ``service_account`` (None when the module has none to ask for)."""
    params = module.params
    if not params["service_account"]:
        return None
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": params["token_expiration_seconds"]}}
    path = TOKEN_REQUEST % (quote(params["namespace"], safe=""), quote(params["service_account"], safe=""))
    try:
        answer = _kube(module).request("POST", path, body=body, _request_timeout=TIMEOUT).to_dict()
    except ApiException as err:
        raise ArgoServerError("requesting a token for ServiceAccount %s/%s failed (HTTP %s): %s" % (
            params["namespace"], params["service_account"], err.status,
            parse_body(err.body or "").get("message") or err.reason))
    except (HTTPError, OSError) as err:
        raise ArgoServerError("requesting a token for ServiceAccount %s/%s failed: the API server could not "
                              "be reached (%s)" % (params["namespace"], params["service_account"], err))
    return answer["status"]["token"]


def ask(module, token):
    """(HTTP status, body) of ListArchivedWorkflows; ArgoServerError for anything but 2xx."""
    params = module.params
    qs = query(params["namespace"], params["name_prefix"], params["label_selector"], params["limit"])
    if params["server_url"]:
        url = params["server_url"].rstrip("/") + ARCHIVE_PATH + "?" + qs
        try:
            response = open_url(url, headers=auth_headers(token, False), timeout=TIMEOUT,
                                validate_certs=params["validate_server_certs"])
            return response.getcode(), parse_body(response.read().decode("utf-8", "replace"))
        except UrlHTTPError as err:
            raise denial(err.code, parse_body(err.read().decode("utf-8", "replace")), False)
        except (URLError, OSError) as err:
            raise ArgoServerError("argo-server at %s could not be reached: %s" % (params["server_url"], err))
    path = proxy_path(params["server_namespace"], params["server_service"], params["server_port"])
    try:
        # raw: argo-server's list has no `kind`, which the dynamic client's objects require
        answer = _kube(module).request("GET", path + ARCHIVE_PATH + "?" + qs, _request_timeout=TIMEOUT,
                                       header_params=auth_headers(token, True), serialize=False)
        return answer.status, parse_body(answer.data.decode("utf-8", "replace"))
    except ApiException as err:
        raise denial(err.status, parse_body(err.body or ""), True)
    except (HTTPError, OSError) as err:
        raise ArgoServerError("the Kubernetes API server could not be reached: %s" % err)


def run_argo_server_archive_info(module, result):
    """argo_server_archive_info: ask argo-server's archive API (with a token, or one for a service account)."""
    result["via"] = module.params["server_url"] or "kubernetes-service-proxy"
    token = module.params["token"] or token_for(module)
    status, body = ask(module, token)
    result.update(changed=False, status=status, workflows=summarize_list(body))
