# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The YAML dialect Argo reads its ConfigMap with: sigs.k8s.io/yaml ``UnmarshalStrict`` over go-yaml v2.

Duplicate keys are errors; field names match Go's encoding/json rules, i.e. exactly or else
case-insensitively (``Persistence`` is read as ``persistence``); go-yaml (YAML 1.1) reads y/n as
booleans, so our output quotes them. Plain Python plus PyYAML, no Ansible imports.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the module (AnsibleK8SModule checks PyYAML)
    yaml = None

HAS_YAML = yaml is not None


class LayoutError(ValueError):
    """Text (or a ConfigMap) that cannot be read the way Argo reads it."""


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


def go_string(value):
    """sigs.k8s.io/yaml turns YAML numbers and booleans into strings when the Go field is a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value
