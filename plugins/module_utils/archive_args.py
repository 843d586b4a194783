# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the archive modules share: scope and filter options (documented by the argoops.workflows.archive
doc fragment: DOCUMENTATION = scope, FILTERS), and their conversion to the query model."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import parse_selector
from ansible_collections.argoops.workflows.plugins.module_utils.archive_sql import (
    Filters, QueryError, Scope, parse_time)

PHASES = ["Succeeded", "Failed", "Error"]  # the phases of completed (archived) workflows
NAME_MATCHES = ["exact", "prefix", "contains"]
TIME_OPTIONS = ("started_after", "started_before", "finished_after", "finished_before")
MAX_SCOPE_LENGTH = 64  # varchar(64) columns clustername and instanceid


def scope_argument_spec():
    return dict(cluster_name=dict(type="str", default="default"),
                instance_id=dict(type="str", default=""))


def filter_argument_spec():
    spec = dict(
        namespaces=dict(type="list", elements="str", default=[], aliases=["namespace"]),
        name=dict(type="str"),
        name_match=dict(type="str", default="exact", choices=NAME_MATCHES),
        phases=dict(type="list", elements="str", default=[], choices=PHASES),
        label_selector=dict(type="str"),
    )
    spec.update((option, dict(type="str")) for option in TIME_OPTIONS)
    return spec


def scope_from_params(params):
    for option in ("cluster_name", "instance_id"):
        if len(params[option]) > MAX_SCOPE_LENGTH:
            raise QueryError("%s: %r is longer than %d characters, so Argo cannot have stored it"
                             % (option, params[option], MAX_SCOPE_LENGTH))
    if not params["cluster_name"]:
        raise QueryError("cluster_name: must not be empty (Argo's default is 'default')")
    return Scope(params["cluster_name"], params["instance_id"])


def filters_from_params(params):
    """Filters for the query model; QueryError/SelectorError (ValueErrors) name the bad option."""
    times = dict((option, parse_time(params[option], option)) for option in TIME_OPTIONS)
    for low, high in (("started_after", "started_before"), ("finished_after", "finished_before")):
        if times[low] and times[high] and times[low] >= times[high]:
            raise QueryError("%s must be earlier than %s (got %s and %s)"
                             % (low, high, params[low], params[high]))
    if params["name"] == "":
        raise QueryError("name: must not be empty; leave it out to match every name")
    return Filters(namespaces=tuple(params["namespaces"]), name=params["name"], name_match=params["name_match"],
                   phases=tuple(params["phases"]), labels=tuple(parse_selector(params["label_selector"])),
                   **times)
