#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: archive_prune
short_description: Delete old workflows from Argo's PostgreSQL archive in batches
version_added: 0.1.0
description:
  - Deletes archived workflows that finished more than O(older_than) ago, optionally narrowed by the same
    filters as M(argoops.workflows.archive_info), oldest first.
  - Deletes in batches of O(batch_size) rows, each batch its own transaction, so locks stay short and an
    interrupted run keeps what it deleted. Labels go with their workflow through Argo's foreign key
    (ON DELETE CASCADE).
  - Unlike Argo's own archive TTL (C(archiveTTL)), which runs one big DELETE once per
    C(ARCHIVED_WORKFLOW_GC_PERIOD), this runs when you call it.
author:
  - argoops maintainers (@argoops)
options:
  older_than:
    description:
      - Delete workflows that finished more than this long ago, in Argo's TTL grammar, one whole number and
        one unit of V(d), V(h), V(m) or V(s), for example V(180d), V(48h). Must be more than zero.
      - The cutoff is computed from the database server's clock, in UTC.
    type: str
    required: true
  batch_size:
    description:
      - Rows deleted per transaction, between 1 and 100000.
    type: int
    default: 1000
  rollup:
    description:
      - Before each batch, in the same transaction, roll up every row of the scope that finished before the
        cutoff and is not rolled up yet (see M(argoops.workflows.archive_rollup)), so the hourly history
        survives the delete.
      - The rollup schema must exist (M(argoops.workflows.archive_rollup) creates it).
    type: bool
    default: false
  sample_size:
    description:
      - In check mode, how many of the rows that would be deleted (oldest first) to return in RV(sample).
    type: int
    default: 10
extends_documentation_fragment:
  - argoops.workflows.postgres
  - argoops.workflows.archive
  - argoops.workflows.archive.filters
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Counts the rows that would be deleted and returns a sample, deleting nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The login role needs DELETE on C(argo_archived_workflows) (the role Argo's controller uses owns it).
  - O(login_db) is the database that holds Argo's archive.
  - Argo's own TTL GC (C(archiveTTL)) deletes without rolling up. To keep history with it, run
    M(argoops.workflows.archive_rollup) more often than C(ARCHIVED_WORKFLOW_GC_PERIOD), or leave
    C(archiveTTL) empty and prune with O(rollup=true).
seealso:
  - module: argoops.workflows.archive_info
  - module: argoops.workflows.archive_db
'''

EXAMPLES = r'''
- name: Keep half a year of archive
  argoops.workflows.archive_prune:
    login_host: db.example.com
    login_user: argo
    login_password: "{{ argo_db_password }}"
    login_db: argo
    older_than: 180d

- name: Drop succeeded CI workflows after two weeks, 5000 rows per transaction
  argoops.workflows.archive_prune:
    login_db: argo
    older_than: 14d
    namespaces: [ci]
    phases: [Succeeded]
    batch_size: 5000

- name: What would a 30 day cut remove?
  argoops.workflows.archive_prune:
    login_db: argo
    older_than: 30d
  check_mode: true
  register: preview

- name: Keep 30 days of rows but the hourly history forever
  argoops.workflows.archive_prune:
    login_db: argo
    older_than: 30d
    rollup: true
'''

RETURN = r'''
deleted:
  description: Rows deleted (0 in check mode).
  returned: success
  type: int
  sample: 125000
batches:
  description: Transactions that deleted rows.
  returned: success
  type: int
  sample: 125
seconds:
  description: Wall-clock time of the prune, in seconds.
  returned: success
  type: float
  sample: 12.48
cutoff:
  description: Workflows that finished before this time (UTC) were selected.
  returned: success
  type: str
  sample: '2023-11-03T08:15:00.123456Z'
would_delete:
  description: Number of rows that would be deleted.
  returned: in check mode
  type: int
  sample: 125000
sample:
  description: The first O(sample_size) rows that would be deleted, oldest finish time first, shaped like
    the RV(argoops.workflows.archive_info#module:workflows) of M(argoops.workflows.archive_info).
  returned: in check mode
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils import pg
from ansible_collections.argoops.workflows.plugins.module_utils.archive_args import (
    filter_argument_spec, scope_argument_spec)
from ansible_collections.argoops.workflows.plugins.module_utils.archive_runs import run_archive_prune
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def main():
    argument_spec = dict(pg.connection_argument_spec(), **scope_argument_spec())
    argument_spec.update(filter_argument_spec(),
                         older_than=dict(type="str", required=True),
                         batch_size=dict(type="int", default=1000),
                         sample_size=dict(type="int", default=10),
                         rollup=dict(type="bool", default=False))
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), run_archive_prune)


if __name__ == "__main__":
    main()
