"""Send what a notebook does through ``dbutils`` to the executor, the moment it happens.

Each event is a Jupyter IOPub message of its own type (:data:`EVENT_MSG_TYPE`) with the running cell's request
as its parent, so the executor knows which cell made it. The executor keeps what it received; a notebook that
later rewrites a file or mutates an object in its kernel changes nothing that was already reported. (Code in the
kernel can still send messages of its own: the grader cross-checks declarations against the notebook source.)

Outside an executor run (a learner's own Jupyter session) nothing is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

EVENT_MSG_TYPE = "day07_event"
"""The IOPub message type of a ``dbutils`` event; front-ends ignore message types they do not know."""

Emit = Callable[..., None]
"""``emit(kind, **fields)``: report one event."""


def no_events(kind: str, **fields: Any) -> None:
    """The sink of a session no executor listens to."""


def kernel_emitter(kernel: Any) -> Emit:
    """An :data:`Emit` that sends through ``kernel`` (an ipykernel ``Kernel``) on IOPub.

    The session and socket are looked up now, once: a notebook that later replaces attributes of the kernel
    does not redirect the events.
    """
    session, socket = kernel.session, kernel.iopub_socket
    get_parent = kernel.get_parent

    def emit(kind: str, **fields: Any) -> None:
        content = json.loads(json.dumps({"kind": kind, **fields}, default=str))
        session.send(socket, EVENT_MSG_TYPE, content, parent=get_parent("shell"), ident=b"day07_event")

    return emit
