# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan that turns the desired settings into new ``workflow-controller-configmap`` data.

The ConfigMap is read as Argo reads it (argo_document.py: both layouts, the whole document). Only
``persistence`` and ``retentionPolicy`` are ours: every other key keeps its exact bytes, in both layouts,
and the resulting ConfigMap is checked as a whole (``Plan.other_problems``: settings we do not own that
make Argo reject it). Plain Python plus PyYAML, no Ansible imports.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config as model
from ansible_collections.argoops.workflows.plugins.module_utils.argo_document import (CONFIG_KEY, EMPTY, PER_KEY,
                                                                                      SINGLE_KEY, Document)
from ansible_collections.argoops.workflows.plugins.module_utils.argo_yaml import (LayoutError, dump, fold_key,
                                                                                  fold_matches, load, same)

__all__ = ["CONFIG_KEY", "EMPTY", "PER_KEY", "SINGLE_KEY", "Current", "Plan"]


def replaced(document, blocks):
    """New ``data``: each name in ``blocks`` set to its mapping (None removes it), all else untouched.

    Returns (data, note); note explains when the ``config`` key had to be re-serialised.
    """
    if document.kind == SINGLE_KEY:
        return _replace_in_document(document.data[CONFIG_KEY], document.root, blocks)
    data = dict(document.data)
    for name, value in blocks.items():
        for key in [k for k in data if fold_key(k) == fold_key(name)]:
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
            if any(fold_key(key) == fold_key(name) for name in blocks):
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
            if same(load(candidate, "data.config") or {}, expected):
                return {CONFIG_KEY: candidate}, None
        except LayoutError:
            pass
    return {CONFIG_KEY: dump(expected)}, (
        "data.config was re-serialised as a whole (its layout could not be edited in place): every other "
        "setting is kept with the same values, but its comments and formatting changed")


class Current:
    """The managed blocks of an existing ConfigMap, parsed the way Argo parses them.

    ``problems`` maps each managed key to what makes Argo reject it (unknown fields, bad types, broken
    rules, keys too new for ``version``): they are reported, and a run that manages the block replaces it.
    """

    def __init__(self, data, version=None):
        self.document = self.layout = Document(data, version)
        self.findings, self.spellings, self.problems = [], {}, {}
        self.persistence = self._block(model.PERSISTENCE_KEY, model.PERSISTENCE, model.PERSISTENCE_KEY_NAMES)
        self.retention = self._block(model.RETENTION_KEY, model.RETENTION, model.RETENTION_KEY_NAMES)
        problems = self.problems[model.PERSISTENCE_KEY]
        if self.persistence is not None and not problems:
            problems.extend(model.validate_persistence(self.persistence, model.PERSISTENCE_KEY_NAMES, self.findings))
            if version is not None and not problems:
                problems.extend(model.gate_version(self.persistence, version, model.PERSISTENCE_KEY_NAMES, []))
        if self.retention is not None and not self.problems[model.RETENTION_KEY]:
            self.problems[model.RETENTION_KEY] = model.validate_retention(self.retention, model.RETENTION_KEY_NAMES)
        self.instance_id = self.document.string("instanceID")

    def _block(self, key, fields, names):
        document = self.document
        spellings = sorted(set(document.spellings(key)) | set(
            k for k in document.data if document.kind == PER_KEY and fold_key(k) == fold_key(key)))
        self.spellings[key] = spellings
        self.problems[key] = [model.Problem(str(p), p.kind) for p in document.problems_of([key])]
        if len(spellings) > 1 or (spellings and spellings[0] != key):
            self.findings.append("the ConfigMap spells %s as %s; Argo matches keys case-insensitively and reads "
                                 "them all; a run that manages it writes only %r"
                                 % (key, ", ".join(repr(s) for s in spellings), key))
        layers = []
        for value in document.values(key):
            layers = [] if value is None else layers + [value]  # null resets Argo's pointer to nil
        if not layers:
            return None
        return model.read_argo(fields, layers, names, self.problems[key])

    def needs_rewrite(self, key):
        """True when the block as stored is broken or oddly spelled, whatever its values."""
        spellings = self.spellings.get(key) or []
        return bool(self.problems[key]) or (bool(spellings) and spellings != [key])


class Plan:
    """The ConfigMap data to write for ``desired`` and ``state``, and everything the module reports.

    ``other_problems``: what, in settings this module does not manage, makes Argo reject the resulting
    ConfigMap (the module fails on them, or warns with ``foreign_key_errors=warn``).
    """

    def __init__(self, data, desired, state, version=None):
        current = Current(data, version)
        self.current = current
        manage_retention = state == "absent" or desired.retention is not None
        after_p = desired.persistence if state == "present" else None
        after_r = current.retention
        if manage_retention:
            after_r = desired.retention if state == "present" else None
        before = (current.persistence, current.retention)
        self.persistence, self.retention = after_p, after_r
        managed = [model.PERSISTENCE_KEY] + ([model.RETENTION_KEY] if manage_retention else [])
        self.changed = (model.canonical(model.PERSISTENCE, before[0]) != model.canonical(model.PERSISTENCE, after_p)
                        or model.canonical(model.RETENTION, before[1]) != model.canonical(model.RETENTION, after_r)
                        or any(current.needs_rewrite(key) for key in managed))
        note = None
        self.data = dict(data or {})
        if self.changed:
            blocks = {model.PERSISTENCE_KEY: after_p}
            if manage_retention:
                blocks[model.RETENTION_KEY] = after_r
            self.data, note = replaced(current.document, blocks)
        result = Document(self.data, version)
        self.other_problems = result.other_problems(managed)
        if not manage_retention:  # left as it is: this run does not fix it, so it counts like a foreign key
            self.other_problems += [model.Problem("the ConfigMap's retentionPolicy (left as it is without "
                                                  "retention_policy): %s" % p, p.kind)
                                    for p in current.problems[model.RETENTION_KEY]]
        self.restart = model.restart_keys(before, (after_p, after_r)) if self.changed else []
        warnings = list(desired.findings) + current.findings + result.findings
        for key in model.MANAGED_KEYS:
            for problem in current.problems[key]:
                warnings.append("the ConfigMap's %s has a setting this module does not accept: %s%s"
                                % (key, problem, "; this run replaces the block" if key in managed else
                                   "; set retention_policy to replace it"))
        if self.changed:
            warnings += model.change_findings(before[0], after_p, (current.instance_id, current.instance_id))
        if note:
            warnings.append(note)
        self.warnings = warnings
        self.diff = {"before": _managed_text(before[0], before[1]), "after": _managed_text(after_p, after_r)}


def _managed_text(persistence, retention):
    blocks = {}
    if persistence is not None:
        blocks[model.PERSISTENCE_KEY] = persistence
    if retention is not None:
        blocks[model.RETENTION_KEY] = retention
    return dump(blocks) if blocks else ""
