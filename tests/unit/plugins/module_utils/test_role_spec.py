"""role_spec (the filter role_argument_spec): a role's options without defaults, so they validate before the role runs."""
import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# The logic, not the filter wrapper: importing controller code (ansible.errors) here would change how the
# module unit tests collect warnings.
from ansible_collections.argoops.workflows.plugins.module_utils.role_spec import RoleSpecError
from ansible_collections.argoops.workflows.plugins.module_utils.role_spec import entry_point_options as role_argument_spec

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles")

SPEC = """
argument_specs:
  main:
    options:
      port: {type: int, default: "{{ other_role_result.port | default(0) }}"}
      mode: {type: str, choices: [a, b], default: a}
      pool:
        type: dict
        options:
          size: {type: int, default: "{{ size }}"}
  other:
    options:
      name: {type: str, required: true}
"""


def test_defaults_are_removed_everywhere():
    options = role_argument_spec(yaml.safe_load(SPEC))
    assert options == {"port": {"type": "int"}, "mode": {"type": "str", "choices": ["a", "b"]},
                       "pool": {"type": "dict", "options": {"size": {"type": "int"}}}}


def test_template_defaults_no_longer_fail_and_bad_values_still_do():
    options = role_argument_spec(yaml.safe_load(SPEC))
    assert ArgumentSpecValidator(options).validate({}, validate_role_argument_spec=True).error_messages == []
    errors = ArgumentSpecValidator(options).validate({"mode": "c"}, validate_role_argument_spec=True).error_messages
    assert errors == ["value of mode must be one of: a, b, got: c"]


def test_other_entry_points_and_required_options():
    options = role_argument_spec(yaml.safe_load(SPEC), "other")
    assert ArgumentSpecValidator(options).validate({}).error_messages == ["missing required arguments: name"]


@pytest.mark.parametrize("content, message", [({"argument_specs": {"main": {}}}, "no entry point 'x'"),
                                              (["a list"], "found: none"), (None, "found: none")])
def test_bad_input_is_explained(content, message):
    with pytest.raises(RoleSpecError, match=message):
        role_argument_spec(content, "x")


@pytest.mark.parametrize("role", sorted(os.listdir(ROLES)))
def test_every_role_of_the_collection_validates_empty_variables(role):
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
        options = role_argument_spec(yaml.safe_load(handle))
    assert ArgumentSpecValidator(options).validate({}, validate_role_argument_spec=True).error_messages == []
