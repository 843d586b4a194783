# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Scope of Argo's workflow archive (plugins/module_utils/archive_args.py scope_argument_spec).
    DOCUMENTATION = r'''
options:
  cluster_name:
    description:
      - The C(persistence.clusterName) of the workflow controller whose rows to use.
      - Argo stores it with every archived workflow and scopes every query by it.
    type: str
    default: default
  instance_id:
    description:
      - The controller's C(instanceID); Argo stores it with every archived workflow (empty when unset).
    type: str
    default: ''
'''

    # Filters (archive_args.py filter_argument_spec). All given filters must match.
    FILTERS = r'''
options:
  namespaces:
    description:
      - Only workflows in these namespaces. Empty means every namespace.
    type: list
    elements: str
    default: []
    aliases: [namespace]
  name:
    description:
      - Only workflows whose name matches this text, as O(name_match) says.
    type: str
  name_match:
    description:
      - How O(name) is matched.
      - V(exact) equal, V(prefix) starts with, V(contains) contains (all case-sensitive, no wildcards).
    type: str
    default: exact
    choices: [exact, prefix, contains]
  phases:
    description:
      - Only workflows that ended in one of these phases.
    type: list
    elements: str
    default: []
    choices: [Succeeded, Failed, Error]
  label_selector:
    description:
      - Kubernetes label selector on the workflow labels Argo stored with the row, as C(kubectl -l) takes it.
      - Comma-separated requirements, all of which must hold, C(key=value), C(key!=value),
        C(key in (v1,v2)), C(key notin (v1,v2)), C(key) (label present) and C(!key) (label absent).
      - Keys and values are validated against the Kubernetes label rules before anything is queried.
      - Argo labels every workflow with C(workflows.argoproj.io/phase); templates and submitters add others.
    type: str
  started_after:
    description:
      - Only workflows started at or after this time, ISO 8601 (V(2024-05-01) or V(2024-05-01T12:00:00Z)).
      - Times without an offset are UTC, as Argo stores them.
    type: str
  started_before:
    description:
      - Only workflows started before this time (ISO 8601, UTC unless an offset is given).
    type: str
  finished_after:
    description:
      - Only workflows finished at or after this time (ISO 8601, UTC unless an offset is given).
    type: str
  finished_before:
    description:
      - Only workflows finished before this time (ISO 8601, UTC unless an offset is given).
    type: str
'''
