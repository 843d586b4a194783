#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k3d_cluster_info
short_description: List k3d clusters
version_added: 0.1.0
description:
  - Lists all k3d clusters, or one by name, from C(k3d cluster list -o json), normalised (nodes sorted by name,
    counted by role, API port resolved) and without secrets.
  - Returns an empty list when no cluster exists; fails when k3d or Docker cannot be queried.
author:
  - argoops maintainers (@argoops)
extends_documentation_fragment:
  - argoops.workflows.k3d
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: Reads only.
  platform:
    platforms: posix
options:
  name:
    description: Only this cluster. Default is every cluster.
    type: str
seealso:
  - module: argoops.workflows.k3d_cluster
"""

EXAMPLES = r"""
- name: Every k3d cluster on this host
  argoops.workflows.k3d_cluster_info:
  register: k3d

- name: Is argo-demo running?
  argoops.workflows.k3d_cluster_info:
    name: argo-demo
  register: demo

- name: Report
  ansible.builtin.debug:
    msg: "{{ demo.clusters[0].state if demo.clusters else 'absent' }}"
"""

RETURN = r"""
clusters:
  description:
    - Clusters sorted by name, each shaped like the RV(argoops.workflows.k3d_cluster#module:cluster) return
      value of M(argoops.workflows.k3d_cluster). Empty when none (or not the named one) exists.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Cluster name.
      type: str
      sample: argo-demo
    state:
      description: V(running), V(stopped) or V(partial).
      type: str
      sample: running
    servers:
      description: Number of server nodes.
      type: int
      sample: 1
    agents:
      description: Number of agent nodes.
      type: int
      sample: 0
    api:
      description: The Kubernetes API endpoint on the host.
      type: dict
      sample: {host: 0.0.0.0, host_ip: 0.0.0.0, port: 6550}
    ports:
      description: Load balancer port mappings other than the API.
      type: list
      elements: str
      sample: ["2746:2746/tcp"]
    nodes:
      description: Nodes sorted by name.
      type: list
      elements: dict
      sample: [{name: k3d-argo-demo-server-0, role: server, running: true}]
k3d_version:
  description: Output of C(k3d version -o json).
  returned: always
  type: dict
  sample: {k3d: v5.9.0, k3s: v1.35.5-k3s1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module
from ansible_collections.argoops.workflows.plugins.module_utils.k3d import K3D_BINARY_SPEC, run_k3d_cluster_info


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str"), **K3D_BINARY_SPEC), supports_check_mode=True)
    run_module(module, run_k3d_cluster_info)


if __name__ == "__main__":
    main()
