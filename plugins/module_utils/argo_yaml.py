# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The YAML dialect Argo reads its ConfigMap with, in Python.

Argo v4.0.5 calls sigs.k8s.io/yaml v1.4.0 ``UnmarshalStrict``: go-yaml v2 (YAML 1.1, strict) reads the text
into plain values, which are converted to JSON and decoded by Go's encoding/json. This module reproduces the
first two steps exactly -- how a plain scalar resolves (``resolve_plain``: ``1e3`` and ``09`` are floats,
``0o17`` an int, ``yes``/``y``/``on`` booleans), duplicate keys and merges (``load``), how keys and coerced
values become strings (``go_string``, with Go's float32 formatting) -- and writes text that reads back as
exactly the values given (``dump``). Field matching (``fold_key``) follows encoding/json. Plain Python plus
PyYAML (its scanner and parser; the constructor here is Go's), no Ansible imports.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import math
import re
import struct
from fractions import Fraction

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the module (AnsibleK8SModule checks PyYAML)
    yaml = None

HAS_YAML = yaml is not None

INT64_MIN, INT64_MAX, UINT64_MAX = -2 ** 63, 2 ** 63 - 1, 2 ** 64 - 1


class LayoutError(ArgoopsError, ValueError):
    """Text (or a ConfigMap) that cannot be read the way Argo reads it."""


# ---------------------------------------------------------------- plain scalars (go-yaml v2 resolve.go)

_RESOLVE_MAP = {}
for _value, _words in ((True, "y Y yes Yes YES true True TRUE on On ON"),
                       (False, "n N no No NO false False FALSE off Off OFF"),
                       (float("nan"), ".nan .NaN .NAN"), (float("inf"), ".inf .Inf .INF +.inf +.Inf +.INF"),
                       (float("-inf"), "-.inf -.Inf -.INF")):
    for _word in _words.split():
        _RESOLVE_MAP[_word] = _value
for _word in ("", "~", "null", "Null", "NULL"):
    _RESOLVE_MAP[_word] = None

_HINTS = set("+-0123456789yYnNtTfFoO~.")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")  # what strconv.ParseFloat accepts after a leading '.'
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def _go_parse_int(text, signed=True):
    """strconv.ParseInt(text, 0, 64) (or ParseUint when not ``signed``); None on any error.

    Base prefixes 0x/0o/0b (either case) and a bare leading 0 for octal; underscores were removed before.
    """
    sign, body = 1, text
    if signed and body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base = 10
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, body = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif body[:1] == "0" and len(body) > 1:
        base, body = 8, body[1:]
    if not body or any(ch not in _DIGITS[base] for ch in body):
        return None
    value = sign * int(body, base)
    low, high = (INT64_MIN, INT64_MAX) if signed else (0, UINT64_MAX)
    return value if low <= value <= high else None


def _go_parse_float(text):
    """strconv.ParseFloat(text, 64) for the decimal forms go-yaml lets through; None on error or overflow."""
    value = float(text)
    return None if math.isinf(value) else value


def resolve_plain(text):
    """The value go-yaml v2 gives a plain (unquoted, untagged) scalar: None, bool, int, float or str.

    Timestamps stay strings (go-yaml keeps them as text when decoding into interface{}).
    """
    if text in _RESOLVE_MAP:
        return _RESOLVE_MAP[text]
    hint = text[:1]
    if hint not in _HINTS:
        return text
    if hint == ".":
        if _DOT_FLOAT.fullmatch(text):
            value = _go_parse_float(text)
            if value is not None:
                return value
        return text
    if hint in "yYnNtTfFoO~":
        return text
    plain = text.replace("_", "")
    for signed in (True, False):
        value = _go_parse_int(plain, signed)
        if value is not None:
            return value
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        value = _go_parse_float(plain)
        if value is not None:
            return value
    return text


# ---------------------------------------------------------------- Go's number formatting

_FLOAT32_OVERFLOW = (2 - 2 ** -24) * 2 ** 127  # from here float32(x) rounds to infinity


def _float32(value):
    if abs(value) >= _FLOAT32_OVERFLOW:
        return math.copysign(float("inf"), value)
    return struct.unpack(">f", struct.pack(">f", value))[0]


def _decimal_exponent(exact):
    """k with 10**k <= exact < 10**(k + 1), for a positive Fraction."""
    k = len(str(exact.numerator)) - len(str(exact.denominator))
    while Fraction(10) ** k > exact:
        k -= 1
    while Fraction(10) ** (k + 1) <= exact:
        k += 1
    return k


def _shortest_float32_digits(value):
    """(digits, decimal point) of the shortest decimal that reads back as float32 ``value`` (> 0), chosen as
    Go's strconv chooses it (ftoa.go roundShortest): at the first length where rounding down or up stays
    inside the rounding interval, the one that does, or the nearer when both do."""
    bits = struct.unpack(">I", struct.pack(">f", value))[0]
    frac, biased = bits & 0x7FFFFF, bits >> 23
    exact = Fraction(value)
    if biased == 0:  # subnormal: spacing 2**-149 everywhere
        below = above = Fraction(1, 2 ** 149)
    else:
        above = Fraction(2) ** (biased - 127 - 23)
        below = above / 2 if frac == 0 and biased > 1 else above
    low, high = exact - below / 2, exact + above / 2
    inclusive = frac % 2 == 0  # round-half-even reads the boundaries back to an even mantissa

    def inside(candidate):
        return low <= candidate <= high if inclusive else low < candidate < high

    k = _decimal_exponent(exact)
    for ndigits in range(1, 10):
        unit = Fraction(10) ** (k - ndigits + 1)
        down = (exact / unit).numerator // (exact / unit).denominator
        options = [m for m in (down, down + 1) if inside(m * unit)]
        if not options:
            continue
        if len(options) == 2:
            gap_down, gap_up = exact - down * unit, (down + 1) * unit - exact
            options = [down] if gap_down < gap_up or gap_down == gap_up and down % 2 == 0 else [down + 1]
        text = str(options[0])
        return text.rstrip("0") or "0", len(text) + k - ndigits + 1
    raise AssertionError("no float32 digits for %r" % value)  # pragma: no cover - 9 digits always suffice


def go_float32_string(value):
    """strconv.FormatFloat(value, 'g', -1, 32): how sigs.k8s.io/yaml turns a YAML float into a string."""
    if math.isnan(value):
        return "NaN"
    value = _float32(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits, point = _shortest_float32_digits(abs(value))
    exp = point - 1
    if exp < -4 or exp >= 6:  # shortest 'g' switches to %e where C's default precision (6) would
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, mantissa, "-" if exp < 0 else "+", abs(exp))
    if point <= 0:
        return sign + "0." + "0" * -point + digits
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return sign + digits[:point] + "." + digits[point:]


def go_string(value):
    """The string sigs.k8s.io/yaml makes of a YAML number or boolean decoded into a Go string field.

    Strings and None (null: the field keeps its zero value) pass through unchanged.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float32_string(value)
    return value


def _key_string(key):
    """sigs.k8s.io/yaml's conversion of a YAML mapping key to a JSON object key."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int) and INT64_MIN <= key <= INT64_MAX:
        return str(key)
    if isinstance(key, float):
        text = go_float32_string(key)
        return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
    raise LayoutError("Argo cannot use %s as a mapping key (\"unsupported map key\")"
                      % ("null" if key is None else "the number %d" % key))


# ---------------------------------------------------------------- reading (go-yaml v2 decode.go, strict)

_PLAIN_TAG = "tag:argoops.workflows,2024:plain"
_YAML_TAG = "tag:yaml.org,2002:"

if HAS_YAML:
    class _Loader(yaml.SafeLoader):
        """PyYAML's scanner, parser and composer; plain scalars are left for ``resolve_plain``."""

        yaml_implicit_resolvers = {}

        def resolve(self, kind, value, implicit):
            if kind is yaml.ScalarNode and implicit[0]:
                return _PLAIN_TAG
            return yaml.SafeLoader.resolve(self, kind, value, implicit)

        # Tabs, as libyaml (and so go-yaml) allows them and PyYAML does not: as separation in flow context
        # and after a token on the same line (scanner.c scan_to_next_token), and as blanks inside a
        # plain scalar, except before its indentation on a continuation line (scan_plain_scalar).
        def scan_to_next_token(self):
            if self.index == 0 and self.peek() == u"\ufeff":
                self.forward()
            while True:
                while self.peek() == " " or (self.peek() == "\t" and (self.flow_level or not self.allow_simple_key)):
                    self.forward()
                if self.peek() == "#":
                    while self.peek() not in u"\0\r\n\x85\u2028\u2029":
                        self.forward()
                if not self.scan_line_break():
                    return
                if not self.flow_level:
                    self.allow_simple_key = True

        def scan_plain_spaces(self, indent, start_mark):
            chunks, length = [], 0
            while self.peek(length) in " \t":
                length += 1
            whitespaces = self.prefix(length)
            self.forward(length)
            if self.peek() not in u"\r\n\x85\u2028\u2029":
                return [whitespaces] if whitespaces else []
            line_break = self.scan_line_break()
            self.allow_simple_key = True
            if self._document_indicator():
                return None
            breaks = []
            while self.peek() in u" \t\r\n\x85\u2028\u2029":
                if self.peek() == "\t" and self.column < indent:
                    raise yaml.scanner.ScannerError("while scanning a plain scalar", start_mark,
                                                    "found a tab character that violates indentation",
                                                    self.get_mark())
                if self.peek() in " \t":
                    self.forward()
                else:
                    breaks.append(self.scan_line_break())
                    if self._document_indicator():
                        return None
            if line_break != "\n":
                chunks.append(line_break)
            elif not breaks:
                chunks.append(" ")
            chunks.extend(breaks)
            return chunks

        def _document_indicator(self):
            return self.prefix(3) in ("---", "...") and self.peek(3) in u"\0 \t\r\n\x85\u2028\u2029"

        def compose_node(self, parent, index):
            event = self.peek_event()
            if not isinstance(event, yaml.AliasEvent) and getattr(event, "anchor", None) is not None:
                self.anchors.pop(event.anchor, None)  # go-yaml lets a later anchor of the same name win
            return yaml.SafeLoader.compose_node(self, parent, index)


def _typed_key(value):
    """go-yaml compares map keys as Go values: 1, 1.0, '1' and true are four different keys."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan", object())  # NaN never equals itself, so never a duplicate
    return (type(value).__name__, value)


class _Builder:
    """go-yaml v2's decoding into interface{} (strict), then sigs.k8s.io/yaml's JSON-able conversion."""

    def __init__(self, where):
        self.where = where
        self.depth = 0

    def fail(self, node, message):
        line = node.start_mark.line + 1 if node is not None and node.start_mark else "?"
        raise LayoutError("%s is not valid YAML for Argo: line %s: %s" % (self.where, line, message))

    def value(self, node):
        self.depth += 1
        if self.depth > 200:
            self.fail(node, "nesting too deep (or a recursive alias)")
        try:
            if isinstance(node, yaml.ScalarNode):
                return self.scalar(node)
            if isinstance(node, yaml.SequenceNode):
                return [self.value(child) for child in node.value]
            out = {}
            self.mapping(node, out, {})
            return self.keys_to_strings(node, out)
        finally:
            self.depth -= 1

    def scalar(self, node):
        tag, text = node.tag, node.value
        if tag == _PLAIN_TAG:
            return resolve_plain(text)
        if tag == _YAML_TAG + "str":
            return text
        if tag == _YAML_TAG + "binary":
            try:
                return base64.b64decode(text.encode("ascii"), validate=False).decode("utf-8")
            except (ValueError, UnicodeError):
                self.fail(node, "!!binary that is not UTF-8 text is not supported here")
        wanted = {"bool": bool, "int": int, "float": float, "null": type(None), "timestamp": str}
        short = tag[len(_YAML_TAG):] if tag.startswith(_YAML_TAG) else None
        if short not in wanted:
            return text  # a custom tag: go-yaml keeps the text
        value = resolve_plain(text)
        if short == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, wanted[short]) or (short == "int" and isinstance(value, bool)):
            self.fail(node, "cannot decode %r as a !!%s" % (text, short))
        return value

    def mapping(self, node, out, seen):
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "map merge requires map or sequence of maps as the value")
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<" and key_node.tag in (
                    _PLAIN_TAG, _YAML_TAG + "merge"):
                if isinstance(value_node, yaml.SequenceNode):
                    for item in reversed(value_node.value):  # earlier maps take precedence
                        self.mapping(item, out, seen)
                else:
                    self.mapping(value_node, out, seen)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, "invalid map key (a mapping or a list)")
            key = self.scalar(key_node)
            identity = _typed_key(key)
            if identity in seen:
                self.fail(key_node, "key %r already set in map (Argo rejects duplicate keys)" % (key,))
            value = self.value(value_node)
            seen[identity] = True
            out[identity] = (key, value)

    def keys_to_strings(self, node, out):
        result = {}
        for key, value in out.values():
            try:
                text = _key_string(key)
            except LayoutError as err:
                self.fail(node, str(err))
            if text in result:
                self.fail(node, "keys %r and %r are the same key for Argo, and which value it uses is random"
                          % (text, key))
            result[text] = value
        return result


def load(text, where):
    """The value Argo's YAML reader makes of ``text`` (its first document); raise LayoutError naming ``where``.

    Mappings have string keys (as after sigs.k8s.io/yaml's JSON conversion); scalars are None, bool, int,
    float or str as go-yaml resolved them (a string field's coercion is ``go_string``).
    """
    return load_first(text, where)[0]


def load_first(text, where):
    """(``load``'s value, whether anything follows the first document): go-yaml reads only the first
    document of the text and never looks at the rest."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_node() if loader.check_node() else None
            try:
                more = loader.check_node()
            except yaml.YAMLError:
                more = True  # something follows, and Argo never reads it
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise LayoutError("%s is not valid YAML: %s" % (where, str(err).replace("\n", " ")))
    except RecursionError:
        # PyYAML composes nested nodes recursively: ~1000 levels exhaust Python's stack before _Builder's limit
        raise LayoutError("%s is not valid YAML for Argo: nesting too deep (more than 200 levels)" % where)
    return (None if node is None else _Builder(where).value(node)), more


# ---------------------------------------------------------------- writing

# Characters PyYAML writes as line breaks in a quoted scalar (read back as other characters): only
# a double-quoted scalar, with escapes, carries them exactly.
_BREAKS_OR_UNPRINTABLE = re.compile(u"[\r\x85\u2028\u2029\ufeff]|[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

if HAS_YAML:
    class _Dumper(yaml.SafeDumper):
        """Stable block-style output; quotes every string go-yaml would not read back as that string."""

        double_quote_all = False

        def ignore_aliases(self, data):
            return True  # the same object twice is written twice, never as an anchor and alias

        def represent_str(self, data):
            if self.double_quote_all or _BREAKS_OR_UNPRINTABLE.search(data):
                style = '"'
            else:
                style = None if isinstance(resolve_plain(data), str) else "'"
            return self.represent_scalar(_YAML_TAG + "str", data, style=style)

    class _QuotingDumper(_Dumper):
        """The fallback: every string double-quoted, escapes for everything unusual."""

        double_quote_all = True

    _Dumper.add_representer(str, _Dumper.represent_str)
    _QuotingDumper.add_representer(str, _Dumper.represent_str)


def same(one, other):
    """Equal values of equal types (Python's == says True == 1 == 1.0)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, dict):
        return set(one) == set(other) and all(same(one[k], other[k]) for k in one)
    if isinstance(one, list):
        return len(one) == len(other) and all(same(a, b) for a, b in zip(one, other))
    if isinstance(one, float) and math.isnan(one):
        return math.isnan(other)
    return one == other


def dump(value):
    """YAML text for ``value`` (mappings keep their insertion order) that Argo reads back as exactly ``value``."""
    for dumper in (_Dumper, _QuotingDumper):
        text = yaml.dump(value, Dumper=dumper, default_flow_style=False, sort_keys=False, allow_unicode=True,
                         width=4096)
        try:
            if same(load(text, "the rendered YAML"), value):  # never write what reads back differently
                return text
        except LayoutError:
            pass
    raise LayoutError("internal error: %r cannot be written so that Argo reads it back unchanged" % (value,))


# Characters json.Marshal leaves raw and go-yaml's reader refuses: Argo's updateConfig round-trips its
# config through JSON and YAML (yaml.Marshal) and exits on them ("control characters are not allowed").
_NOT_REENCODABLE = re.compile(u"[\x7f-\x84\x86-\x9f\ufffe\uffff]")


def reencoding_problem(value):
    """The first string (key or value) in ``value`` that Argo's own re-encoding of its config refuses."""
    if isinstance(value, str):
        return value if _NOT_REENCODABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = reencoding_problem(key) or reencoding_problem(item)
            if found is not None:
                return found
    if isinstance(value, list):
        for item in value:
            found = reencoding_problem(item)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------- field names (encoding/json)

_FOLD_SPECIAL = {u"\u017f": "s", u"\u212a": "k"}  # long s and Kelvin sign fold onto ASCII letters


def fold_key(key):
    """The form under which encoding/json matches a JSON key to a field name (case-insensitive)."""
    return "".join(ch.lower() if ch < "\x80" else _FOLD_SPECIAL.get(ch, ch) for ch in key)


def fold_matches(keys, name):
    """Keys Go's encoding/json decodes into the field ``name``, in the order it decodes them.

    JSON objects come from a Go map, so their keys are sorted (bytewise, i.e. by code point); a later
    match overwrites (or, for an object, merges into) an earlier one.
    """
    folded = fold_key(name)
    return sorted(key for key in keys if isinstance(key, str) and fold_key(key) == folded)
