#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: argo_manifests_info
short_description: Read Argo's release manifests and say what argo_install applies
version_added: 0.1.0
description:
  - Reads Argo Workflows' release manifest (a file, or a directory of C(*.yaml)/C(*.yml) files in name order),
    splits the CustomResourceDefinitions from the other objects and returns both as the
    P(argoops.workflows.argo_install#role) role applies them with M(kubernetes.core.k8s). Changes nothing.
  - The other objects get the namespace O(namespace) (cluster-scoped kinds excepted), bindings point at
    service accounts there, argo-server gets C(--auth-mode=)O(server_auth_mode), the UI Service becomes a
    C(LoadBalancer) with O(expose_ui), C(:latest) tags of Argo's images become O(version) with O(pin_images),
    and O(image_registry) replaces the registry of Argo's images, the controller's executor image included.
  - The CRDs (nearly all of the ~11 MB) are handled as text. Each gets the label O(crd_label) and, in the
    annotation O(crd_hash_annotation), the sha256 of the text it comes from. With O(compare_live), the
    metadata of the labelled CRDs is listed (no schemas, no status are transferred) and only CRDs that are
    missing or were applied from another text are returned in RV(crd_manifest).
author:
  - argoops maintainers (@argoops)
options:
  src:
    description:
      - The manifest file, or a directory whose C(*.yaml) and C(*.yml) files are read in name order.
      - Read on the host the module runs on.
    type: path
    required: true
  namespace:
    description: Namespace of Argo's namespaced objects and of the service accounts bindings refer to.
    type: str
    required: true
  version:
    description: Argo's version, for O(pin_images) and the executor image of O(image_registry), such as V(v4.0.5).
    type: str
    required: true
  server_name:
    description: Name of argo-server's Deployment, container and Service.
    type: str
    default: argo-server
  controller_name:
    description: Name of the workflow-controller's Deployment and container.
    type: str
    default: workflow-controller
  server_auth_mode:
    description: argo-server's C(--auth-mode); replaces any the manifest sets.
    type: str
    choices: [client, server, sso]
    default: client
  expose_ui:
    description: Make argo-server's Service a C(LoadBalancer).
    type: bool
    default: false
  pin_images:
    description: Replace the C(:latest) tag of Argo's images (C(.../argoproj/NAME:latest)) with O(version).
    type: bool
    default: true
  image_registry:
    description:
      - Registry and repository prefix for Argo's images; C(.../argoproj/NAME:TAG) becomes C(REGISTRY/NAME:TAG)
        and the controller gets C(--executor-image=REGISTRY/argoexec:VERSION). Empty keeps the manifest's images.
    type: str
    default: ""
  cluster_scoped_kinds:
    description: Kinds that get no namespace.
    type: list
    elements: str
    default: [Namespace, CustomResourceDefinition, ClusterRole, ClusterRoleBinding, PriorityClass,
              MutatingWebhookConfiguration, ValidatingWebhookConfiguration]
  crd_label:
    description: Label key put on every CRD, to list them in one call.
    type: str
    default: argoops.workflows/crds
  crd_hash_annotation:
    description: Annotation holding the sha256 of the manifest text a CRD was applied from.
    type: str
    default: argoops.workflows/manifest-sha256
  compare_live:
    description:
      - List the labelled CRDs' metadata on the cluster and leave out of RV(crd_manifest) those applied from the
        same text. V(false) returns every CRD (to re-apply them all, or when no cluster is needed).
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module changes nothing; it behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - kubernetes >= 24.2.0 (Python client)
  - PyYAML
notes:
  - A CRD that carries the hash was applied from that text by argo_install, which waits for it to be
    C(Established); a CRD that is not Established would not become so by being applied again, so the status
    is not read (set O(compare_live=false) to apply every CRD anyway).
"""

EXAMPLES = r"""
- name: Read the release manifest and the live CRDs' metadata
  argoops.workflows.argo_manifests_info:
    src: ~/.cache/argoops-workflows/manifests/argo-v4.0.5/install.yaml
    namespace: argo
    version: v4.0.5
    server_auth_mode: server
    image_registry: registry.example.com/argoproj
  register: argo_manifests

- name: Apply the CRDs that changed
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: argoops-workflows
    definition: "{{ argo_manifests.crd_manifest }}"
  when: argo_manifests.crds_to_apply | length > 0

- name: Apply the other objects
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: argoops-workflows
    definition: "{{ argo_manifests.objects }}"
"""

RETURN = r"""
crds:
  description: Every CRD of the manifest, by name, with the key (C(NAME@SHA256)) a CRD applied from its text carries.
  returned: always
  type: list
  elements: dict
  sample: [{name: workflows.argoproj.io, key: "workflows.argoproj.io@5f0c...e1"}]
crds_to_apply:
  description: Names of the CRDs in RV(crd_manifest) (all of them without O(compare_live)).
  returned: always
  type: list
  elements: str
  sample: [workflows.argoproj.io]
crd_manifest:
  description: The YAML documents of the CRDs to apply, labelled and annotated, joined by C(---); empty when none.
  returned: always
  type: str
  sample: ""
objects:
  description: The other objects of the manifest, as argo_install applies them, in manifest order.
  returned: always
  type: list
  elements: dict
  sample: [{apiVersion: v1, kind: ServiceAccount, metadata: {name: argo, namespace: argo}}]
deployments:
  description: Names of the Deployments among RV(objects).
  returned: always
  type: list
  elements: str
  sample: [argo-server, workflow-controller]
"""

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.argoops.workflows.plugins.module_utils import argo_manifests
from ansible_collections.argoops.workflows.plugins.module_utils.argo_manifests import run_argo_manifests_info
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def argument_spec():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(
        src=dict(type="path", required=True),
        namespace=dict(type="str", required=True),
        version=dict(type="str", required=True),
        server_name=dict(type="str", default="argo-server"),
        controller_name=dict(type="str", default="workflow-controller"),
        server_auth_mode=dict(type="str", choices=["client", "server", "sso"], default="client"),
        expose_ui=dict(type="bool", default=False),
        pin_images=dict(type="bool", default=True),
        image_registry=dict(type="str", default=""),
        cluster_scoped_kinds=dict(type="list", elements="str", default=list(argo_manifests.CLUSTER_SCOPED_KINDS)),
        crd_label=dict(type="str", default="argoops.workflows/crds"),
        crd_hash_annotation=dict(type="str", default="argoops.workflows/manifest-sha256", no_log=False),
        compare_live=dict(type="bool", default=True),
    )
    return spec


def main():
    run_module(AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True), run_argo_manifests_info)


if __name__ == "__main__":
    main()
