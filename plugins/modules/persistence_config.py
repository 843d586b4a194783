#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: persistence_config
short_description: Manage the workflow archive settings in Argo's workflow-controller ConfigMap
version_added: 0.1.0
description:
  - Sets the C(persistence) block (archive on PostgreSQL or MySQL, TTL, node status offload, connection pool) and the
    C(retentionPolicy) block of Argo's C(workflow-controller-configmap), validated with Argo's own rules first.
    Argo parses that ConfigMap strictly and exits on any error, so input it would reject (a TTL like C(1h30m), an
    unknown key, a missing table name, a table name its schema migration cannot use, a key too new for the
    controller) fails here, naming the option and the rule, before anything is written.
  - Values are written so that Argo's YAML reader (go-yaml v2, YAML 1.1) reads back exactly the string given
    (C(1e3), C(09), C(yes) are quoted), and existing ConfigMaps are read with Argo's own resolution rules.
  - The resulting ConfigMap is checked as a whole, as Argo reads it; see I(foreign_key_errors).
  - A few inputs Argo runs with are refused on purpose, because they lose data or do not do what they say
    (each message says so) - a negative I(archive_ttl) (Argo's GC would delete fresh rows), a TTL beyond
    about 292 years (Go wraps it), both I(postgresql) and I(mysql) (Argo silently ignores I(mysql)),
    I(postgresql.ssl_mode) without I(postgresql.ssl) (ignored by Argo), negative I(retention_policy) counts
    (Argo's GC crashes once a workflow finishes), an invalid I(archive_label_selector) with I(archive=false)
    (Argo exits as soon as archiving is turned on), and non-ASCII table names.
  - Other keys of the ConfigMap are kept byte for byte, in both layouts Argo accepts (one key per setting, or a
    single C(config) key). The ConfigMap is created when missing.
  - Idempotent by semantic comparison (C(7d) equals C(168h), key order and YAML style do not matter). Updates carry
    the resourceVersion read; on a conflict the ConfigMap is read again and the change re-applied.
  - The controller reads most of these settings only at start-up; I(restart_required) says when it (and
    argo-server) must be restarted.
author:
  - argoops maintainers (@argoops)
options:
  name:
    description: Name of the controller ConfigMap (the controller's C(--configmap)).
    type: str
    default: workflow-controller-configmap
  namespace:
    description: Namespace of the controller, its ConfigMap and the database Secrets.
    type: str
    default: argo
  state:
    description:
      - C(present) writes the settings; C(absent) removes the C(persistence) and C(retentionPolicy) keys and nothing
        else.
    type: str
    choices: [present, absent]
    default: present
  argo_version:
    description:
      - Version of the workflow-controller the configuration is for, like C(v4.0.5). Keys only newer controllers
        understand are never written for an older one.
      - When omitted, it is read from the image tag of the C(workflow-controller) Deployment in I(namespace). When
        neither is known, only keys every supported version accepts are written, with a warning.
    type: str
  foreign_key_errors:
    description:
      - "What to do when a ConfigMap key this module does not manage would make Argo reject the resulting
        ConfigMap as a whole (the controller exits on it), such as a one-line value Argo glues into invalid YAML
        (C(executor) holding the single line C(imagePullPolicy: IfNotPresent)), a setting Argo v4.0 does not know, a
        value of the wrong kind."
      - C(fail) (the default) fails naming the key, before anything is written. C(warn) writes this module's keys
        anyway and warns; the controller keeps exiting until that key is fixed.
      - Only the YAML, the setting names and the kind of each top-level value are checked; the inside of settings
        this module does not manage (an executor's container, an artifact repository) is not.
    type: str
    choices: [fail, warn]
    default: fail
  validate_secrets:
    description:
      - Check that the Secrets named by I(postgresql.username_secret) / I(password_secret) (or the I(mysql) ones) exist
        in I(namespace) with those keys, and fail before writing otherwise (the controller would exit).
        Only key names are read, never values.
    type: bool
    default: true
extends_documentation_fragment:
  - argoops.workflows.argo_persistence
  - kubernetes.core.k8s_auth_options
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the C(persistence) and C(retentionPolicy) blocks before and after; other keys are left out.
  platform:
    platforms: posix
requirements:
  - kubernetes >= 24.2.0 (Python client)
  - PyYAML
notes:
  - The module never reads Secret values; the Secrets hold the database credentials.
  - C(archiveLabelSelector) is applied by a running controller; every other change here needs a restart of the
    workflow-controller and argo-server (I(restart_required)).
seealso:
  - name: Argo Workflows workflow archive
    description: Argo's documentation of the archive.
    link: https://argo-workflows.readthedocs.io/en/latest/workflow-archive/
"""

EXAMPLES = r"""
- name: Archive to PostgreSQL as in the tutorial, credentials from a Secret
  argoops.workflows.persistence_config:
    namespace: argo
    archive: true
    archive_ttl: 7d
    node_status_offload: true
    connection_pool:
      max_idle_conns: 100
      max_open_conns: 0
      conn_max_lifetime: 0s
    postgresql:
      host: postgres
      port: 5432
      database: postgres
      table_name: argo_workflows
      username_secret:
        name: argo-postgres-config
        key: username
      password_secret:
        name: argo-postgres-config
        key: password
    retention_policy:
      completed: 10
      failed: 3
      errored: 3
  register: archive_config

- name: Restart the controller when a start-up setting changed
  kubernetes.core.k8s:
    state: patched
    kind: Deployment
    name: workflow-controller
    namespace: argo
    definition:
      spec:
        template:
          metadata:
            annotations:
              argoops.io/restarted-for: "{{ archive_config.config | to_json | hash('sha1') }}"
  when: archive_config.restart_required

- name: External database over TLS, only archive workflows labelled for it, for a known controller version
  argoops.workflows.persistence_config:
    argo_version: v4.1.2
    kubeconfig: ~/.kube/prod
    archive: true
    archive_ttl: 180d
    cluster_name: prod-eu
    archive_label_selector:
      match_expressions:
        - key: workflows.argoproj.io/archive
          operator: NotIn
          values: ["false"]
    connection_timeout_seconds: 10
    postgresql:
      host: db.example.com
      database: argo
      ssl: true
      ssl_mode: verify-full
      username_secret: {name: argo-db, key: username}
      password_secret: {name: argo-db, key: password}

- name: Remove the archive settings (other ConfigMap keys stay)
  argoops.workflows.persistence_config:
    state: absent
"""

RETURN = r"""
config:
  description:
    - The C(persistence) block as Argo reads it after this run (Argo's key names), or null with I(state=absent).
  returned: always
  type: dict
  sample:
    archive: true
    archiveTTL: 7d
    nodeStatusOffLoad: true
    connectionPool: {maxIdleConns: 100, maxOpenConns: 0, connMaxLifetime: 0s}
    postgresql:
      host: postgres
      port: 5432
      database: postgres
      tableName: argo_workflows
      userNameSecret: {name: argo-postgres-config, key: username}
      passwordSecret: {name: argo-postgres-config, key: password}
retention_policy:
  description: The C(retentionPolicy) block after this run (null when there is none).
  returned: always
  type: dict
  sample: {completed: 10, failed: 3, errored: 3}
restart_required:
  description:
    - True when this run changed a setting the workflow-controller (and argo-server) read only at start-up
      (connection, pool, TTL, migration, cluster name, offload, archive, retention). RV(restart_settings) names them.
  returned: always
  type: bool
  sample: true
restart_settings:
  description:
    - The settings this run changed that the workflow-controller and argo-server read only at start-up
      (Argo's key names); empty when no restart is needed.
  returned: always
  type: list
  elements: str
  sample: [persistence.archiveTTL, retentionPolicy]
argo_version:
  description: The controller version the configuration was validated for; null when unknown.
  returned: always
  type: str
  sample: v4.0.5
diff:
  description: The managed blocks before and after, as YAML (diff mode only).
  returned: when diff mode is on
  type: dict
  sample:
    before: ""
    after: "persistence:\n  archive: true\n..."
"""

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.argoops.workflows.plugins.module_utils import argo_config
from ansible_collections.argoops.workflows.plugins.module_utils.persistence_config_run import run_persistence_config
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def argument_spec():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(argo_config.argument_spec())
    spec.update(
        name=dict(type="str", default="workflow-controller-configmap"),
        namespace=dict(type="str", default="argo"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        argo_version=dict(type="str"),
        foreign_key_errors=dict(type="str", choices=["fail", "warn"], default="fail"),
        validate_secrets=dict(type="bool", default=True),
    )
    return spec


def main():
    run_module(AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True), run_persistence_config)


if __name__ == "__main__":
    main()
