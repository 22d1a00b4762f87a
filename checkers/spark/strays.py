"""Processes a grading leaves behind in its Spark server, ended before the next grading starts.

A Python UDF runs in a worker process the server starts. Graded code there can start a process of its own (or a
thread in a worker that Spark reuses) that outlives the grading: it knows the server's address and token, so it
could write the next submission's tables or spoil them. A confined server runs in its own pid namespace, so every
process it ever started is below the sandbox's process; :func:`end_strays` ends all of them but the sandbox
itself and the server's JVM. The server runs without Python daemons (``spark.python.use.daemon=false``): each
Python task starts a worker that ends with it, so no Python process has a reason to outlive a grading, and none
can pass for one that does (a process named like the daemon, started by ``SELECT TRANSFORM``, was kept before).
"""

from __future__ import annotations

import contextlib
from typing import Any

from checkers.spark.spec import SERVER_CLASS, ServerPaths, ServerSpec


def end_strays(spec: ServerSpec | None = None) -> list[int]:
    """End every process below the server ``spec`` names but its JVM and the sandbox's processes that hold it;
    returns their pids.

    Does nothing for a server the kit did not start, or one that is not running. A server without a sandbox has
    no pid namespace: a process that left its process tree cannot be found, so only its tree is searched.
    """
    import psutil

    from checkers.config import settings
    from checkers.spark.state import is_our_server, read_state

    paths = ServerPaths.of(settings(), spec)
    state = read_state(paths)
    if state is None or state.pid is None or not is_our_server(state):
        return []
    try:
        top = psutil.Process(state.pid)
        below = top.children(recursive=True)
    except psutil.Error:
        return []
    server = _server_jvm([top, *below])
    if server is None:
        return []
    keep = {server.pid, *(p.pid for p in _ancestors(server, up_to=top))}
    strays = [p for p in below if p.pid not in keep]
    for proc in strays:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(strays, timeout=5)
    return [p.pid for p in strays]


def _server_jvm(tree: list[Any]) -> Any | None:
    """The server's JVM: the oldest Java process in the tree that runs the server's class (the sandbox's processes
    name it on their command lines too, but are not Java; a stray could start one, but later)."""
    import psutil

    found = []
    for proc in tree:
        with contextlib.suppress(psutil.Error):
            if proc.name() == "java" and SERVER_CLASS in proc.cmdline():
                found.append((proc.create_time(), proc.pid, proc))
    return min(found)[2] if found else None


def _ancestors(proc: Any, *, up_to: Any) -> list[Any]:
    """The processes from ``proc``'s parent up to ``up_to`` (the sandbox's processes that hold the server)."""
    import psutil

    chain = []
    with contextlib.suppress(psutil.Error):
        parent = proc.parent()
        while parent is not None and parent.pid != up_to.pid:
            chain.append(parent)
            parent = parent.parent()
        if parent is not None:
            chain.append(parent)
    return chain
