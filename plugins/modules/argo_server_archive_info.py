#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: argo_server_archive_info
short_description: List archived workflows as argo-server's API returns them (what Argo's UI shows)
version_added: 0.2.0
description:
  - Calls argo-server's C(GET /api/v1/archived-workflows) for one namespace, as a user of the UI would, with a
    Kubernetes bearer token in argo-server's C(client) auth mode. Since Argo 3.5 the UI has no separate
    "Archived Workflows" page; archived runs appear in the Workflows list, read from this API.
  - Reaches argo-server at O(server_url), or (the default) through the Kubernetes API server's service proxy,
    so nothing has to be exposed. Through the proxy the token is sent in the C(authorization) cookie, which
    argo-server reads like the header (the API server removes C(Authorization) before proxying).
  - The token is O(token), or a short-lived one the module requests for O(service_account) (TokenRequest API);
    it is never returned or logged. Without either, no credentials are sent (argo-server in C(client) mode must
    then answer 401, which fails the task with RV(status) set).
author:
  - argoops maintainers (@argoops)
options:
  namespace:
    description: Namespace whose archived workflows are listed (the token must be allowed to list workflows there).
    type: str
    required: true
  name_prefix:
    description: Only workflows whose name starts with this.
    type: str
  label_selector:
    description: Kubernetes label selectors the workflows must match (joined with commas), like C(app=demo).
    type: list
    elements: str
    default: []
  limit:
    description: At most this many workflows.
    type: int
    default: 100
  token:
    description: Bearer token argo-server authenticates the request with (a Kubernetes token in C(client) mode).
    type: str
  service_account:
    description:
      - Request a token for this ServiceAccount in O(namespace) (TokenRequest API, valid for
        O(token_expiration_seconds)) instead of giving O(token). The caller's kubeconfig needs C(create) on
        C(serviceaccounts/token).
    type: str
  token_expiration_seconds:
    description: Lifetime of the token requested for O(service_account).
    type: int
    default: 600
  server_url:
    description:
      - Base URL of argo-server, like V(https://localhost:2746) (k3d's port mapping, an Ingress). When empty, through
        the Kubernetes API server's service proxy to O(server_service) in O(server_namespace).
    type: str
    default: ""
  validate_server_certs:
    description:
      - With O(server_url), verify argo-server's certificate. argo-server serves a self-signed one unless given
        its own, so this is off by default; through the service proxy the API server's certificate is verified
        as the kubeconfig says.
    type: bool
    default: false
  server_namespace:
    description: Namespace of the argo-server Service (service proxy only).
    type: str
    default: argo
  server_service:
    description: Name of the argo-server Service (service proxy only).
    type: str
    default: argo-server
  server_port:
    description: Port name or number of the Service (service proxy only; argo-server serves HTTPS on it).
    type: str
    default: web
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads (a requested token is not an object); it behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - kubernetes >= 24.2.0 (Python client)
notes:
  - The Kubernetes connection options are used for the service proxy and for O(service_account) tokens.
seealso:
  - module: argoops.workflows.archive_info
    description: The same archive read from PostgreSQL directly.
  - name: Argo's workflow archive
    description: Argo's documentation of the archive and of argo-server's archived-workflows API.
    link: https://argo-workflows.readthedocs.io/en/latest/workflow-archive/
"""

EXAMPLES = r"""
- name: List what the UI shows for namespace argo, as a read-only service account would see it
  argoops.workflows.argo_server_archive_info:
    namespace: argo
    service_account: archive-reader
  register: archived

- name: Through k3d's port mapping, with a token from a vault
  argoops.workflows.argo_server_archive_info:
    server_url: https://localhost:2746
    namespace: argo
    name_prefix: hello-
    token: "{{ vault_argo_token }}"

- name: Prove that argo-server refuses a request without a token
  argoops.workflows.argo_server_archive_info:
    namespace: argo
  register: anonymous
  failed_when: anonymous.status != 401
"""

RETURN = r"""
status:
  description: HTTP status argo-server answered with (also set when the task fails because it refused).
  returned: when argo-server answered
  type: int
  sample: 200
via:
  description: How argo-server was reached, V(kubernetes-service-proxy) or the O(server_url).
  returned: always
  type: str
  sample: kubernetes-service-proxy
workflows:
  description: The archived workflows argo-server returned, newest first.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: Workflow name., type: str, returned: always, sample: archive-check-x7k2p}
    namespace: {description: Its namespace., type: str, returned: always, sample: argo}
    uid: {description: The workflow's uid (the archive's key)., type: str, returned: always,
          sample: 0f8e1c2a-4f5b-4c8e-9d51-2b7f0c1e9a11}
    phase: {description: Final phase., type: str, returned: always, sample: Succeeded}
    started_at: {description: Start time., type: str, returned: always, sample: "2026-12-02T11:33:50Z"}
    finished_at: {description: End time., type: str, returned: always, sample: "2026-12-02T11:33:58Z"}
    labels: {description: The workflow's labels., type: dict, returned: always,
             sample: {workflows.argoproj.io/phase: Succeeded}}
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.argoops.workflows.plugins.module_utils import argo_server
from ansible_collections.argoops.workflows.plugins.module_utils.argo_server import run_argo_server_archive_info
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True,
                              mutually_exclusive=[("token", "service_account")])
    run_module(module, run_argo_server_archive_info)


def argument_spec():
    return argo_server.argument_spec()


if __name__ == "__main__":
    main()
