# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Go's encoding/json makes of go-yaml values decoded into a typed struct (the fields of
argo_config's table), as sigs.k8s.io/yaml v1.4.0 ``UnmarshalStrict`` runs it for Argo.

The rules, each from the Go source:

* Keys match a field exactly or case-insensitively (``argo_yaml.fold_key``); an unknown key is an
  error (``DisallowUnknownFields``). Keys are decoded in sorted order (the JSON object comes from a Go
  map), so with two spellings of one field the later wins -- and an object *merges* into the earlier
  one, a list decodes element by element into the earlier elements. ``layers`` below carries every
  value written into one Go field, in that order.
* Numbers and booleans become strings where Go expects a string (``go_string``) -- except below an
  embedded struct (``Field.embedded``: Argo's ``DBConfig``), where sigs.k8s.io/yaml loses the target
  type and a number for a string field is an error. Types with their own UnmarshalJSON (``ttl``) are
  never coerced.
* null leaves a scalar or a non-pointer struct as it was, resets a pointer, map or list to nil, is
  the empty string as a map value, and is "invalid TTL" for a TTL.
* An integer field takes a JSON number without fraction or exponent: go-yaml's float ``1e3`` arrives
  as ``1000`` (Go marshals it so), ``1e21`` or ``1.5`` do not fit. A non-finite float anywhere it is not
  turned into a string fails the JSON conversion of the whole document.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from decimal import Decimal

from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import INT64_MAX, INT64_MIN, fold_key, go_string

ABSENT = object()
_KIND_NAMES = {"bool": "a boolean", "int": "an integer", "float": "a number", "str": "a string",
               "ttl": "a TTL string", "object": "a mapping", "selector": "a mapping", "map": "a mapping",
               "list": "a list"}


def json_type(value):
    """How encoding/json names the JSON type of ``value`` in its errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), type(value).__name__)


def non_finite(value):
    """True when a NaN or infinity is somewhere in ``value`` (json.Marshal cannot write one)."""
    if isinstance(value, float):
        return math.isnan(value) or math.isinf(value)
    if isinstance(value, dict):
        return any(non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(non_finite(v) for v in value)
    return False


def go_int(value):
    """The int64 an integer field gets from this go-yaml value, or None when encoding/json refuses it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else None
    if isinstance(value, float) and not non_finite(value):
        if abs(value) >= 1e21 or value != int(value):
            return None  # json.Marshal writes an exponent or a fraction: not an integer literal
        number = int(Decimal(repr(value)))  # Go writes the shortest digits, as Python's repr does
        return number if INT64_MIN <= number <= INT64_MAX else None
    return None


def match_field(fields, key):
    """The field encoding/json decodes ``key`` into: an exact match, else the first case-insensitive one."""
    for field in fields:
        if field.key == key:
            return field
    folded = fold_key(key)
    return next((field for field in fields if fold_key(field.key) == folded), None)


class Decoder:
    """Decodes layers of go-yaml values into a field table; problems are reported through ``report``."""

    def __init__(self, names, report):
        self.names, self.report = names, report

    def problem(self, path, message):
        self.report(self.names.of(path) or self.names.root, message)

    def object(self, fields, layers, path, coerce=True):
        """A struct: {key: value} of the fields set, or ABSENT when nil."""
        grouped, known = {}, False
        for raw in layers:
            if raw is None:
                continue
            if not isinstance(raw, dict):
                self.problem(path, "must be a mapping, not %s %r (Argo: cannot unmarshal %s)"
                             % (json_type(raw), raw, json_type(raw)))
                continue
            known = True
            for key in sorted(raw):
                field = match_field(fields, key)
                if field is None:
                    self.problem(path, "unknown field %r (Argo parses this block strictly and exits on unknown "
                                 "fields); known: %s" % (key, ", ".join(sorted(f.key for f in fields))))
                    continue
                grouped.setdefault(field.key, []).append(raw[key])
        result = {}
        for field in fields:
            if field.key in grouped:
                value = self.value(field, grouped[field.key], path + [field],
                                   coerce and not field.embedded)
                if value is not ABSENT:
                    result[field.key] = value
        return result if known or result else ABSENT

    def value(self, field, values, path, coerce):
        kind = field.kind
        if kind in ("object", "selector"):
            layers = []
            for value in values:
                if value is None:
                    layers = [] if field.pointer else layers
                else:
                    layers.append(value)
            return self.object(field.children, layers, path, coerce) if layers else ABSENT
        if kind == "map":
            return self.map(field, values, path, coerce)
        if kind == "list":
            return self.list(field, values, path, coerce)
        result = ABSENT
        for value in values:
            converted = self.scalar(kind, value, path, coerce)
            if converted is not ABSENT:
                result = converted
        return result

    def scalar(self, kind, value, path, coerce):
        if value is None:
            if kind == "ttl":
                self.problem(path, "null is not a TTL (Argo: \"invalid TTL\"); write a string such as 7d")
            return ABSENT
        if coerce and kind == "str" and not isinstance(value, (dict, list)):
            value = go_string(value)
        if kind == "int":
            number = go_int(value)
            if number is not None:
                return number
        elif kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and not non_finite(value):
            return float(value)
        elif kind == "bool" and isinstance(value, bool):
            return value
        elif kind in ("str", "ttl") and isinstance(value, str):
            return value
        if kind == "ttl":
            self.problem(path, "%r is not a TTL string (Argo: \"invalid TTL\"); quote it, such as '7d'" % (value,))
        elif non_finite(value):
            self.problem(path, "%r cannot be read here (Argo: json: unsupported value)" % (value,))
        else:
            extra = ""
            if kind == "str" and not coerce and isinstance(value, (int, float, bool)):
                extra = " (no number-to-string conversion here: quote it)"
            self.problem(path, "%r is not %s%s" % (value, _KIND_NAMES[kind], extra))
        return ABSENT

    def map(self, field, values, path, coerce):
        result = ABSENT
        for value in values:
            if value is None:
                result = ABSENT
                continue
            if not isinstance(value, dict):
                self.problem(path, "must be a mapping of names to strings, not %r" % (value,))
                continue
            result = dict(result) if result is not ABSENT else {}
            for key in sorted(value):
                item = value[key]
                if item is None:
                    result[key] = ""  # encoding/json stores a zero string for a null map value
                    continue
                converted = self.scalar("str", item, path + [key], coerce)
                if converted is not ABSENT:
                    result[key] = converted
        return result

    def list(self, field, values, path, coerce):
        items = None  # per element: the layers written into it so far
        for value in values:
            if value is None:
                items = None
                continue
            if not isinstance(value, list):
                self.problem(path, "must be a list, not %r" % (value,))
                continue
            old = items or []
            items = [(old[index] if index < len(old) else []) + [item] for index, item in enumerate(value)]
        if items is None:
            return ABSENT
        result = []
        for index, layers in enumerate(items):
            element = self.value(field.item, layers, path + [index], coerce)
            if element is ABSENT:
                element = {} if field.item.kind in ("object", "selector") else (
                    "" if field.item.kind == "str" else None)
            result.append(element)
        return result
