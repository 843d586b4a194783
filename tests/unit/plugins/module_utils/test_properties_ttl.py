# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of Argo's TTL grammar (argo_ttl): any input is a number of seconds or a TTLError naming the
option, and generated TTLs read back as the seconds the test computes from their parts."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import example, given, strategies as st

from ansible_collections.argoops.workflows.plugins.module_utils.argo_ttl import TTLError, format_ttl, parse_ttl
from ansible_collections.argoops.workflows.tests.unit.plugins.module_utils.property_strategies import (
    ANYTHING, PROPERTIES)

# The facts, written out here rather than taken from the module: Go's units and int64 nanoseconds.
SECONDS_PER = {"d": 24 * 60 * 60, "h": 60 * 60, "m": 60, "s": 1}
MAX_SECONDS = (2 ** 63 - 1) // 10 ** 9  # time.Duration is int64 nanoseconds: about 292 years
# Text near the grammar: digits, signs, the units and their look-alikes, blanks.
TTL_LIKE = st.text(alphabet="0123456789+-dhmsDHMSwuµn. \t\n_", max_size=12)


@PROPERTIES
@given(st.one_of(TTL_LIKE, st.text(max_size=12), ANYTHING), st.booleans())
@example("7d\n", False)
@example("\uff17d", False)  # a full-width digit: Go's Atoi takes ASCII digits only
def test_any_input_is_seconds_or_a_ttl_error_naming_the_option(value, allow_negative):
    try:
        seconds = parse_ttl(value, "archive_ttl", allow_negative=allow_negative)
    except TTLError as err:
        assert str(err).startswith("archive_ttl: ")
        assert err.kind in ("argo", "policy")
        return
    assert isinstance(value, str) and isinstance(seconds, int) and not isinstance(seconds, bool)
    assert abs(seconds) <= MAX_SECONDS + 1
    assert allow_negative or seconds >= 0


@st.composite
def ttl_parts(draw):
    sign = draw(st.sampled_from(["", "+", "-"]))
    number = draw(st.one_of(st.integers(0, 400), st.integers(0, 10 ** 20)))
    zeros = draw(st.integers(0, 3))
    unit = draw(st.sampled_from(sorted(SECONDS_PER)))
    return sign, number, zeros, unit


@PROPERTIES
@given(ttl_parts(), st.booleans())
@example(("", 106751, 0, "d"), False)  # the last whole day Go can hold
@example(("", 106752, 0, "d"), False)
@example(("-", 2 ** 63, 0, "s"), True)  # Atoi's range, before the nanoseconds overflow
def test_generated_ttl_reads_as_the_seconds_of_its_parts(parts, allow_negative):
    sign, number, zeros, unit = parts
    text = "%s%s%d%s" % (sign, "0" * zeros, number, unit)
    expected = (-number if sign == "-" else number) * SECONDS_PER[unit]
    if abs(expected) > MAX_SECONDS or (expected < 0 and not allow_negative):
        try:
            parse_ttl(text, "ttl", allow_negative=allow_negative)
        except TTLError as err:
            assert err.kind == ("argo" if number > 2 ** 63 - (sign != "-") else "policy"), str(err)
        else:
            raise AssertionError("%r was accepted" % text)
        return
    assert parse_ttl(text, "ttl", allow_negative=allow_negative) == expected


@PROPERTIES
@given(st.one_of(st.integers(0, MAX_SECONDS), st.integers(0, 1000).map(lambda days: days * 86400),
                 st.integers(0, 10 ** 6).map(lambda minutes: minutes * 60)))
def test_format_then_parse_round_trips_and_format_is_shortest(seconds):
    text = format_ttl(seconds)
    assert parse_ttl(text, "ttl") == seconds
    unit, number = text[-1], int(text[:-1])
    assert number * SECONDS_PER[unit] == seconds
    # no larger unit holds it as a whole number (0 is written 0s)
    larger = [u for u in ("d", "h", "m", "s") if SECONDS_PER[u] > SECONDS_PER[unit]]
    assert seconds == 0 and unit == "s" or all(seconds % SECONDS_PER[u] for u in larger)


@PROPERTIES
@given(ttl_parts())
def test_parse_format_parse_is_stable(parts):
    sign, number, zeros, unit = parts
    text = "%s%s%d%s" % (sign, "0" * zeros, number, unit)
    try:
        seconds = parse_ttl(text, "ttl", allow_negative=True)
    except TTLError:
        return
    if seconds >= 0:
        assert parse_ttl(format_ttl(seconds), "ttl") == seconds
