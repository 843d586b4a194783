# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of the text label selector (archive_selector, ``kubectl -l`` syntax): any input is a list of
requirements or a SelectorError naming the option; selectors the test writes from generated requirements
parse to those requirements, and the canonical text parses back to the same."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import example, given, strategies as st

from ansible_collections.argoops.workflows.plugins.module_utils.archive_selector import (
    Requirement, SelectorError, format_selector, parse_selector)
from ansible_collections.argoops.workflows.tests.unit.plugins.module_utils.property_strategies import (
    ANYTHING, LABEL_KEYS, LABEL_VALUES, PROPERTIES)

SELECTOR_LIKE = st.text(alphabet="ab/.-_=!(), \tinot<>\n", max_size=24)
BLANK = st.sampled_from(["", " ", "  "])


@PROPERTIES
@given(st.one_of(SELECTOR_LIKE, st.text(max_size=24), ANYTHING))
@example(5)  # was AttributeError: 'int' object has no attribute 'strip'
@example(["a=b"])
@example(b"a=b")
@example(")a(,b")
@example("a in (,)")  # was accepted, but its canonical text "a in ()" was then refused
def test_any_input_is_requirements_or_a_selector_error_naming_the_option(value):
    try:
        requirements = parse_selector(value, "label_selector")
    except SelectorError as err:
        assert str(err).startswith("label_selector: ")
        return
    assert value is None or isinstance(value, str)
    for requirement in requirements:
        assert isinstance(requirement, Requirement)
    # what was accepted has a canonical text that reads back the same
    assert parse_selector(format_selector(requirements)) == requirements


@st.composite
def requirement(draw):
    """(text the test writes, Requirement it must parse to)."""
    key = draw(LABEL_KEYS)
    operator = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!"]))
    gap = draw(BLANK)
    if operator == "exists":
        return key, Requirement(key, "exists", ())
    if operator == "!":
        return "!" + gap + key, Requirement(key, "!", ())
    if operator in ("in", "notin"):
        values = draw(st.lists(LABEL_VALUES, min_size=1, max_size=4))
        inside = (draw(BLANK) + "," + draw(BLANK)).join(values)
        # "()" is refused (no value); Kubernetes spells the set of just the empty value "(,)"
        text = "%s %s%s(%s)" % (key, operator, gap, inside if inside.strip() else ",")
        return text, Requirement(key, operator, tuple(sorted(set(values))))
    value = draw(LABEL_VALUES)
    return "%s%s%s%s%s" % (key, gap, operator, draw(BLANK), value), Requirement(
        key, "=" if operator == "==" else operator, (value,))


@PROPERTIES
@given(st.lists(requirement(), max_size=5), BLANK)
@example([("a notin (,)", Requirement("a", "notin", ("",)))], "")
def test_written_selector_parses_to_its_requirements_and_round_trips(parts, gap):
    text = (gap + "," + gap).join(written for written, dummy in parts)
    expected = [parsed for dummy, parsed in parts]
    assert parse_selector(text) == expected
    canonical = format_selector(expected)
    assert parse_selector(canonical) == expected
    assert format_selector(parse_selector(canonical)) == canonical
