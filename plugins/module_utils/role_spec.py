# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's argument spec, ready to validate its variables before the role runs (filter role_argument_spec).

Before a role is included its defaults are not loaded, and many are templates of other roles' results
(``{{ postgres_connection.port | default(0) }}``): validated as written they fail their own type. Without
them only the values the user gave are checked (types, choices, required options). Plain Python; the
filter parses the YAML.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError


class RoleSpecError(ArgoopsError, ValueError):
    """The argument spec cannot be used; the message says why."""


def without_defaults(options):
    """``options`` with every ``default`` removed, also in sub-options."""
    out = {}
    for name, spec in (options or {}).items():
        spec = dict((key, value) for key, value in dict(spec or {}).items() if key != "default")
        if spec.get("options"):
            spec["options"] = without_defaults(spec["options"])
        out[name] = spec
    return out


def entry_point_options(content, entry_point="main"):
    """The options of ``entry_point`` in a parsed meta/argument_specs.yml, without defaults."""
    specs = content.get("argument_specs") if isinstance(content, dict) else None
    if not isinstance(specs, dict) or entry_point not in specs:
        raise RoleSpecError("role_argument_spec: no entry point %r under argument_specs (found: %s)"
                            % (entry_point, ", ".join(sorted(specs or {})) or "none"))
    return without_defaults((specs[entry_point] or {}).get("options"))
