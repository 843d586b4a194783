# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo's TTL grammar (``archiveTTL``, ``connMaxLifetime``), shared by every module that takes one.

Argo (config/ttl.go) accepts a JSON *string* that is empty (0, "disabled"), or ends in ``d``, ``h``,
``m`` or ``s`` with the rest parsed by Go's ``strconv.Atoi`` (optional sign, decimal digits), or,
failing those suffixes, anything ``time.ParseDuration`` accepts -- which in practice is only ``"0"``
because every other Go duration unit also ends in s, m or h. Anything else (``1h30m``, ``1.5d``,
``500ms``, a bare YAML number) makes the controller exit. We reject negative values too: Argo
parses them and its archive GC would then delete rows that finished *before now + |TTL|*. Values
whose nanoseconds overflow int64 are rejected because Go's multiplication silently wraps.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_TTL_RE = re.compile(r"^\+?([0-9]+)([dhms])$")
_MAX_SECONDS = (2 ** 63 - 1) // 10 ** 9
HINT = "use one whole number and one unit of d, h, m or s (for example 7d, 48h, 30m, 90s)"


class TTLError(ValueError):
    """A TTL the controller would reject; the message names the option."""


def parse_ttl(value, option="ttl"):
    """Return the TTL in seconds (0 = disabled) or raise TTLError naming ``option``."""
    if not isinstance(value, str) or isinstance(value, bool):
        raise TTLError("%s: %r is not a TTL string; Argo rejects non-string TTLs (\"invalid TTL\"): quote it and %s"
                       % (option, value, HINT))
    if value in ("", "0"):
        return 0
    if value.lstrip().startswith("-"):
        raise TTLError("%s: %r is negative; Argo would treat it as a time in the future and its archive "
                       "GC would delete rows it should keep: %s" % (option, value, HINT))
    match = _TTL_RE.match(value)
    if not match:
        raise TTLError("%s: %r is not a TTL Argo accepts (it would make the workflow-controller exit): %s, "
                       "or an empty string to disable" % (option, value, HINT))
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if seconds > _MAX_SECONDS:
        raise TTLError("%s: %r is longer than Argo can represent (about 292 years)" % (option, value))
    return seconds


def format_ttl(seconds):
    """Shortest TTL string for ``seconds`` in Argo's grammar (0 -> '0s')."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % UNIT_SECONDS[unit] == 0:
            return "%d%s" % (seconds // UNIT_SECONDS[unit], unit)
    return "%ds" % seconds
