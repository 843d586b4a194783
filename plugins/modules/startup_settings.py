#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: startup_settings
short_description: Restart Argo's Deployments when they run with start-up settings older than the ConfigMap's
version_added: 0.2.0
description:
  - The workflow-controller and argo-server read C(persistence), C(retentionPolicy) and the database credentials
    only at start-up. This module decides from state whether they must restart, on every run, not from whether
    this run changed something (a run killed after writing the ConfigMap would otherwise leave Argo on the old
    settings with nothing saying so).
  - It digests the start-up settings the controller's ConfigMap holds now (as Argo resolves them, so C(7d) and
    C(168h) are the same; C(archiveLabelSelector), which a running controller re-reads, is left out) together
    with the uid and resourceVersion of each credentials Secret they name (never the Secret's values).
  - Each Deployment's pod template records the digest it was rolled with in the annotation
    C(workflows.argoops.io/startup-settings-hash). A Deployment whose annotation differs is stale; with
    I(restart=true) the annotation is set, which rolls its pods as C(kubectl rollout restart) does.
  - With I(restart=false) nothing is written; RV(stale) names the Deployments running old settings (use it to
    check a cluster, as M(argoops.workflows.persistence_config) users and the C(archive_check) role do).
author:
  - argoops maintainers (@argoops)
options:
  namespace:
    description: Namespace of the Deployments, the ConfigMap and the credentials Secrets.
    type: str
    default: argo
  configmap:
    description: The controller's ConfigMap (its C(--configmap)).
    type: str
    default: workflow-controller-configmap
  deployments:
    description: Deployments that read the settings at start-up. One that does not exist is reported in RV(missing).
    type: list
    elements: str
    default: [workflow-controller, argo-server]
  restart:
    description: Roll the stale Deployments. V(false) only reports them.
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Predicts which Deployments would restart (RV(deployments)) without writing.
  diff_mode:
    support: full
    details: Shows the annotation of each stale Deployment before and after.
  platform:
    platforms: posix
requirements:
  - kubernetes >= 24.2.0 (Python client)
  - PyYAML
notes:
  - Secrets are read for their metadata only; their values never enter the digest or the result.
  - The module does not wait for the rollout; use M(kubernetes.core.k8s_info) with C(wait=true) for that.
seealso:
  - module: argoops.workflows.persistence_config
"""

EXAMPLES = r"""
- name: Write the archive settings
  argoops.workflows.persistence_config:
    namespace: argo
    archive: true
    postgresql:
      host: postgres
      database: argo
      table_name: argo_workflows
      username_secret: {name: argo-postgres-config, key: username}
      password_secret: {name: argo-postgres-config, key: password}

- name: Restart the controller and argo-server if they run older settings (also after an interrupted run)
  argoops.workflows.startup_settings:
    namespace: argo
  register: argo_restart

- name: Fail when the controller runs settings older than its ConfigMap
  argoops.workflows.startup_settings:
    namespace: argo
    deployments: [workflow-controller]
    restart: false
  register: argo_startup
  failed_when: argo_startup.stale | length > 0
"""

RETURN = r"""
settings_hash:
  description: Digest of the start-up settings in the ConfigMap now (what every Deployment should run with).
  returned: always
  type: str
  sample: 3f1c9a0e5b7d2c4a8e6f1b3d5c7a9e0f
stale:
  description: Deployments whose pod template records another digest (or none); restarted when I(restart=true).
  returned: always
  type: list
  elements: str
  sample: [workflow-controller, argo-server]
missing:
  description: Deployments of I(deployments) that do not exist.
  returned: always
  type: list
  elements: str
  sample: []
deployments:
  description: One entry per Deployment of I(deployments).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The Deployment.
      type: str
    exists:
      description: Whether it exists.
      type: bool
    running_hash:
      description: The digest its pod template recorded before this run (null when none).
      type: str
    stale:
      description: Whether it runs other settings than the ConfigMap's.
      type: bool
    restarted:
      description: Whether this run restarts it (in check mode, whether it would).
      type: bool
  sample:
    - {name: workflow-controller, exists: true, running_hash: null, stale: true, restarted: true}
diff:
  description: The stale Deployments' annotation before and after (diff mode only).
  returned: when diff mode is on
  type: dict
  sample:
    before: "{\"workflow-controller\": {\"workflows.argoops.io/startup-settings-hash\": null}}\n"
    after: "{\"workflow-controller\": {\"workflows.argoops.io/startup-settings-hash\": \"3f1c9a0e\"}}\n"
"""

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.argoops.workflows.plugins.module_utils.startup_settings import run_startup_settings
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def argument_spec():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", default="argo"),
        configmap=dict(type="str", default="workflow-controller-configmap"),
        deployments=dict(type="list", elements="str", default=["workflow-controller", "argo-server"]),
        restart=dict(type="bool", default=True),
    )
    return spec


def main():
    run_module(AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True), run_startup_settings)


if __name__ == "__main__":
    main()
