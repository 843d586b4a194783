# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``workflow-controller-configmap`` read as a whole, the way Argo v4.0.5 reads it (config/controller.go).

Argo accepts either one data key per top-level setting, which it glues into one YAML document
(``name: value`` for a one-line value, else ``name:`` and the value indented by two spaces), or a single
``config`` key holding the whole document -- and refuses a ``config`` key next to any other key. The
document is then decoded strictly into ``config.Config``: a syntax error anywhere, or an unknown top-level
setting, makes the controller exit. ``Document`` finds those, naming the data key at fault, and checks the
kind of every top-level value (``TOP_LEVEL``); what is *inside* a setting this collection does not manage
(an executor's container spec, an artifact repository) is not type-checked. Plain Python plus PyYAML.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from fractions import Fraction

from ansible_collections.argoops.workflows.plugins.module_utils.argo_decode import go_int, json_type, non_finite
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import (INT64_MAX, LayoutError, fold_key,
                                                                                  fold_matches, go_string, load,
                                                                                  load_first,
                                                                                  reencoding_problem)

CONFIG_KEY = "config"
PER_KEY, SINGLE_KEY, EMPTY = "per-key", "config-key", "empty"
ARGO_REJECTS, UNKNOWN = "argo", "unknown"  # the kinds of argo_config.Problem

# Argo v4.0.5 config.Config, field by field (json name: kind of its Go type). "duration" is metav1.Duration
# (a Go duration string); "duration?" its pointer (null allowed); "object" any struct (pointer or not).
TOP_LEVEL = {
    "nodeEvents": "object", "workflowEvents": "object", "executor": "object", "mainContainer": "object",
    "kubeConfig": "object", "artifactRepository": "object", "namespace": "str", "instanceID": "str",
    "metricsConfig": "object", "telemetryConfig": "object", "parallelism": "int", "namespaceParallelism": "int",
    "resourceRateLimit": "object", "persistence": "object", "links": "list", "columns": "list",
    "workflowDefaults": "object", "podSpecLogStrategy": "object", "podGCGracePeriodSeconds": "int",
    "podGCDeleteDelayDuration": "duration?", "workflowRestrictions": "object", "initialDelay": "duration",
    "images": "map", "retentionPolicy": "object", "navColor": "str", "sso": "object",
    "synchronization": "object", "artifactDrivers": "list", "failedPodRestart": "object",
}
TOP_LEVEL_VERSION = (4, 0)
MANAGED = ("persistence", "retentionPolicy")  # checked in depth by argo_config


def argo_text(data):
    """The YAML document Argo builds from per-key ``data`` (config/controller.go parseConfigMap)."""
    return "".join(fragment(name, data[name]) for name in sorted(data))


def fragment(name, value):
    if "\n" in value:
        # Argo's own comment: "this mucky code indents with two spaces"
        return name + ":\n  " + "\n  ".join(value.strip("\n").split("\n")) + "\n"
    return name + ": " + value + "\n"


class Problem(str):
    """A problem of the top-level setting ``setting`` (None: of no one setting), and whether the controller
    exits on it (``kind``)."""

    def __new__(cls, message, setting, kind=ARGO_REJECTS):
        self = str.__new__(cls, message)
        self.setting, self.kind = setting, kind
        return self


class Document:
    """A ConfigMap's data as Argo reads it.

    ``root``: the top-level mapping (string keys, go-yaml values); ``problems``: what makes Argo reject
    it (or what this module cannot judge), each naming its data key; ``findings``: warnings.
    """

    def __init__(self, data, version=None):
        self.data = dict(data or {})
        self.problems, self.findings = [], []
        if CONFIG_KEY in self.data:
            if len(self.data) != 1:
                others = sorted(k for k in self.data if k != CONFIG_KEY)
                raise LayoutError(
                    "the ConfigMap has a 'config' key and other keys (%s); Argo refuses such a ConfigMap "
                    "('you must only have one item'). Move those keys into 'config' or drop 'config', then "
                    "run again" % ", ".join(others))
            self.kind = SINGLE_KEY
            root = load(self.data[CONFIG_KEY], "data.config")
            if root is not None and not isinstance(root, dict):
                raise LayoutError("data.config must hold a YAML mapping, not %s" % json_type(root))
            self.root = root or {}
        else:
            self.kind = PER_KEY if self.data else EMPTY
            self.root = self._per_key()
        self._check_top_level(version)

    def where(self, key):
        """How a message names the top-level setting ``key``."""
        return "data.config: %s" % key if self.kind == SINGLE_KEY else "data.%s" % key

    def _per_key(self):
        try:
            root, more = load_first(argo_text(self.data), "the ConfigMap")
            whole, order_matters = None, self._order_matters(root, True)
            if not more and not order_matters:
                return root or {}
        except LayoutError as err:
            whole, order_matters = err, self._order_matters(None, False)
        rejects = ARGO_REJECTS if whole and not order_matters else UNKNOWN
        root, located = {}, False  # read key by key, to name the key at fault
        for name in sorted(self.data):
            text = fragment(name, self.data[name])
            try:
                part, more = load_first(text, "data.%s" % name)
            except LayoutError as err:
                located = True
                self.problems.append(Problem("%s (Argo reads it as %r)%s" % (
                    err, text[:160], "" if rejects == ARGO_REJECTS else
                    "; whether Argo reads the ConfigMap depends on Go's random order of its keys"), name, rejects))
                continue
            if more:
                located = True
                self.problems.append(Problem(
                    "data.%s ends Argo's YAML document (a '---' or '...' line in it, as Argo glues it: %r): Argo "
                    "then ignores every key it happens to glue after it, in Go's random map order" % (name, text[:160]),
                    name, UNKNOWN))
            root.update(part or {})
        if not located:
            self.problems.append(Problem("the ConfigMap as Argo assembles it: %s%s" % (
                whole or "it reads differently", "" if rejects == ARGO_REJECTS else
                " (depending on Go's random order of its keys: an alias of an anchor in another key)"), None, rejects))
        return root

    def _order_matters(self, sorted_root, sorted_ok):
        """Whether the glued document reads differently in another key order (an alias of an anchor in
        another key: Go glues the keys in its random map order). Tried: sorted and reversed."""
        if not any("*" in value for value in self.data.values()):
            return False
        try:
            other = load_first("".join(fragment(n, self.data[n]) for n in sorted(self.data, reverse=True)),
                               "the ConfigMap")[0]
        except LayoutError:
            return sorted_ok
        return not sorted_ok or other != sorted_root

    def _check_top_level(self, version):
        known = dict((fold_key(name), name) for name in TOP_LEVEL)
        exact = version is not None and tuple(version[:2]) == TOP_LEVEL_VERSION
        for key in sorted(self.root):
            name = known.get(fold_key(key))
            if name is None:
                message = "%s: Argo v4.0 has no setting %r" % (self.where(key), key)
                if exact:
                    self.problems.append(Problem(message + " (the controller exits: unknown field)", key))
                else:
                    self.findings.append(message + " (not checked further: the controller is not known to be v4.0)")
                continue
            problem = _kind_problem(TOP_LEVEL[name], self.root[key])
            bad = reencoding_problem({key: self.root[key]})
            if bad is not None and not problem and fold_key(name) not in (fold_key(n) for n in MANAGED):
                problem = _KindProblem("%r holds a control character Argo cannot re-encode (its own yaml.Marshal "
                                       "of the configuration fails and the controller exits)" % bad)
            if problem:
                self.problems.append(Problem("%s: %s" % (self.where(key), problem), key, problem.kind))

    def spellings(self, name):
        """The top-level keys Argo decodes into the setting ``name``, in decoding order."""
        return fold_matches(self.root, name)

    def values(self, name):
        """Every value written into the setting ``name``, in the order Go decodes them."""
        return [self.root[key] for key in self.spellings(name)]

    def string(self, name):
        """The value of a top-level string setting as Argo reads it (None when unset)."""
        result = None
        for value in self.values(name):
            if value is not None and not isinstance(value, (dict, list)):
                result = go_string(value)
        return result

    def problems_of(self, names):
        """The problems of the settings ``names`` (matched the way Argo matches keys)."""
        folded = set(fold_key(name) for name in names)
        return [p for p in self.problems if p.setting is not None and fold_key(p.setting) in folded]

    def other_problems(self, names):
        """Every problem not of the settings ``names``."""
        own = set(id(p) for p in self.problems_of(names))
        return [p for p in self.problems if id(p) not in own]


class _KindProblem(str):
    def __new__(cls, message, kind=ARGO_REJECTS):
        self = str.__new__(cls, message)
        self.kind = kind
        return self


def _kind_problem(kind, value):
    """Why encoding/json cannot decode ``value`` into a top-level field of this kind, or None."""
    if kind in ("object", "list", "map"):
        wanted = list if kind == "list" else dict
        if value is not None and not isinstance(value, wanted):
            return _KindProblem("%r is not %s (Argo: cannot unmarshal %s)" % (
                value, "a list" if kind == "list" else "a mapping", json_type(value)))
        if non_finite(value):
            return _KindProblem("holds .nan or .inf, which Argo can only read where it expects a string; this "
                                "module does not check settings it does not manage that deeply", UNKNOWN)
        return None
    if value is None:
        return None if kind != "duration" else _KindProblem("null is not a duration (Argo: time: invalid duration)")
    if kind == "str":
        if isinstance(value, (dict, list)):
            return _KindProblem("%r is not a string (Argo: cannot unmarshal %s)" % (value, json_type(value)))
        return None
    if kind == "int":
        return None if go_int(value) is not None else _KindProblem(
            "%r is not an integer Argo can read (cannot unmarshal %s)" % (value, json_type(value)))
    if not isinstance(value, str) or not go_duration_ok(value):
        return _KindProblem("%r is not a Go duration such as 30s or 1m30s (Argo: time: invalid duration)" % (value,))
    return None


_DURATION_UNITS = {"ns": 1, "us": 10 ** 3, u"\u00b5s": 10 ** 3, u"\u03bcs": 10 ** 3, "ms": 10 ** 6,
                   "s": 10 ** 9, "m": 60 * 10 ** 9, "h": 3600 * 10 ** 9}
_DURATION_PART = re.compile(r"([0-9]*)(?:(\.)([0-9]*))?([^0-9.]*)")


def go_duration_ok(text):
    """True when Go's time.ParseDuration accepts ``text``: 0, or a signed sequence of number and unit."""
    negative = text[:1] == "-"
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return True
    if not body:
        return False
    total, position = Fraction(0), 0
    while position < len(body):
        whole, dot, fraction, unit = _DURATION_PART.match(body, position).groups()
        if not whole and not fraction or unit not in _DURATION_UNITS:
            return False  # no digits around the dot, or a missing or unknown unit
        number = Fraction(int(whole or "0")) + (Fraction(int(fraction), 10 ** len(fraction)) if fraction else 0)
        total += number * _DURATION_UNITS[unit]
        position += len(whole) + len(dot or "") + len(fraction or "") + len(unit)
    return total <= INT64_MAX + (1 if negative else 0)
