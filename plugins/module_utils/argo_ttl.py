# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo's TTL grammar (``archiveTTL``, ``connMaxLifetime``), shared by every module that takes one.

Argo (config/ttl.go) accepts a JSON *string* that is empty (0, "disabled"), or ends in ``d``, ``h``,
``m`` or ``s`` with the rest parsed by Go's ``strconv.Atoi`` (optional sign, decimal digits), or,
failing those suffixes, anything ``time.ParseDuration`` accepts -- which is only ``0``, ``+0`` and
``-0``, because every other Go duration unit also ends in s, m or h. Anything else (``1h30m``, ``1.5d``,
``500ms``, a bare YAML number) makes the controller exit. Argo parses negative values; whether one
is refused is the caller's choice (a negative archive TTL makes Argo's archive GC delete rows that
finished *before now + |TTL|*). Values whose nanoseconds overflow int64 are refused because Go's
multiplication silently wraps.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError

UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_TTL_RE = re.compile(r"([+-]?)([0-9]+)([dhms])")
_INT64_MAX = 2 ** 63 - 1
HINT = "use one whole number and one unit of d, h, m or s (for example 7d, 48h, 30m, 90s)"
# What the problem means for the controller: it exits on the value, or runs with something unwanted.
ARGO_REJECTS, REFUSED = "argo", "policy"


class TTLError(ArgoopsError, ValueError):
    """A TTL the controller would reject (``kind`` ARGO_REJECTS) or that is refused (REFUSED)."""

    def __init__(self, message, kind=ARGO_REJECTS):
        super(TTLError, self).__init__(message)
        self.kind = kind


def parse_ttl(value, option="ttl", allow_negative=False,
              negative_reason="Argo would treat it as a time in the future and its archive GC would delete "
                              "rows it should keep"):
    """Return the TTL in seconds (0 = disabled) or raise TTLError naming ``option``."""
    if not isinstance(value, str) or isinstance(value, bool):
        raise TTLError("%s: %r is not a TTL string; Argo rejects non-string TTLs (\"invalid TTL\"): quote it and %s"
                       % (option, value, HINT))
    if value in ("", "0", "+0", "-0"):
        return 0
    match = _TTL_RE.fullmatch(value)
    if not match:
        raise TTLError("%s: %r is not a TTL Argo accepts (it would make the workflow-controller exit): %s, "
                       "or an empty string to disable" % (option, value, HINT))
    number = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
    if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        raise TTLError("%s: %r is not a TTL Argo accepts: the number is out of Go's int range" % (option, value))
    if number < 0 and not allow_negative:
        raise TTLError("%s: %r is negative; %s: %s" % (option, value, negative_reason, HINT), REFUSED)
    seconds = number * UNIT_SECONDS[match.group(3)]
    if not -_INT64_MAX - 1 <= seconds * 10 ** 9 <= _INT64_MAX:
        raise TTLError("%s: %r is longer than Argo can represent (about 292 years; Go's arithmetic would wrap "
                       "it to another value)" % (option, value), REFUSED)
    return seconds


def format_ttl(seconds):
    """Shortest TTL string for ``seconds`` in Argo's grammar (0 -> '0s')."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % UNIT_SECONDS[unit] == 0:
            return "%d%s" % (seconds // UNIT_SECONDS[unit], unit)
    return "%ds" % seconds
