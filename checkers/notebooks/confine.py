"""A grading kernel in the bubblewrap sandbox of :mod:`checkers.sandbox`.

Interrupts: the manager's usual SIGINT would reach ``bwrap`` first and end the whole sandbox (bwrap does not
forward signals), so :class:`ConfinedKernelManager` interrupts with Jupyter's ``interrupt_request`` message
instead; the kernel then sends SIGINT to itself, as it would to its own process group outside the sandbox.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import List

from checkers.config import settings
from checkers.sandbox import confine_command


class ConfinedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel runs in bwrap, with ``writable`` as its only writable folders.

    Also visible (read-only) even when under ``/tmp``: the connection file, the kernel's working folder and the
    kit's volumes (and, through :func:`confine_command`, this Python and the kit's code). The rest of the kit home
    (the Spark server's token, other gradings) and the ``hidden`` folders are not visible at all. Interrupts go as
    a message (see the module docstring).
    """

    writable: List[Any] = List(help="Folders the kernel may write (they must exist): its IPC socket folder, "
                                    "its grading folder.").tag(config=True)
    readable: List[Any] = List(help="Extra folders to show read-only even when they are under /tmp.").tag(config=True)
    read_only: List[Any] = List(help="Folders shown read-only even inside a writable one (the unseen data)."
                                ).tag(config=True)
    hidden: List[Any] = List(help="Folders the kernel must not see (other gradings, the cohort's folders); the kit "
                                  "home is always hidden but for its volumes.").tag(config=True)

    @property
    def kernel_spec(self) -> Any:
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"  # a SIGINT to bwrap would end the sandbox, not interrupt the cell
        return spec

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        shown = [Path(p) for p in self.readable]
        shown.append(Path(os.path.realpath(self.connection_file)))
        launch: dict[str, Any] = dict(self._launch_args or {})
        cwd = launch.get("cwd")
        home = settings().home
        # The kit home holds the Spark server's token and every other grading: hidden, but for the volumes a notebook
        # reads through /Volumes paths.
        shown += [path for path in (Path(cwd) if cwd else None, settings().volumes_dir) if path and path.exists()]
        shared = settings().shared_dir  # a cluster's shared folder holds every grading's files too
        return confine_command(cmd, writable=[Path(p) for p in self.writable], readable=shown,
                               read_only=[Path(p) for p in self.read_only],
                               hidden=[home, *([shared] if shared else []), *(Path(p) for p in self.hidden)])
