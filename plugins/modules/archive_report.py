#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: archive_report
short_description: Write an HTML report with charts, plus CSV and JSON, from archive_info results
version_added: 0.2.0
description:
  - Takes results of M(argoops.workflows.archive_info) and writes three files, an HTML page and, next to it,
    a CSV and a JSON file holding exactly the points of its charts.
  - The page is self-contained and opens without network access; the charts are inline SVG drawn with
    matplotlib, their text drawn as paths. No script, font, stylesheet or image is loaded from elsewhere.
  - 'Charts: runs per day by phase, median and 95th percentile duration per day, failure rate per day,
    top failing templates, and from O(capacity): workflows running at once per hour with the suggested
    baseline and burst, CPU and memory used per hour, concurrency by hour of day and by day of week, cost.'
  - A chart whose input is not given is left out. In the SVG each series is a group whose id is
    C(series-<chart>-<series>) (for example C(series-runs-failed)), with one marker per point of a line and one
    bar per point of a bar series.
  - Nothing time-dependent is written (no generation time), so the same results give the same files; a file
    is written only when its content differs.
author:
  - argoops maintainers (@argoops)
requirements:
  - matplotlib (on the host that writes the report, usually localhost; C(pip install matplotlib))
options:
  path:
    description:
      - Where the HTML page goes; must end with C(.html). The CSV and JSON files are written next to it,
        with the same name and the extensions C(.csv) and C(.json).
      - The directory must exist.
    type: path
    required: true
  title:
    description: Title of the page.
    type: str
    default: Argo workflow archive
  stats_by_day:
    description:
      - RV(argoops.workflows.archive_info#module:stats) of archive_info with O(argoops.workflows.archive_info#module:group_by=day),
        which give the days of every per-day chart and the median and 95th percentile duration.
    type: list
    elements: dict
    required: true
  stats_by_day_and_phase:
    description:
      - Phase (V(Succeeded), V(Failed), V(Error)) to the stats of archive_info with
        O(argoops.workflows.archive_info#module:group_by=day) and O(argoops.workflows.archive_info#module:phases)
        set to that one phase. Gives runs per day by phase and the failure rate per day (Failed and Error
        over all workflows of O(stats_by_day)).
    type: dict
    default: {}
  failing_templates:
    description:
      - Stats of archive_info grouped by the template label
        (O(argoops.workflows.archive_info#module:group_by=label:workflows.argoproj.io/workflow-template))
        with O(argoops.workflows.archive_info#module:phases=[Failed, Error]).
      - Workflows without the label (key null) are counted in a note, not charted.
    type: list
    elements: dict
    default: []
  top_failing:
    description: How many templates the failing-templates chart shows, those with most failures first.
    type: int
    default: 10
  capacity:
    description:
      - RV(argoops.workflows.archive_info#module:capacity) of archive_info with
        O(argoops.workflows.archive_info#module:capacity=true) (prices give the cost chart).
    type: dict
  tables:
    description: Title to archive_info stats, each shown as a table (for example per phase and per namespace).
    type: dict
    default: {}
  latest:
    description: RV(argoops.workflows.archive_info#module:workflows) of archive_info, shown as a table.
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Renders the files and reports whether any would change, writing nothing.
  diff_mode:
    support: partial
    details: The diff is that of the JSON export (the data of every chart), not of the HTML page.
  platform:
    platforms: posix
seealso:
  - module: argoops.workflows.archive_info
  - module: argoops.workflows.archive_rollup
'''

EXAMPLES = r'''
- name: Statistics per day, per day and phase, failing templates and the capacity view
  module_defaults:
    group/argoops.workflows.postgresql:
      login_host: db.example.com
      login_user: argo_reader
      login_password: "{{ archive_reader_password }}"
      login_db: argo
  block:
    - name: Per day
      argoops.workflows.archive_info:
        limit: 0
        group_by: day
      register: per_day

    - name: Per day, one phase at a time
      argoops.workflows.archive_info:
        limit: 0
        group_by: day
        phases: ["{{ item }}"]
      loop: [Succeeded, Failed, Error]
      register: per_phase

    - name: Failed workflows per template
      argoops.workflows.archive_info:
        limit: 0
        group_by: label:workflows.argoproj.io/workflow-template
        phases: [Failed, Error]
      register: failing

    - name: Capacity view (needs the rollups of archive_rollup)
      argoops.workflows.archive_info:
        limit: 0
        capacity: true
        price_per_core_hour: 0.04
        price_per_gib_hour: 0.005
      register: capacity

- name: Write /srv/reports/archive.html, archive.csv and archive.json
  argoops.workflows.archive_report:
    path: /srv/reports/archive.html
    stats_by_day: "{{ per_day.stats }}"
    stats_by_day_and_phase: "{{ dict(per_phase.results | map(attribute='item') | zip(per_phase.results | map(attribute='stats'))) }}"
    failing_templates: "{{ failing.stats }}"
    capacity: "{{ capacity.capacity }}"
'''

RETURN = r'''
html_path:
  description: The HTML page.
  returned: success
  type: str
  sample: /srv/reports/archive.html
csv_path:
  description: The CSV export, one row per charted point with the columns C(chart), C(series), C(x), C(y).
  returned: success
  type: str
  sample: /srv/reports/archive.csv
json_path:
  description: The JSON export, the report model the page is made from (summary, charts with their series, tables).
  returned: success
  type: str
  sample: /srv/reports/archive.json
changed_files:
  description: The files whose content differed and were written (would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: [/srv/reports/archive.html, /srv/reports/archive.json]
bytes:
  description: Size of each file's content in bytes.
  returned: success
  type: dict
  sample: {html: 402311, csv: 5210, json: 20877}
charts:
  description: The charts written, in page order, with the number of points of each series by its SVG id.
  returned: success
  type: list
  elements: dict
  sample: [{id: runs, title: Runs per day by phase, series: {series-runs-succeeded: 14, series-runs-failed: 14}}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.argoops.workflows.plugins.module_utils import archive_report
from ansible_collections.argoops.workflows.plugins.module_utils.archive_report import run_archive_report
from ansible_collections.argoops.workflows.plugins.module_utils.errors import run_module


def main():
    module = AnsibleModule(argument_spec=dict(
        path=dict(type="path", required=True),
        title=dict(type="str", default=archive_report.DEFAULT_TITLE),
        stats_by_day=dict(type="list", elements="dict", required=True),
        stats_by_day_and_phase=dict(type="dict", default={}),
        failing_templates=dict(type="list", elements="dict", default=[]),
        top_failing=dict(type="int", default=10),
        capacity=dict(type="dict"),
        tables=dict(type="dict", default={}),
        latest=dict(type="list", elements="dict", default=[])), supports_check_mode=True)
    run_module(module, run_archive_report)


if __name__ == "__main__":
    main()
