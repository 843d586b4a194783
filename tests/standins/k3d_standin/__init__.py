"""Package behind tests/standins/k3d, a stand-in for the k3d v5.9 CLI (no Docker needed).

Everything here imitates k3d from the outside: command line (cobra/pflag rules, including the trap
that ``--wait false`` makes ``false`` a positional argument), log format (coloured unless
LOG_COLORS=false, INFO on stdout, WARN and worse on stderr, exit 1 on fatal), the JSON of
``cluster list -o json`` and ``version -o json``, and the v1alpha5 config schema check.
"""
