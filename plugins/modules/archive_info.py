#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: archive_info
short_description: List and summarise workflows in Argo's PostgreSQL archive
version_added: 0.1.0
description:
  - Reads the workflow archive that Argo's workflow-controller writes to PostgreSQL
    (tables C(argo_archived_workflows) and C(argo_archived_workflows_labels)). Never writes.
  - Lists workflows newest first, one page at a time. Pages continue from the last row of the previous page
    (keyset pagination on start time and uid), so a deep page costs the same as the first one, unlike
    Argo's own OFFSET paging.
  - Computes statistics for capacity planning, grouped by phase, namespace, day, hour or a label,
    with the number of workflows and their duration average, median, 95th percentile and maximum.
  - Every value the user gives, label keys included, reaches PostgreSQL as a bind parameter.
author:
  - argoops maintainers (@argoops)
options:
  limit:
    description:
      - Workflows per page, at most 10000. V(0) lists nothing (useful with O(group_by) alone).
    type: int
    default: 100
  page_token:
    description:
      - The RV(next_page_token) of the previous call, to get the next page.
      - Only valid with the same O(cluster_name), O(instance_id) and filters as that call.
    type: str
  include_workflow:
    description:
      - Also return the full Workflow object Argo archived for each listed workflow, with the NUL
        characters Argo replaced by C(ARGO_POSTGRES_NULL_REPLACEMENT) restored.
      - Workflows can be large; keep O(limit) small when this is set.
    type: bool
    default: false
  group_by:
    description:
      - Return RV(stats) grouped by V(phase), V(namespace), V(day) or V(hour) of the start time (UTC), or by
        the value of one label written as V(label:<key>), for example V(label:workflows.argoproj.io/phase).
      - Workflows without that label form a group whose key is null.
      - The statistics cover every workflow that matches the filters, not just one page.
    type: str
  stats_source:
    description:
      - Where RV(stats) come from. V(raw) reads the archive rows. V(rollup) reads the hourly rollups of
        M(argoops.workflows.archive_rollup), which keep every duration, so the figures are identical to the
        raw ones and include rows pruned after they were rolled up; it fails when the rollups cannot answer
        (label or name filters, finish-time filters, start times not on a whole hour, label groups, rows
        not rolled up yet). V(auto) uses the rollups when they can answer and raw rows otherwise.
    type: str
    choices: [auto, raw, rollup]
    default: auto
  capacity:
    description:
      - Also return RV(capacity), the capacity and cost view computed from the rollups of
        M(argoops.workflows.archive_rollup) for the scope and the O(started_after)/O(started_before) range
        (other filters do not apply to it).
    type: bool
    default: false
  price_per_core_hour:
    description:
      - Price of one CPU core for one hour, for the C(cost) of RV(capacity); a positive number.
    type: float
  price_per_gib_hour:
    description:
      - Price of one GiB of memory for one hour, for the C(cost) of RV(capacity); a positive number.
    type: float
extends_documentation_fragment:
  - argoops.workflows.postgres
  - argoops.workflows.archive
  - argoops.workflows.archive.filters
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - O(login_db) is the database that holds Argo's archive (C(persistence.postgresql.database) in the
    controller's configuration).
  - Listing uses Argo's index on (cluster name, start time), or the one on (cluster name, instance id,
    namespace, start time) when exactly one namespace is given. PostgreSQL 13 or later is needed for the
    tie-break on uid to be sorted incrementally rather than over all matching rows.
seealso:
  - module: argoops.workflows.archive_db
  - module: argoops.workflows.archive_prune
'''

EXAMPLES = r'''
- name: Page through failed workflows of team a since May
  module_defaults:
    group/argoops.workflows.postgresql:
      login_host: db.example.com
      login_user: argo_reader
      login_password: "{{ archive_reader_password }}"
      login_db: argo
  block:
    - name: First page, 50 workflows
      argoops.workflows.archive_info:
        namespaces: [team-a]
        phases: [Failed]
        started_after: "2024-05-01"
        limit: 50
      register: failed

    - name: Next page (same filters, plus the token)
      argoops.workflows.archive_info:
        namespaces: [team-a]
        phases: [Failed]
        started_after: "2024-05-01"
        limit: 50
        page_token: "{{ failed.next_page_token }}"
      when: failed.next_page_token is not none

- name: Workflows per day with durations, for capacity planning
  argoops.workflows.archive_info:
    login_db: argo
    limit: 0
    group_by: day
  register: per_day

- name: Workflows of one template that do not carry a team label, with their full object
  argoops.workflows.archive_info:
    login_db: argo
    label_selector: "workflows.argoproj.io/workflow-template in (nightly-etl),!team"
    include_workflow: true
    limit: 5
'''

RETURN = r'''
workflows:
  description: One page of archived workflows, newest start time first (ties broken by uid).
  returned: success
  type: list
  elements: dict
  contains:
    uid:
      description: Workflow uid.
      type: str
      sample: 4f6d2a3e-7a5c-4ad1-9d0b-0d1c1b2a3e4f
    name:
      description: Workflow name.
      type: str
      sample: nightly-etl-x7k2p
    namespace:
      description: Workflow namespace.
      type: str
      sample: team-a
    phase:
      description: Final phase.
      type: str
      sample: Failed
    started_at:
      description: Start time, UTC.
      type: str
      sample: '2024-05-01T02:00:03Z'
    finished_at:
      description: Finish time, UTC.
      type: str
      sample: '2024-05-01T02:04:41Z'
    duration_seconds:
      description: Finish time minus start time.
      type: float
      sample: 278.0
    labels:
      description: The workflow labels Argo stored with the row.
      type: dict
      sample: {workflows.argoproj.io/phase: Failed, team: a}
    workflow:
      description: The full archived Workflow object (only with O(include_workflow)).
      type: dict
      returned: when O(include_workflow=true)
next_page_token:
  description: Pass as O(page_token) to get the next page; null on the last page.
  returned: success
  type: str
  sample: eyJxIjoiM2E0ZjJmMzQxYmUyNzc0NiIsInMiOiIyMDI0LTA1LTAxVDAyOjAwOjAzIiwidSI6IjRmNmQiLCJ2IjoxfQ
stats:
  description: Statistics per group, groups in ascending key order (only with O(group_by)).
  returned: when O(group_by) is set
  type: list
  elements: dict
  contains:
    key:
      description: The group, a phase, namespace, day (V(2024-05-01)), hour (V(2024-05-01T02:00:00Z)) or label value.
      type: str
      sample: '2024-05-01'
    count:
      description: Number of workflows.
      type: int
      sample: 1234
    duration_seconds:
      description: Duration average, median (p50), 95th percentile (p95) and maximum, in seconds.
      type: dict
      sample: {avg: 151.2, p50: 149.0, p95: 286.0, max: 300.0}
capacity:
  description:
    - Capacity and cost from the rollups; hours without workflows are left out.
    - C(peak_concurrency) and C(p95_concurrency) over the hourly peaks of workflows running at once;
      C(suggested.baseline) the median hourly peak, C(suggested.burst) what p95 needs on top of it,
      C(suggested.burst_to_peak) what the highest peak needed.
    - C(core_hours) and C(gib_hours) from Argo's C(status.resourcesDuration) (CPU in core-seconds, memory in
      100Mi-seconds), booked to the hour a workflow started; C(cost) when a price is given.
    - C(by_hour_of_day) (0..23, UTC) and C(by_day_of_week) (Mon..Sun) with hours, peak and p95 concurrency,
      average cores and GiB; C(series) one entry per hour.
  returned: when O(capacity=true)
  type: dict
  sample: {peak_concurrency: 42, p95_concurrency: 30.0, suggested: {baseline: 12, burst: 18, burst_to_peak: 30},
           core_hours: 1234.5, gib_hours: 2345.6, cost: {cpu: 49.38, memory: 11.73, total: 61.11}}
stats_source:
  description: Where RV(stats) came from, V(raw) or V(rollup).
  returned: when O(group_by) is set
  type: str
  sample: rollup
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils import archive_rollup_stats, pg
from ansible_collections.argoops.workflows.plugins.module_utils.archive_args import (
    filter_argument_spec, scope_argument_spec)
from ansible_collections.argoops.workflows.plugins.module_utils.archive_runs import run_archive_info
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def main():
    argument_spec = dict(pg.connection_argument_spec(), **scope_argument_spec())
    argument_spec.update(filter_argument_spec(),
                         limit=dict(type="int", default=100),
                         page_token=dict(type="str", no_log=False),
                         include_workflow=dict(type="bool", default=False),
                         group_by=dict(type="str"),
                         capacity=dict(type="bool", default=False),
                         price_per_core_hour=dict(type="float"),
                         price_per_gib_hour=dict(type="float"),
                         stats_source=dict(type="str", default="auto", choices=list(archive_rollup_stats.SOURCES)))
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), run_archive_info)


if __name__ == "__main__":
    main()
