# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of ``archive_label_selector`` (label_selector): any option value gives problems naming the
option, never an exception; a generated valid selector becomes exactly the matchLabels / matchExpressions the
test expects, passes Kubernetes' rules, and reads back through to_options unchanged."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import example, given, strategies as st

from ansible_collections.argoops.workflows.plugins.module_utils import argo_config, label_selector
from ansible_collections.argoops.workflows.tests.support import argo_model
from ansible_collections.argoops.workflows.tests.unit.plugins.module_utils.property_strategies import (
    ANYTHING, FEWER_EXAMPLES, LABEL_KEYS, LABEL_VALUES, PROPERTIES, selector_options)

NAME = "archive_label_selector"
# Selector-shaped mappings with anything in the places where strings belong.
_EXPRESSION_SHAPED = st.fixed_dictionaries({}, optional={
    "key": st.one_of(LABEL_KEYS, ANYTHING),
    "operator": st.one_of(st.sampled_from(label_selector.OPERATORS), ANYTHING),
    "values": st.one_of(st.lists(st.one_of(LABEL_VALUES, ANYTHING), max_size=3), ANYTHING)})
SELECTOR_SHAPED = st.fixed_dictionaries({}, optional={
    "match_labels": st.one_of(st.dictionaries(st.one_of(LABEL_KEYS, ANYTHING.filter(lambda v: v.__hash__)),
                                              st.one_of(LABEL_VALUES, ANYTHING), max_size=3), ANYTHING),
    "match_expressions": st.one_of(st.lists(st.one_of(_EXPRESSION_SHAPED, ANYTHING), max_size=3), ANYTHING),
    "matchLabels": ANYTHING})


@PROPERTIES
@given(st.one_of(SELECTOR_SHAPED, ANYTHING, st.text(max_size=20)))
@example({"match_labels": {"app": ["a"]}})  # was TypeError in check
@example({"match_labels": {"app": None}})  # was TypeError in check
@example({"match_expressions": [{"key": ["x"], "operator": "In", "values": ["a"]}]})  # was AttributeError
@example({"match_expressions": [{"key": "x", "operator": "In", "values": [None]}]})  # was TypeError
@example({"match_expressions": [{1: "x", "y": 2}]})  # was TypeError sorting the unknown keys
@example("app=etl")
def test_any_value_gives_problems_naming_the_option_never_an_exception(value):
    problems = []
    selector = label_selector.from_options(value, NAME, problems)
    if selector is None:
        assert problems and problems[0].startswith(NAME + " must be a mapping with match_labels")
        return
    problems += label_selector.check(selector, NAME, True)
    assert all(p.startswith(NAME) for p in problems), problems
    # whatever passes on is in Argo's shape with strings only
    assert set(selector) <= {"matchLabels", "matchExpressions"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in selector.get("matchLabels", {}).items())
    for expression in selector.get("matchExpressions", []):
        assert isinstance(expression["key"], str) and isinstance(expression["operator"], str)
        assert all(isinstance(v, str) for v in expression.get("values", []))


@FEWER_EXAMPLES
@given(st.one_of(SELECTOR_SHAPED, ANYTHING))
def test_whole_options_with_any_selector_never_raise(value):
    desired, problems = argo_config.judge_options({"archive": True, "archive_label_selector": value,
                                                   "postgresql": {"host": "h", "table_name": "argo_workflows"}})
    assert all(isinstance(p, str) for p in problems)


@PROPERTIES
@given(selector_options())
def test_valid_selector_becomes_the_expected_argo_selector_and_reads_back(generated):
    options, labels, expressions = generated
    problems = []
    selector = label_selector.from_options(options, NAME, problems)
    assert problems == [] and label_selector.check(selector, NAME, True) == []
    assert selector.get("matchLabels", {}) == labels
    assert selector.get("matchExpressions", []) == expressions
    # to_options writes the options that make the same selector again
    again = argo_model.to_options({"archiveLabelSelector": selector})[NAME]
    assert label_selector.from_options(again, NAME, problems) == selector and problems == []
