# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes label selectors (Argo's ``archiveLabelSelector``), read and checked as apimachinery does.

Rules from k8s.io/apimachinery v0.33 (the version Argo v4.0.5 links): ``LabelSelectorAsSelector`` /
``labels.NewRequirement`` and ``validation.IsQualifiedName`` / ``IsValidLabelValue``. Plain Python.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import go_string

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _speller(options):
    """Spell a field by its Ansible option name or by its Kubernetes name."""
    return (lambda option, key: option) if options else (lambda option, key: key)


def read(value, name, problems, from_options):
    """Typed metav1.LabelSelector from options (snake_case) or Argo YAML (Go's case-insensitive keys)."""
    spell = _speller(from_options)
    if not isinstance(value, dict):
        problems.append("%s must be a mapping" % name)
        return None
    allowed = {spell("match_labels", "matchLabels"): "matchLabels",
               spell("match_expressions", "matchExpressions"): "matchExpressions"}
    result = {}
    for key, item in value.items():
        canonical = allowed.get(key) if from_options else next(
            (c for k, c in allowed.items() if str(key).lower() == k.lower()), None)
        if canonical is None:
            problems.append("%s: unknown %s %r; known: %s" % (
                name, "option" if from_options else "field", key, ", ".join(sorted(allowed))))
        elif item is not None:
            result[canonical] = item
    labels = result.pop("matchLabels", {})
    if not isinstance(labels, dict):
        problems.append("%s.%s must be a mapping of label keys to values" % (name, spell("match_labels", "matchLabels")))
        labels = {}
    if labels:
        result["matchLabels"] = dict((str(k), go_string(v)) for k, v in labels.items())
    expressions = []
    raw = result.get("matchExpressions", [])
    if not isinstance(raw, list):
        problems.append("%s.%s must be a list" % (name, spell("match_expressions", "matchExpressions")))
        raw = []
    for index, expr in enumerate(raw):
        where = "%s.%s[%d]" % (name, spell("match_expressions", "matchExpressions"), index)
        if not isinstance(expr, dict):
            problems.append("%s must be a mapping with key, operator and values" % where)
            continue
        folded = dict((str(k).lower(), v) for k, v in expr.items())
        unknown = sorted(set(folded) - {"key", "operator", "values"})
        if unknown:
            problems.append("%s: unknown field(s) %s; known: key, operator, values" % (where, ", ".join(unknown)))
        values = folded.get("values") or []
        if not isinstance(values, list):
            problems.append("%s.values must be a list" % where)
            values = []
        expression = {"key": go_string(folded.get("key") or ""), "operator": folded.get("operator") or ""}
        if values:
            expression["values"] = [go_string(v) for v in values]
        expressions.append(expression)
    result.pop("matchExpressions", None)
    if expressions:
        result["matchExpressions"] = expressions
    return result


_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_key_problem(key):
    """k8s.io/apimachinery validation.IsQualifiedName, as NewRequirement applies it."""
    parts = key.split("/")
    if len(parts) > 2:
        return "a label key has at most one '/' (optional DNS subdomain prefix, then a name)"
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix):
            return "the prefix before '/' must be a DNS subdomain (lower case, at most 253 characters)"
    name = parts[-1]
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return ("the name part must be 1-63 characters of letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit")
    return None


def label_value_problem(value):
    if value == "":
        return None
    if len(value) > 63 or not _QUALIFIED_NAME.match(value):
        return ("a label value is empty or at most 63 characters of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def check(selector, name, options, problems):
    """The rules labels.NewRequirement applies (Argo exits when one fails and archiving is on)."""
    spell = _speller(options)
    labels = spell("match_labels", "matchLabels")
    exprs = spell("match_expressions", "matchExpressions")
    for key in sorted(selector.get("matchLabels", {})):
        value = selector["matchLabels"][key]
        for problem in (label_key_problem(key), None if isinstance(value, str) else "a label value is a string",
                        label_value_problem(value) if isinstance(value, str) else None):
            if problem:
                problems.append("%s.%s[%r]: %s" % (name, labels, key, problem))
    for index, expr in enumerate(selector.get("matchExpressions", [])):
        where = "%s.%s[%d]" % (name, exprs, index)
        problem = label_key_problem(expr["key"]) if isinstance(expr["key"], str) else "key must be a string"
        if problem:
            problems.append("%s.key %r: %s" % (where, expr["key"], problem))
        operator, values = expr["operator"], expr.get("values", [])
        if operator not in OPERATORS:
            problems.append("%s.operator %r is not a valid label selector operator (Argo exits); use one of %s "
                            "(case matters)" % (where, operator, ", ".join(OPERATORS)))
        elif operator in ("In", "NotIn") and not values:
            problems.append("%s: operator %s needs at least one value" % (where, operator))
        elif operator in ("Exists", "DoesNotExist") and values:
            problems.append("%s: operator %s takes no values" % (where, operator))
        for value in values:
            problem = label_value_problem(value) if isinstance(value, str) else "a label value is a string"
            if problem:
                problems.append("%s.values %r: %s" % (where, value, problem))
