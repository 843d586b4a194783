# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes label selector syntax (as ``kubectl -l`` and Argo's archive UI take it), parsed and validated.

Supported: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists) and ``!k``
(does not exist), joined by commas. Keys and values are checked against Kubernetes' label rules so a
typo fails with a clear message instead of silently matching nothing. Pure Python, no SQL here.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

# Kubernetes' label key/value rules are spelled once, in label_selector (apimachinery's validation).
from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils.label_selector import (
    label_key_problem, label_value_problem)

Requirement = namedtuple("Requirement", "key operator values")

_KEY = r"[^\s=!(),]+"
_PATTERNS = (
    (re.compile(r"^!\s*(%s)$" % _KEY), "!"),
    (re.compile(r"^(%s)\s+(in|notin)\s*\((.*)\)$" % _KEY), None),
    (re.compile(r"^(%s)\s*(==|!=|=)\s*(.*)$" % _KEY), None),
    (re.compile(r"^(%s)$" % _KEY), "exists"),
)
RULES = ("a selector is comma-separated requirements: key=value, key!=value, key in (v1,v2), "
         "key notin (v1,v2), key (exists) or !key (does not exist)")


class SelectorError(ArgoopsError, ValueError):
    """A selector the module rejects; the message names the option and the rule."""


def _split(text):
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def check_key(key, option):
    problem = label_key_problem(key)
    if problem:
        raise SelectorError("%s: label key %r is invalid: %s" % (option, key, problem))


def check_value(value, key, option):
    problem = label_value_problem(value)
    if problem:
        raise SelectorError("%s: value %r for label %r is invalid: %s" % (option, value, key, problem))


def _requirement(text, option):
    for pattern, fixed_operator in _PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        key = match.group(1)
        check_key(key, option)
        if fixed_operator:
            return Requirement(key, fixed_operator, ())
        operator = "=" if match.group(2) == "==" else match.group(2)
        if operator in ("in", "notin"):
            values = tuple(v.strip() for v in match.group(3).split(","))
            if values == ("",):
                raise SelectorError("%s: %r: '%s' needs at least one value in the parentheses"
                                    % (option, text, operator))
        else:
            values = (match.group(3).strip(),)
        for value in values:
            check_value(value, key, option)
        return Requirement(key, operator, tuple(sorted(set(values))))
    raise SelectorError("%s: cannot parse %r: %s" % (option, text, RULES))


def parse_selector(text, option="label_selector"):
    """List of Requirements for ``text`` (None or blank -> []); SelectorError on anything invalid."""
    if text is not None and not isinstance(text, str):
        raise SelectorError("%s: %r is not a string: %s" % (option, text, RULES))
    if text is None or not text.strip():
        return []
    if text.count("(") != text.count(")"):
        raise SelectorError("%s: unbalanced parentheses in %r: %s" % (option, text, RULES))
    requirements = []
    for part in _split(text):
        part = part.strip()
        if not part:
            raise SelectorError("%s: empty requirement in %r (stray comma?): %s" % (option, text, RULES))
        if re.search(r"[<>]", part):
            raise SelectorError("%s: %r: the operators < and > are not supported: %s" % (option, part, RULES))
        requirements.append(_requirement(part, option))
    return requirements


def format_selector(requirements):
    """Canonical text of parsed requirements (used in page-token fingerprints and results)."""
    out = []
    for req in requirements:
        if req.operator == "exists":
            out.append(req.key)
        elif req.operator == "!":
            out.append("!" + req.key)
        elif req.operator in ("in", "notin"):
            # Only the empty value: "(,)", as Kubernetes reads it; "()" is refused for having no value.
            out.append("%s %s (%s)" % (req.key, req.operator, ",".join(req.values) or ","))
        else:
            out.append("%s%s%s" % (req.key, req.operator, req.values[0]))
    return ",".join(out)
