"""Limits on what one notebook kernel may take: output kept per cell, and resident memory.

nbclient keeps every output message of a cell in memory until the notebook is saved, so a cell that prints 10 MB
costs 10 MB (and more for a runaway loop) before any trimming could happen. :class:`CappedNotebookClient` drops
output at the cap as it arrives. A runaway kernel can also take the whole machine; :class:`MemoryGuard` stops it
at a resident-memory limit, as Databricks restarts a REPL that runs out of memory.

No hard ``RLIMIT_AS`` is offered: a kernel that imports ``pyspark.sql.connect`` and opens a gRPC channel maps
about 2.5 GiB of virtual memory for 0.2 GiB resident (malloc arenas per thread, Arrow's allocator reserve), and
that ratio grows with the core count, so any address-space limit either breaks normal notebooks or stops nothing.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import psutil
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbformat.v4 import new_output
from traitlets import Integer

from checkers.runtime.context import RuntimeRecord
from checkers.runtime.events import EVENT_MSG_TYPE
from checkers.runtime.progress import PROGRESS_MSG_TYPE, QueryProgress

OUTPUT_SETTING = "DAY07_MAX_OUTPUT_BYTES"
"""The environment variable a learner changes to raise the output cap (named in the note)."""
MEMORY_SETTING = "DAY07_KERNEL_MEMORY_MB"
"""The environment variable a learner changes to raise the memory limit (named in the message)."""
_MB = 1024 * 1024
_OUTPUT_MSGS = frozenset({"stream", "display_data", "execute_result", "error", "update_display_data"})


def _text_bytes(text: Any) -> int:
    if isinstance(text, list):  # nbformat allows multi-line strings as lists
        return sum(_text_bytes(part) for part in text)
    if isinstance(text, str):
        return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return len(json.dumps(text, default=str))


def _data_bytes(data: Any) -> int:
    """Size of a mime bundle: what it costs to keep it and to save it."""
    if not isinstance(data, dict):
        return 0
    return sum(_text_bytes(value) for value in data.values())


def _message_bytes(msg_type: str, content: dict[str, Any]) -> int:
    if msg_type == "stream":
        return _text_bytes(content.get("text", ""))
    if msg_type == "error":
        return _text_bytes(content.get("traceback", [])) + _text_bytes(content.get("evalue", ""))
    return _data_bytes(content.get("data"))


def output_note(max_output_bytes: int) -> str:
    """The one line left where a cell's output was cut."""
    return (f"… [day07: output capped — this cell printed more than {max_output_bytes:,} bytes; "
            f"the rest was dropped (limit: {OUTPUT_SETTING})]\n")


class CappedNotebookClient(NotebookClient):
    """An nbclient ``NotebookClient`` that keeps at most ``max_output_bytes`` of output per cell.

    Once a cell's kept outputs would pass the cap, the part of the stream message that fits is kept, one stream
    output with :func:`output_note` is added, and every later stream, display and result of that cell is dropped
    (``clear_output`` too, so the note stays). Error outputs are always kept: they say why the cell failed.
    Bytes are counted per cell from what is currently kept, so a progress display that clears itself is not capped.
    """

    max_output_bytes = Integer(0, help="Output bytes one cell may keep; 0 (or less) = no cap.").tag(config=True)

    def __init__(self, nb: NotebookNode, km: Any = None, **kw: Any) -> None:
        super().__init__(nb, km=km, **kw)
        self.capped_cells: dict[int, int] = {}
        """Cells whose output was capped: cell index → output bytes the cell produced (kept and dropped)."""
        self.record = RuntimeRecord()
        """What the notebook did through ``dbutils``, built from the events its kernel sent while cells ran."""
        self.on_progress: Callable[[QueryProgress], None] | None = None
        """Called with each progress update of a long Spark query (the runner's live view)."""
        self._cell_msg_id: str | None = None
        self._kept = 0
        self._seen = 0
        self._capped = False
        self._ends_line: dict[str, bool] = {}

    def process_message(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        if msg.get("msg_type") == EVENT_MSG_TYPE:  # a dbutils event: evidence, not output
            content = msg.get("content")
            if isinstance(content, dict):
                self.record.apply(content, cell=cell_index)
            return None
        if msg.get("msg_type") == PROGRESS_MSG_TYPE:  # a long Spark query's progress: for the live view, not output
            if self.on_progress is not None:
                update = QueryProgress.from_dict(msg.get("content"))
                if update is not None:
                    self.on_progress(update)
            return None
        if self.max_output_bytes <= 0:
            return super().process_message(msg, cell, cell_index)
        parent = msg.get("parent_header", {}).get("msg_id")
        if parent != self._cell_msg_id:  # nbclient only hands us the running cell's messages: a new id = new cell
            self._cell_msg_id, self._kept, self._seen, self._capped, self._ends_line = parent, 0, 0, False, {}
        msg_type = msg["msg_type"]
        if msg_type == "clear_output":
            if self._capped:
                return None
            if not msg["content"].get("wait"):
                self._kept, self._ends_line = 0, {}
            return super().process_message(msg, cell, cell_index)
        if msg_type not in _OUTPUT_MSGS:
            return super().process_message(msg, cell, cell_index)

        content = msg["content"]
        size = _message_bytes(msg_type, content)
        self._seen += size
        if self._capped:
            self.capped_cells[cell_index] = self._seen
            if msg_type == "error":
                return super().process_message(msg, cell, cell_index)
            return None
        if self.clear_before_next_output:
            # A clear_output(wait=True) is pending: nbclient empties the outputs before adding this one.
            self._kept, self._ends_line = 0, {}
        added = self._display_update_bytes(content, size)
        if msg_type != "update_display_data":
            added += size
        if msg_type == "error" or self._kept + added <= self.max_output_bytes:
            self._kept = max(0, self._kept + added)
            if msg_type == "stream":
                self._ends_line[content.get("name", "stdout")] = str(content.get("text", "")).endswith("\n")
            return super().process_message(msg, cell, cell_index)
        return self._cap(msg, cell, cell_index)

    def _display_update_bytes(self, content: dict[str, Any], size: int) -> int:
        """How much an update of a ``display_id`` grows the outputs it replaces (nbclient updates them in place)."""
        transient = content.get("transient")
        display_id = transient.get("display_id") if transient else None
        if not display_id:
            return 0
        grown = 0
        for index, output_indices in self._display_id_map.get(display_id, {}).items():
            outputs = self.nb.cells[index].get("outputs", [])
            for output_index in output_indices:
                if output_index < len(outputs):
                    grown += size - _data_bytes(outputs[output_index].get("data"))
        return grown

    def _cap(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """Keep what fits of this message, then add the note once; the cell keeps no further output."""
        room = max(0, self.max_output_bytes - self._kept)
        name = "stdout"
        if msg["msg_type"] == "stream":
            name = msg["content"].get("name", "stdout")
            text = msg["content"].get("text", "")
            head = str(text).encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore") if room else ""
            if head:
                super().process_message({**msg, "content": {**msg["content"], "text": head}}, cell, cell_index)
                self._kept += _text_bytes(head)
                self._ends_line[name] = head.endswith("\n")
        elif msg["msg_type"] != "update_display_data" and self.clear_before_next_output:
            # The dropped output would have emptied the cell first (a pending clear_output(wait=True)): honour that.
            cell.outputs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
            self._ends_line = {}
        note = output_note(self.max_output_bytes)
        if name in self._ends_line and not self._ends_line[name]:
            note = "\n" + note
        cell.outputs.append(new_output("stream", name=name, text=note))
        self._capped = True
        self.capped_cells[cell_index] = self._seen
        return None


def kernel_pid(km: Any) -> int | None:
    """The pid of the process a jupyter_client kernel manager started (None before start or for remote kernels)."""
    provisioner = getattr(km, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    return pid if isinstance(pid, int) else None


class MemoryGuard:
    """Watch a kernel and its children; SIGKILL them all when their resident memory passes ``limit_bytes``.

    ``pid`` is the process the kernel manager started. Sandbox wrappers (``bwrap``, which runs the kernel as its
    grandchild in a session of its own) are looked through to the kernel below them, and counted with it. Children
    of the kernel that start a session of their own (``start_new_session``, as the kit's Spark Connect server does
    when a kernel starts it) are services, not the kernel: neither counted nor killed, unless ``include_detached``
    (for grading, where a notebook must not escape the limit by detaching a process). ``limit_bytes <= 0`` watches
    nothing. The watching thread never raises: a vanished process, or any error reading it, ends the watch quietly.
    """

    def __init__(self, *, pid: int, limit_bytes: int, interval: float = 0.5, include_detached: bool = False,
                 setting: str = MEMORY_SETTING) -> None:
        self.pid = pid
        """The process the kernel manager started (see :func:`kernel_pid`)."""
        self.limit_bytes = int(limit_bytes)
        """Resident bytes (sum over the watched processes) above which they are killed; 0 = no guard."""
        self.interval = interval
        """Seconds between two samples. Each reads every process's ``/proc`` entry to find the children (~0.7 ms
        of CPU with 60 processes), and a grading watches five kernels: twice a second is enough."""
        self.include_detached = include_detached
        """Also count and kill the kernel's children that lead a session of their own."""
        self.setting = setting
        """The setting a learner changes to raise the limit, named in :attr:`message`."""
        self.tripped = False
        """True once the limit was passed and the processes were killed."""
        self.peak_bytes = 0
        """Highest resident memory seen (sum over the watched processes)."""
        self._root: psutil.Process | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """The watching thread is running."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def message(self) -> str | None:
        """What happened, for a learner; None when the guard did not trip."""
        if not self.tripped:
            return None
        return (f"the kernel used more than {self.limit_bytes / _MB:,.0f} MB of memory "
                f"({self.peak_bytes / _MB:,.0f} MB seen) and was stopped (limit: {self.setting})")

    def used_bytes(self) -> int:
        """Resident bytes of the watched processes now (0 once the process is gone)."""
        try:
            root = self._root or psutil.Process(self.pid)
        except psutil.Error:
            return 0
        return sum(_rss(proc) for proc in self._members(root) or [])

    def start(self) -> MemoryGuard:
        if self.limit_bytes <= 0 or self._thread is not None:
            return self
        try:
            self._root = psutil.Process(self.pid)
        except psutil.Error:  # already gone: nothing to guard
            return self
        self._thread = threading.Thread(target=self._watch, args=(self._root,), daemon=True,
                                        name=f"day07-memory-guard-{self.pid}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> MemoryGuard:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _watch(self, root: psutil.Process) -> None:
        try:
            while True:
                members = self._members(root)
                if members is None:
                    return
                used = sum(_rss(proc) for proc in members)
                self.peak_bytes = max(self.peak_bytes, used)
                if used > self.limit_bytes:
                    self.tripped = True
                    _kill(members)
                    return
                if self._stop.wait(self.interval):
                    return
        except Exception:  # noqa: BLE001 - a guard must never take the executor down with it
            return

    def _members(self, root: psutil.Process) -> list[psutil.Process] | None:
        """Wrappers, the kernel and its descendants (less detached services); None once the root is gone."""
        try:
            if not root.is_running() or root.status() == psutil.STATUS_ZOMBIE:
                return None
            chain = [root]
            while chain[-1].name() in _WRAPPERS:
                below = chain[-1].children()
                if len(below) != 1:
                    break
                chain.append(below[0])
            kernel = chain[-1]
            descendants = kernel.children(recursive=True)
        except psutil.Error:
            return None
        if self.include_detached:
            return [*chain, *descendants]
        detached = {proc.pid for proc in descendants if _leads_session(proc.pid)}
        return [*chain, *(proc for proc in descendants if not _under(proc, detached, kernel.pid))]


_WRAPPERS = frozenset({"bwrap"})
"""Launchers that run the kernel as their only descendant chain (the grading sandbox)."""


def _leads_session(pid: int) -> bool:
    try:
        return os.getsid(pid) == pid
    except OSError:
        return False


def _under(proc: psutil.Process, detached: set[int], kernel_pid: int) -> bool:
    """``proc`` is a detached process or runs below one (walking parents up to the kernel)."""
    if not detached:
        return False
    pid = proc.pid
    for _ in range(256):  # deeper trees than this are not kernels
        if pid in detached:
            return True
        if pid == kernel_pid or pid <= 1:
            return False
        try:
            pid = psutil.Process(pid).ppid()
        except psutil.Error:
            return False
    return False


def _rss(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_info().rss)
    except psutil.Error:
        return 0


def _kill(members: list[psutil.Process]) -> None:
    """SIGKILL the root first (so it spawns nothing more), then everything below it."""
    for proc in members:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass
