# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared hypothesis settings and input strategies for the test_properties_*.py files."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import HealthCheck, settings, strategies as st

# Reproducible CI: derandomize=True draws the same examples on every run and every machine, and
# database=None keeps no example store between runs (a failure found once is kept as an @example or
# a plain unit test instead). deadline=None: the shared 2-core CI machines make per-example timing
# noisy, and a slow example is not a bug here. max_examples is bounded (150, 75 for the costly properties) so
# that these files add less than 15 s to the unit tier (measured on a shared 2-core machine: about 11 s).
PROPERTIES = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])
# For properties whose examples cost several ms (PyYAML's pure-Python parser, whole option validation).
FEWER_EXAMPLES = settings(PROPERTIES, max_examples=75)

# Anything YAML (or a careless Ansible task) can hand a parser: scalars of every type, nested lists and
# mappings with keys of mixed types.
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    st.binary(max_size=8))
ANYTHING = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers(), st.booleans()), children, max_size=4)),
    max_leaves=8)

# Kubernetes label syntax (apimachinery validation), spelled independently of label_selector.py.
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# (text strategies are much faster for hypothesis than from_regex)
LABEL_NAMES = st.one_of(
    st.text(_ALNUM, min_size=1, max_size=1),
    st.tuples(st.text(_ALNUM, min_size=1, max_size=1), st.text(_ALNUM + "-_.", max_size=12),
              st.text(_ALNUM, min_size=1, max_size=1)).map("".join))
_DNS_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
DNS_LABELS = st.one_of(
    st.text(_DNS_ALNUM, min_size=1, max_size=1),
    st.tuples(st.text(_DNS_ALNUM, min_size=1, max_size=1), st.text(_DNS_ALNUM + "-", max_size=6),
              st.text(_DNS_ALNUM, min_size=1, max_size=1)).map("".join))
LABEL_KEYS = st.one_of(
    LABEL_NAMES,
    st.tuples(st.lists(DNS_LABELS, min_size=1, max_size=3).map(".".join), LABEL_NAMES).map("/".join),
    st.sampled_from(["workflows.argoproj.io/archive", "app.kubernetes.io/name", "team"]))
LABEL_VALUES = st.one_of(st.just(""), LABEL_NAMES)


@st.composite
def selector_options(draw):
    """(archive_label_selector options, the matchLabels and matchExpressions Argo must get), all valid."""
    labels = draw(st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=3))
    expressions = []
    for dummy in range(draw(st.integers(0, 3))):
        operator = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        values = draw(st.lists(LABEL_VALUES, min_size=1, max_size=3)) if operator in ("In", "NotIn") else []
        expressions.append({"key": draw(LABEL_KEYS), "operator": operator, "values": values})
    options = {}
    if labels or draw(st.booleans()):
        options["match_labels"] = labels
    if expressions or draw(st.booleans()):
        options["match_expressions"] = [dict(e) if e["values"] or draw(st.booleans()) else
                                        {"key": e["key"], "operator": e["operator"]} for e in expressions]
    argo = [dict({"key": e["key"], "operator": e["operator"]}, **({"values": e["values"]} if e["values"] else {}))
            for e in expressions]
    return options, labels, argo
