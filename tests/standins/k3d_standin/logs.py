"""k3d's logrus output: INFO/DEBUG to stdout, WARN/ERROR/FATAL to stderr, fatal exits 1.

k3d forces colours (ForceColors) unless LOG_COLORS parses as a Go bool; then logrus' plain text
format applies: time="..." level=info msg="...".
"""
import datetime
import json
import os
import sys
import time

_START = time.time()
_COLOURS = {"debug": 37, "info": 36, "warning": 33, "error": 31, "fatal": 31}
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_BARE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


class Fatal(Exception):
    """Raised to end a command the way l.Log().Fatal does (message logged, exit 1)."""


def coloured():
    return os.environ.get("LOG_COLORS") not in _GO_FALSE


def _quote(msg):
    if all(ch in _BARE for ch in msg):  # logrus quotes only when needed (an empty msg stays bare)
        return msg
    return json.dumps(msg, ensure_ascii=False)


def log(level, msg):
    stream = sys.stdout if level in ("info", "debug") else sys.stderr
    if coloured():
        label = "WARN" if level == "warning" else level.upper()[:4]
        line = "\x1b[%dm%s\x1b[0m[%04d] %s" % (_COLOURS[level], label, int(time.time() - _START), msg)
    else:
        now = datetime.datetime.now(datetime.timezone.utc).astimezone().replace(microsecond=0).isoformat()
        now = now[:-6] + "Z" if now.endswith("+00:00") else now
        line = 'time="%s" level=%s msg=%s' % (now, level, _quote(msg))
    stream.write(line + "\n")
    stream.flush()


def info(msg):
    log("info", msg)


def warn(msg):
    log("warning", msg)


def error(msg):
    log("error", msg)


def fatal(msg):
    log("fatal", msg)
    raise Fatal(msg)
