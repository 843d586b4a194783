# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: role_argument_spec
short_description: A role's argument spec, ready to validate its variables before the role runs
version_added: 0.2.0
author: argoops maintainers (@argoops)
description:
  - Takes the text (or the parsed content) of a role's C(meta/argument_specs.yml) and returns the options of one entry
    point with every C(default) removed, for M(ansible.builtin.validate_argument_spec) in a play's first task.
  - Before the role is included its defaults are not loaded, and many of them are templates of other roles' results
    (C({{ postgres_connection.port | default(0) }})); validated as written they fail their own type. Without them
    only the values the user gave are checked (types, choices, required options), which is what can be known before
    the role runs.
positional: entry_point
options:
  _input:
    description: The content of C(meta/argument_specs.yml), as text or already parsed.
    type: raw
    required: true
  entry_point:
    description: The entry point.
    type: str
    default: main
"""

EXAMPLES = r"""
- name: Validate the variables of role postgres before any role runs
  ansible.builtin.validate_argument_spec:
    argument_spec: "{{ lookup('ansible.builtin.file', playbook_dir ~ '/../roles/postgres/meta/argument_specs.yml')
                       | argoops.workflows.role_argument_spec }}"
"""

RETURN = r"""
_value:
  description: The entry point's options, without defaults (also in sub-options).
  type: dict
"""

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.argoops.workflows.plugins.module_utils.role_spec import RoleSpecError, entry_point_options


def role_argument_spec(content, entry_point="main"):
    try:
        if isinstance(content, (str, bytes)):
            content = yaml.safe_load(to_text(content))
        return entry_point_options(content, entry_point)
    except yaml.YAMLError as err:
        raise AnsibleFilterError("role_argument_spec: the argument spec is not YAML: %s" % err)
    except RoleSpecError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"role_argument_spec": role_argument_spec}
