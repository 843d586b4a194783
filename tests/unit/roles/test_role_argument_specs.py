# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role variable has one default, in defaults/main.yml; meta/argument_specs.yml documents the same one.

`ansible-doc -t role` shows the argument spec's `default`, Ansible uses defaults/main.yml: this keeps the two
from drifting apart, and every default documented.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")
ROLES = sorted(r for r in os.listdir(ROLES_DIR) if os.path.isfile(os.path.join(ROLES_DIR, r, "meta", "argument_specs.yml")))


def _load(role, *path):
    full = os.path.join(ROLES_DIR, role, *path)
    if not os.path.exists(full):
        return {}
    with open(full) as handle:
        return yaml.safe_load(handle) or {}


def _defaults_and_options(role):
    """The role's defaults/main.yml and the options of its `main` entry point."""
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"].get("options", {})
    return _load(role, "defaults", "main.yml"), options


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_documented_with_the_same_value(role):
    defaults, options = _defaults_and_options(role)
    assert sorted(set(defaults) - set(options)) == [], "defaults without documentation"
    for name, value in defaults.items():
        if "default" in options[name]:
            assert options[name]["default"] == value, name
        else:  # only a computed default may be left to the description
            assert "{{" in str(value), "%s: literal default %r not documented" % (name, value)


@pytest.mark.parametrize("role", ROLES)
def test_every_documented_option_has_a_default(role):
    defaults, options = _defaults_and_options(role)
    required = {name for name, spec in options.items() if spec.get("required")}
    assert sorted(set(options) - set(defaults) - required) == []


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    names = list(_load(role, "defaults", "main.yml")) + list(_load(role, "vars", "main.yml"))
    assert [n for n in names if not n.startswith(role + "_")] == []
