# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two layouts of ``workflow-controller-configmap`` and the YAML dialect Argo reads them with.

Argo (config/controller.go) accepts either one data key per top-level setting (``persistence: |``)
or a single ``config`` key holding the whole document -- and refuses a ``config`` key next to any
other key. It decodes with sigs.k8s.io/yaml ``UnmarshalStrict``: duplicate keys are errors, and
field names match Go's encoding/json rules, i.e. exactly or else case-insensitively
(``Persistence`` is read as ``persistence``).

This file knows nothing about what the blocks mean; it finds, replaces and removes top-level keys
so that every other key keeps its exact bytes. Plain Python plus PyYAML, no Ansible imports.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the module through HAS_YAML
    yaml = None

HAS_YAML = yaml is not None
CONFIG_KEY = "config"
PER_KEY, SINGLE_KEY, EMPTY = "per-key", "config-key", "empty"


class LayoutError(ValueError):
    """The ConfigMap cannot be read the way Argo reads it."""


if HAS_YAML:
    class _StrictLoader(yaml.SafeLoader):
        """SafeLoader that refuses duplicate keys, as go-yaml's strict mode does."""

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, dummy in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, "duplicate key %r (Argo rejects duplicate keys)" % (key,), key_node.start_mark)
                seen.add(key)
            return yaml.SafeLoader.construct_mapping(self, node, deep=deep)

    class _Dumper(yaml.SafeDumper):
        """Stable block-style output; quotes y/Y/n/N, which go-yaml (YAML 1.1) reads as booleans."""

    _Dumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def load(text, where):
    """Parse one YAML document as Argo would; raise LayoutError naming ``where``."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # nosec - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise LayoutError("%s is not valid YAML: %s" % (where, str(err).replace("\n", " ")))


def dump(value):
    """Stable YAML text for ``value`` (mappings keep their insertion order)."""
    return yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=False,
                     allow_unicode=True, width=4096)


def fold_matches(keys, name):
    """Keys Go's encoding/json decodes into the field ``name``: exact or case-insensitive matches."""
    return [key for key in keys if isinstance(key, str) and key.lower() == name.lower()]


class Layout:
    """What a ConfigMap's ``data`` holds, seen the way Argo assembles it."""

    def __init__(self, data):
        self.data = dict(data or {})
        if CONFIG_KEY in self.data:
            if len(self.data) != 1:
                others = sorted(k for k in self.data if k != CONFIG_KEY)
                raise LayoutError(
                    "the ConfigMap has a 'config' key and other keys (%s); Argo refuses such a ConfigMap "
                    "('you must only have one item'). Move those keys into 'config' or drop 'config', then "
                    "run again" % ", ".join(others))
            self.kind = SINGLE_KEY
            root = load(self.data[CONFIG_KEY], "data.config")
            if root is None:
                root = {}
            if not isinstance(root, dict):
                raise LayoutError("data.config must hold a YAML mapping, not %s" % type(root).__name__)
            self.root = root
        else:
            self.kind = PER_KEY if self.data else EMPTY
            self.root = None

    def get(self, name):
        """(spellings found, parsed value of the last one) for the top-level setting ``name``."""
        keys = fold_matches(self.root if self.root is not None else self.data, name)
        if not keys:
            return keys, None
        last = keys[-1]
        if self.root is not None:
            return keys, self.root[last]
        return keys, load(self.data[last], "data.%s" % last)

    def replaced(self, blocks):
        """New ``data``: each name in ``blocks`` set to its mapping (None removes it), all else untouched.

        Returns (data, note); note explains when the ``config`` key had to be re-serialised.
        """
        if self.kind == SINGLE_KEY:
            return _replace_in_document(self.data[CONFIG_KEY], self.root, blocks)
        data = dict(self.data)
        for name, value in blocks.items():
            for key in fold_matches(list(data), name):
                del data[key]
            if value is not None:
                data[name] = dump(value)
        return data, None


_TOP_KEY = re.compile(r"""^(?:"(?P<dq>[^"\\]*)"|'(?P<sq>[^']*)'|(?P<plain>[^\s#'"\-?:&*!|>%@`{}\[\],][^:#]*?))[ \t]*:(?:[ \t]|$)""")


def _top_level_spans(text):
    """[(key, first line, end line)] of a block-style root mapping, or None when unsure."""
    lines = text.splitlines(True)
    starts = []
    for number, line in enumerate(lines):
        if not line.strip() or line[0] in " \t#" or line.startswith(("---", "...")):
            continue
        match = _TOP_KEY.match(line.rstrip("\r\n"))
        if not match:
            return None, lines
        starts.append((match.group("dq") or match.group("sq") or match.group("plain").rstrip(), number))
    spans = []
    for index, (key, first) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else len(lines)
        # blank lines and column-0 comments before the next key belong to the next key
        while end > first + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        spans.append((key, first, end))
    return spans, lines


def _replace_in_document(text, root, blocks):
    """Splice managed top-level keys out of / into the ``config`` document, keeping other bytes."""
    expected = dict(root)
    for name, value in blocks.items():
        for key in fold_matches(list(expected), name):
            del expected[key]
        if value is not None:
            expected[name] = value
    spans, lines = _top_level_spans(text)
    if spans is not None and sorted(s[0] for s in spans) == sorted(str(k) for k in root):
        drop = set()
        insert_at = None
        for key, first, end in spans:
            if any(key.lower() == name.lower() for name in blocks):
                drop.update(range(first, end))
                insert_at = first if insert_at is None else insert_at
        rendered = "".join(dump({name: value}) for name, value in blocks.items() if value is not None)
        kept = [line for number, line in enumerate(lines) if number not in drop]
        position = len(kept) if insert_at is None else insert_at - len([n for n in drop if n < insert_at])
        head = "".join(kept[:position])
        if head and not head.endswith("\n"):
            head += "\n"
        candidate = head + rendered + "".join(kept[position:])
        try:
            if (load(candidate, "data.config") or {}) == expected:
                return {CONFIG_KEY: candidate}, None
        except LayoutError:
            pass
    return {CONFIG_KEY: dump(expected)}, (
        "data.config was re-serialised as a whole (its layout could not be edited in place): every other "
        "setting is kept with the same values, but its comments and formatting changed")
