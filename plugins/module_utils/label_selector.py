# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes label selectors (Argo's ``archiveLabelSelector``): options to Argo's shape, and the rules
apimachinery applies.

Rules from k8s.io/apimachinery v0.33 (the version Argo v4.0.5 links): ``LabelSelectorAsSelector`` /
``labels.NewRequirement`` and ``validation.IsQualifiedName`` / ``IsValidLabelValue``. Reading the selector
from an existing ConfigMap is argo_decode.py's (the shape is argo_config.SELECTOR). Plain Python.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import go_string

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


SHAPE = ("a mapping with match_labels (label key: value) and/or match_expressions (a list of key, operator "
         "%s and values), for example {match_labels: {app: etl}}" % "/".join(OPERATORS))


def _scalar(value):
    """A label key or value as Argo gets it (numbers and booleans become Go's strings); None when it is not a
    scalar (a mapping, a list, null or bytes)."""
    if isinstance(value, (bool, int, float)):
        return go_string(value)
    return value if isinstance(value, str) else None


def from_options(value, name, problems):
    """metav1.LabelSelector (camelCase) from the ``match_labels`` / ``match_expressions`` options.

    Every key and value comes out as a string (or the problem is reported), so ``check`` can apply the rules.
    """
    if not isinstance(value, dict):
        problems.append("%s must be %s, not %s%r%s" % (
            name, SHAPE, "the string " if isinstance(value, str) else "", value,
            " (a selector string such as 'app=etl' is not accepted here)" if isinstance(value, str) else ""))
        return None
    unknown = sorted((key for key in value if key not in ("match_labels", "match_expressions")), key=repr)
    for key in unknown:
        problems.append("%s: unknown option %r; known: match_expressions, match_labels (%s must be %s)"
                        % (name, key, name, SHAPE))
    result = {}
    labels = value.get("match_labels") or {}
    if not isinstance(labels, dict):
        problems.append("%s.match_labels must be a mapping of label keys to values, not %r" % (name, labels))
        labels = {}
    match_labels = {}
    for key, item in labels.items():
        key_text, item_text = _scalar(key), _scalar(item)
        if key_text is None or item_text is None:
            problems.append("%s.match_labels[%r]: %r is not a label value; label keys and values are strings"
                            % (name, key, item))
        else:
            match_labels[key_text] = item_text
    if match_labels:
        result["matchLabels"] = match_labels
    expressions = []
    raw = value.get("match_expressions") or []
    if not isinstance(raw, list):
        problems.append("%s.match_expressions must be a list of mappings with key, operator and values, not %r"
                        % (name, raw))
        raw = []
    for index, expr in enumerate(raw):
        where = "%s.match_expressions[%d]" % (name, index)
        if not isinstance(expr, dict):
            problems.append("%s must be a mapping with key, operator and values, not %r" % (where, expr))
            continue
        unknown = sorted((repr(k) for k in expr if k not in ("key", "operator", "values")))
        if unknown:
            problems.append("%s: unknown option(s) %s; known: key, operator, values" % (where, ", ".join(unknown)))
        values = expr.get("values") or []
        if not isinstance(values, list):
            problems.append("%s.values must be a list of label values, not %r" % (where, values))
            values = []
        key = _scalar(expr.get("key") or "")
        if key is None:
            problems.append("%s.key: %r is not a label key (a string)" % (where, expr.get("key")))
            continue
        operator = expr.get("operator") or ""
        if not isinstance(operator, str):
            problems.append("%s.operator: %r is not one of %s" % (where, operator, ", ".join(OPERATORS)))
            continue
        texts = [_scalar(v) for v in values]
        if None in texts:
            problems.append("%s.values: %r holds something that is not a label value (a string)" % (where, values))
            continue
        expression = {"key": key, "operator": operator}
        if texts:
            expression["values"] = texts
        expressions.append(expression)
    if expressions:
        result["matchExpressions"] = expressions
    return result


# Used with fullmatch: Python's "$" would also match before a final newline, Go's does not.
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def label_key_problem(key):
    """k8s.io/apimachinery validation.IsQualifiedName, as NewRequirement applies it."""
    parts = key.split("/")
    if len(parts) > 2:
        return "a label key has at most one '/' (optional DNS subdomain prefix, then a name)"
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix):
            return "the prefix before '/' must be a DNS subdomain (lower case, at most 253 characters)"
    name = parts[-1]
    if not name or len(name) > 63 or not _QUALIFIED_NAME.fullmatch(name):
        return ("the name part must be 1-63 characters of letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit")
    return None


def label_value_problem(value):
    if value == "":
        return None
    if len(value) > 63 or not _QUALIFIED_NAME.fullmatch(value):
        return ("a label value is empty or at most 63 characters of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def check(selector, name, options):
    """The problems labels.NewRequirement finds (Argo exits on the first when archiving is on)."""
    problems = []
    labels = "match_labels" if options else "matchLabels"
    exprs = "match_expressions" if options else "matchExpressions"
    for key in sorted(selector.get("matchLabels", {})):
        value = selector["matchLabels"][key]
        for problem in (label_key_problem(key), label_value_problem(value)):
            if problem:
                problems.append("%s.%s[%r]: %s" % (name, labels, key, problem))
    for index, expr in enumerate(selector.get("matchExpressions", [])):
        where = "%s.%s[%d]" % (name, exprs, index)
        key, operator, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values", [])
        problem = label_key_problem(key)
        if problem:
            problems.append("%s.key %r: %s" % (where, key, problem))
        if operator not in OPERATORS:
            problems.append("%s.operator %r is not a valid label selector operator (Argo exits); use one of %s "
                            "(case matters)" % (where, operator, ", ".join(OPERATORS)))
        elif operator in ("In", "NotIn") and not values:
            problems.append("%s: operator %s needs at least one value" % (where, operator))
        elif operator in ("Exists", "DoesNotExist") and values:
            problems.append("%s: operator %s takes no values" % (where, operator))
        for value in values:
            problem = label_value_problem(value)
            if problem:
                problems.append("%s.values %r: %s" % (where, value, problem))
    return problems
