"""Who uses the shared cluster state: several pytest sessions (one per helper, concurrently) and
the command line. A session that started a piece records it; the last session to leave stops the
pieces sessions started, unless ARGOOPS_KEEP_CLUSTER=1. Pieces started by `cluster.py up` are the
user's and are never stopped by a session.
"""
from __future__ import annotations

import contextlib
import os

from . import procs


def _dir(state: str, name: str) -> str:
    path = os.path.join(state, name)
    os.makedirs(path, exist_ok=True)
    return path


def register(state: str) -> None:
    with open(os.path.join(_dir(state, "sessions"), str(os.getpid())), "w", encoding="utf-8") as handle:
        handle.write(" ".join(procs.cmdline(os.getpid())[:3]))


def unregister(state: str) -> None:
    try:
        os.remove(os.path.join(state, "sessions", str(os.getpid())))
    except OSError:
        pass


def others(state: str) -> list:
    """PIDs of other live sessions using this state directory."""
    path = os.path.join(state, "sessions")
    live = []
    for name in os.listdir(path) if os.path.isdir(path) else []:
        if name.isdigit() and int(name) != os.getpid() and procs.alive(int(name)):
            live.append(int(name))
        elif name.isdigit() and int(name) != os.getpid():
            os.remove(os.path.join(path, name))  # a session that died without cleaning up
    return live


def mark_started(state: str, piece: str) -> None:
    open(os.path.join(_dir(state, "session-owned"), piece), "w", encoding="utf-8").close()


def session_owned(state: str) -> set:
    path = os.path.join(state, "session-owned")
    return set(os.listdir(path)) if os.path.isdir(path) else set()


def clear_owned(state: str, piece: str | None = None) -> None:
    """The command line took over (``up``) or the piece is gone."""
    path = os.path.join(state, "session-owned")
    for name in ([piece] if piece else (os.listdir(path) if os.path.isdir(path) else [])):
        try:
            os.remove(os.path.join(path, name))
        except OSError:
            pass


def keep_requested() -> bool:
    return os.environ.get("ARGOOPS_KEEP_CLUSTER", "") not in ("", "0", "false", "no")


@contextlib.contextmanager
def using(state: str, stop_pieces, log):
    """A pytest session's use of ``state``: registered while inside; on leaving, the pieces sessions
    started are stopped (``stop_pieces(state, pieces, log)``) unless kept or still used by others."""
    os.makedirs(state, exist_ok=True)
    register(state)
    try:
        yield state
    finally:
        unregister(state)
        owned = session_owned(state)
        if owned and keep_requested():
            log(f"ARGOOPS_KEEP_CLUSTER set: leaving {sorted(owned)} running in {state}")
        elif owned and others(state):
            log(f"other test sessions still use {state}: leaving {sorted(owned)} running for them")
        elif owned:
            stop_pieces(state, owned, log)
