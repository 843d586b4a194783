#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: archive_rollup
short_description: Keep hourly rollups of Argo's PostgreSQL archive that outlive pruning
version_added: 0.2.0
description:
  - Adds every archived workflow not rolled up yet to hourly aggregates kept in the schema
    C(argoops_rollup) of the archive database, never in Argo's tables. Argo's migrations never touch it.
  - Per cluster name, instance id, namespace, phase, workflow template (from the
    C(workflows.argoproj.io/workflow-template) or C(cluster-workflow-template) label, else
    C(spec.workflowTemplateRef.name), else V(none)) and hour of start, it keeps the count, the sum,
    minimum and maximum duration, every duration (so percentiles equal those over the raw rows), and the
    CPU and memory totals of C(status.resourcesDuration) (Argo's units). Per cluster, instance and hour it
    keeps the peak number of workflows running at once.
  - Incremental; the watermark is the set of rows already rolled up, so a run reads only rows archived
    since the last one and a second run reports no change. Runs serialise on an advisory lock;
    each run is one transaction.
author:
  - argoops maintainers (@argoops)
options:
  create_schema:
    description:
      - Create the schema C(argoops_rollup) when it is missing (needs CREATE on the database).
      - A schema of that name that this collection did not create is an error, nothing is written.
    type: bool
    default: true
extends_documentation_fragment:
  - argoops.workflows.postgres
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports how many rows a run would roll up, writing nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Run it before anything deletes archive rows (Argo's C(archiveTTL) GC or M(argoops.workflows.archive_prune)
    without rollups) and at least once per GC period, so no row is deleted before it is rolled up.
seealso:
  - module: argoops.workflows.archive_info
  - module: argoops.workflows.archive_prune
'''

EXAMPLES = r'''
- name: Roll up what Argo archived since the last run
  argoops.workflows.archive_rollup:
    login_host: db.example.com
    login_user: argo
    login_password: "{{ argo_db_password }}"
    login_db: argo
  register: rollup
'''

RETURN = r'''
rolled_up:
  description: Archive rows added to the rollups (in check mode, that would be added).
  returned: success
  type: int
  sample: 10000
schema_created:
  description: Whether the schema C(argoops_rollup) was (or would be) created.
  returned: success
  type: bool
  sample: false
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils import pg
from ansible_collections.argoops.workflows.plugins.module_utils.archive_runs import run_archive_rollup
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def main():
    argument_spec = dict(pg.connection_argument_spec(), create_schema=dict(type="bool", default=True))
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), run_archive_rollup)


if __name__ == "__main__":
    main()
