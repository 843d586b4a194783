#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k3d_cluster
short_description: Idempotent k3d clusters
version_added: 0.1.0
description:
  - Creates, reconciles, starts, stops and deletes a L(k3d,https://k3d.io) cluster, deciding C(changed) from
    C(k3d cluster list -o json) rather than from exit codes.
  - A cluster is created from a generated C(k3d.io/v1alpha5) C(Simple) config passed on standard input.
  - Server and agent counts are reconciled in place (C(k3d node create)/C(k3d node delete), counting nodes by
    role). Load balancer ports are reconciled with C(k3d cluster edit --port-add/--port-delete) after
    comparing the mappings, because re-adding a mapping duplicates it.
  - Everything else cannot change in place. A digest of those settings is recorded on the nodes at create time
    (runtime label C(k3d-argoops.spec)), so a later run detects the drift exactly and fails with the list of
    differences, or deletes and re-creates the cluster when O(recreate=true).
author:
  - argoops maintainers (@argoops)
extends_documentation_fragment:
  - argoops.workflows.k3d
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows state, node counts, load balancer ports, network, API port and the recorded spec digests.
  platform:
    platforms: posix
options:
  name:
    description:
      - Cluster name. An RFC 1123 hostname of at most 32 characters (k3d's rule); the kube context is C(k3d-NAME).
    type: str
    required: true
  state:
    description:
      - V(present) creates the cluster when absent and reconciles it, leaving it running or stopped as found.
      - V(started) does the same and makes sure every node runs; V(stopped) makes sure none runs.
      - V(absent) deletes it (after checking the listing; k3d's delete exits 0 even when Docker is down).
    type: str
    choices: [present, absent, started, stopped]
    default: present
  servers:
    description:
      - Number of server nodes. Servers can be added in place only to clusters created with more than one
        server (k3d enables embedded etcd only then).
    type: int
    default: 1
  agents:
    description: Number of agent nodes; reconciled in place.
    type: int
    default: 0
  image:
    description:
      - k3s image of the nodes, for example C(rancher/k3s:v1.35.5-k3s1). Default is k3d's built-in
        default (the C(k3s) version in RV(k3d_version)). Cannot change in place.
    type: str
  api_port:
    description: Where the Kubernetes API is exposed on the host. Cannot change in place.
    type: dict
    suboptions:
      host:
        description: Host name written into the kubeconfig and the API certificate.
        type: str
      host_ip:
        description: Host IPv4 address the API binds to (k3d default C(0.0.0.0)).
        type: str
      host_port:
        description: Host port of the API. Default is a random free port chosen by k3d.
        type: int
  ports:
    description:
      - Port mappings, C([HOST:][HOSTPORT:]CONTAINERPORT[/PROTO]). Without node filters, or with proxied
        filters, the port is mapped on the load balancer and reconciled in place.
      - Ports with a C(:direct) node filter are mapped on one node and cannot change in place.
    type: list
    elements: dict
    default: []
    suboptions:
      port:
        description: The mapping, for example V(2746:2746) or V(0.0.0.0:8080:80/tcp).
        type: str
        required: true
      node_filters:
        description: k3d node filters, for example V(loadbalancer), V(server:0), V(agent:*), V(server:0:direct).
        type: list
        elements: str
        default: []
  k3s_args:
    description: Extra k3s arguments. Cannot change in place.
    type: list
    elements: dict
    default: []
    suboptions:
      arg:
        description: The argument, for example V(--disable=traefik).
        type: str
        required: true
      node_filters:
        description: k3d node filters; required because the load balancer counts as a node.
        type: list
        elements: str
        default: []
  env:
    description: Environment variables of the node containers. Cannot change in place.
    type: list
    elements: dict
    default: []
    suboptions:
      env_var:
        description: V(KEY=VALUE).
        type: str
        required: true
      node_filters:
        description: k3d node filters; required because the load balancer counts as a node.
        type: list
        elements: str
        default: []
  volumes:
    description: Volume mounts of the node containers. Cannot change in place.
    type: list
    elements: dict
    default: []
    suboptions:
      volume:
        description: V(SOURCE:DEST), where SOURCE is a host path or a Docker volume name.
        type: str
        required: true
      node_filters:
        description: k3d node filters; required because the load balancer counts as a node.
        type: list
        elements: str
        default: []
  network:
    description: Existing Docker network to join. Default is a new network C(k3d-NAME). Cannot change in place.
    type: str
  token:
    description:
      - Cluster token. Default is a token generated by k3d. Passed to k3d inside the config on standard input,
        never on the command line; masked in all output. Cannot change in place.
    type: str
  registry_create:
    description: Create a k3d-managed registry with the cluster. Cannot change in place.
    type: dict
    suboptions:
      name:
        description: Registry name.
        type: str
        required: true
      host:
        description: Host address the registry binds to.
        type: str
      host_port:
        description: Host port of the registry (k3d default V(random)).
        type: str
      image:
        description: Registry image.
        type: str
  registry_use:
    description: Existing k3d-managed registries to connect, for example V(k3d-myregistry:5000). Cannot change in place.
    type: list
    elements: str
    default: []
  wait:
    description: Wait for servers (and new nodes) to be ready. Written to the config as C(options.k3d.wait).
    type: bool
    default: true
  timeout:
    description: Maximum wait as a Go duration (V(90s), V(2m)); k3d rolls the create back on timeout.
    type: str
  kubeconfig:
    description: What happens to kubeconfig files.
    type: dict
    default: {}
    suboptions:
      update_default:
        description: Let k3d merge the cluster into the default kubeconfig (E(KUBECONFIG) or C(~/.kube/config)) at create time.
        type: bool
        default: true
      switch_context:
        description: Let k3d switch the default kubeconfig's current context to C(k3d-NAME) at create time.
        type: bool
        default: true
      path:
        description:
          - Write this cluster's kubeconfig (and nothing else) to this file, mode C(0600), rewritten only when its
            content differs. With O(state=absent) the file is removed if it holds context C(k3d-NAME).
        type: path
  config:
    description:
      - Extra C(k3d.io/v1alpha5) C(Simple) config for anything the options above do not cover, for example
        C(options.k3d.disableLoadbalancer), C(options.k3s.nodeLabels), C(options.runtime.labels), C(files),
        C(hostAliases), C(subnet). Checked against k3d's schema rules (unknown keys are rejected) before
        anything runs. Keys owned by other options (such as C(ports) or C(servers)) are rejected here.
      - C(subnet) must be a CIDR prefix or C(auto), and k3d refuses a C(subnet) together with O(network).
      - A C(files) C(source) is multi-line content or an absolute path on the host the module runs on
        (k3d reads relative paths against its config file, which this module passes on stdin); a
        C(destination) is absolute or starts with a k3d shortcut such as C(k3s-manifests).
      - Part of the recorded spec, so changes are drift that needs O(recreate=true).
    type: dict
    default: {}
  recreate:
    description:
      - When settings that cannot change in place differ, delete the cluster and create it again instead of
        failing. Everything inside the cluster is lost.
    type: bool
    default: false
seealso:
  - module: argoops.workflows.k3d_cluster_info
  - name: k3d configuration file reference
    description: The C(k3d.io/v1alpha5) C(Simple) config that O(config) extends.
    link: https://k3d.io/stable/usage/configfile/
"""

EXAMPLES = r"""
- name: A cluster for the Argo Workflows tutorial, UI port through the load balancer
  argoops.workflows.k3d_cluster:
    name: argo-demo
    ports:
      - port: "2746:2746"
        node_filters: [loadbalancer]
    kubeconfig:
      path: "{{ playbook_dir }}/kubeconfig-argo-demo.yaml"
  register: cluster

- name: Scale to three agents and disable traefik (k3s args cannot change in place, so recreate)
  argoops.workflows.k3d_cluster:
    name: argo-demo
    agents: 3
    k3s_args:
      - arg: --disable=traefik
        node_filters: ["server:*"]
    recreate: true

- name: Extra v1alpha5 settings the options do not cover
  argoops.workflows.k3d_cluster:
    name: lab
    config:
      options:
        k3s:
          nodeLabels:
            - label: tier=lab
              nodeFilters: ["agent:*"]
      subnet: 172.28.0.0/16

- name: Stop it for the night
  argoops.workflows.k3d_cluster:
    name: argo-demo
    state: stopped

- name: Remove it
  argoops.workflows.k3d_cluster:
    name: argo-demo
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as listed by k3d after the run, normalised and without secrets; empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Cluster name.
      type: str
      sample: argo-demo
    state:
      description: V(running) (every node runs), V(stopped) (none runs) or V(partial).
      type: str
      sample: running
    servers:
      description: Number of server nodes (counted by role).
      type: int
      sample: 1
    servers_running:
      description: Number of running server nodes.
      type: int
      sample: 1
    agents:
      description: Number of agent nodes (counted by role).
      type: int
      sample: 2
    agents_running:
      description: Number of running agent nodes.
      type: int
      sample: 2
    has_loadbalancer:
      description: Whether the cluster has a load balancer node.
      type: bool
      sample: true
    network:
      description: Docker network of the cluster.
      type: str
      sample: k3d-argo-demo
    api:
      description: The Kubernetes API endpoint on the host.
      type: dict
      sample: {host: 0.0.0.0, host_ip: 0.0.0.0, port: 6550}
    ports:
      description: Load balancer port mappings other than the API, as C([IP:][HOSTPORT:]PORT/PROTO).
      type: list
      elements: str
      sample: ["2746:2746/tcp"]
    image_volume:
      description: The image import volume.
      type: str
      sample: k3d-argo-demo-images
    k3d_version:
      description: k3d version that created the nodes (from their labels).
      type: str
      sample: v5.9.0
    spec:
      description: The recorded spec label (digests of settings that cannot change in place), if any.
      type: str
      sample: "1:config=44136fa355b3,direct_ports=4f53cda18c2b,env=4f53cda18c2b,image=74234e98afe7"
    nodes:
      description: Nodes sorted by name.
      type: list
      elements: dict
      sample:
        - {name: k3d-argo-demo-server-0, role: server, running: true, status: running,
           image: "sha256:1111", ip: 172.18.0.3, created: "2026-06-10T09:12:39Z", server_init: false}
api_port:
  description: Host port of the Kubernetes API, when the cluster exists.
  returned: always
  type: int
  sample: 6550
context:
  description: Kube context name of the cluster.
  returned: always
  type: str
  sample: k3d-argo-demo
kubeconfig:
  description: Path of the kubeconfig file written for this cluster (O(kubeconfig.path)).
  returned: when O(kubeconfig.path) is set and O(state) is not V(absent)
  type: str
  sample: /home/me/kubeconfig-argo-demo.yaml
k3d_version:
  description: Output of C(k3d version -o json).
  returned: always
  type: dict
  sample: {k3d: v5.9.0, k3s: v1.35.5-k3s1}
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["add 2 agent node(s) to cluster argo-demo (k3d node create argo-demo-agent-1)"]
differences:
  description: Settings that differ and cannot change in place (on failure, when O(recreate=false)).
  returned: failure
  type: list
  elements: dict
  sample: [{option: image, detail: "differs from the value the cluster was created with (desired rancher/k3s:v1.34.1-k3s1)"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module
from ansible_collections.argoops.workflows.plugins.module_utils.k3d import K3D_BINARY_SPEC, run_k3d_cluster
from ansible_collections.argoops.workflows.plugins.module_utils.k3d_spec import argument_spec


def main():
    module = AnsibleModule(argument_spec=dict(argument_spec(), **K3D_BINARY_SPEC), supports_check_mode=True)
    run_module(module, run_k3d_cluster)


if __name__ == "__main__":
    main()
