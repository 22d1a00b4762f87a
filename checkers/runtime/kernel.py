"""The Jupyter kernel side: injects ``spark``, ``dbutils`` and ``display`` into a kernel's namespace.

Every kernel the kit starts (and the "Day 07 (local Databricks)" kernel a learner picks in Jupyter) is a plain
ipykernel whose extension (:mod:`checkers.notebooks.extension`) calls :func:`load`, so notebook code needs no import
or change. The extension also hands over the :class:`~checkers.runtime.notebook_host.NotebookHost` that ``%run``
and ``dbutils.notebook.run`` use: this package never imports the executor.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from checkers.runtime import default_session
from checkers.runtime.context import RunContext, load_context
from checkers.runtime.dbutils import DBUtils, NotebookExit, NotebookRunner, WorkflowException
from checkers.runtime.display import display, displayHTML
from checkers.runtime.events import kernel_emitter, no_events
from checkers.runtime.notebook_host import NotebookHost
from checkers.signals import KERNEL_NICE, POOLED_KERNEL, RUN_CONTEXT, SPARK_PREWARM, SPARK_SESSION_CONF


# --- inside the kernel ------------------------------------------------------------------------------
def _connect_spark() -> Any:
    """A Spark Connect session: to ``SPARK_REMOTE`` when the runner set it, else to the kit's own server.

    Databricks names (Delta, ``workspace.*``, ``/Volumes``) are made to work on it by :mod:`compat`.
    """
    with default_session.connecting():
        return _open_session()


def _open_session() -> Any:
    from pyspark.sql import SparkSession

    from checkers.runtime import compat

    remote = os.environ.get("SPARK_REMOTE")
    if remote:
        local = compat.is_kit_server(remote)
        compat.install(notice=_show_notice, translate_paths=local)
        session: Any = SparkSession.builder.remote(remote).getOrCreate()
        if local:  # the kit's server: fail in seconds when it died, not after twenty minutes of retries
            from checkers.spark.client import bounded_retries

            bounded_retries(session=session)
    else:
        from checkers.spark.server import connect, ensure_server

        local = True
        compat.install(notice=_show_notice, translate_paths=True)
        session = connect(endpoint=ensure_server())
    if not _SESSIONS:
        atexit.register(_release_sessions)
    _SESSIONS.append(session)
    _apply_session_confs(session)
    if local:
        try:
            compat.sync_volume_schemas(session)
        except Exception as exc:  # noqa: BLE001 - a missing schema must not cost the notebook its `spark`
            print(f"Note: could not create the schemas of the local volumes: {exc}", file=sys.stderr)
    return session


_SESSIONS: list[Any] = []
"""Spark sessions this kernel opened; released when it exits, so the server does not keep them for an hour."""


def _apply_session_confs(session: Any) -> None:
    try:
        confs = json.loads(os.environ.get(SPARK_SESSION_CONF) or "{}")
    except ValueError:
        return
    for key, value in confs.items() if isinstance(confs, dict) else ():
        with contextlib.suppress(Exception):  # a setting the server refuses must not cost the notebook its `spark`
            session.conf.set(str(key), str(value))


def _release_sessions() -> None:
    for session in _SESSIONS:
        try:
            session.stop()
        except Exception:  # noqa: BLE001 - the server may be gone; the kernel is exiting anyway
            pass


_NOTICES: list[Any] = []
"""The kernel's ``dbutils.notice`` (set when the extension loads), so each notice shows once per notebook."""


def _show_notice(text: str) -> None:
    first_time = _NOTICES[0](text) if _NOTICES else True
    if first_time:
        print(f"Note: {text}")


class LazySpark:
    """Stands in for ``spark`` until first use, so notebooks that never touch Spark start fast.

    On first attribute access it swaps itself out of the namespace for the real ``SparkSession``.
    """

    def __init__(self, namespace: dict[str, Any], future: Future | None = None,
                 on_ready: Callable[[Any], None] | None = None) -> None:
        self._namespace = namespace
        self._future = future
        self._on_ready = on_ready
        self._lock = threading.Lock()
        self._session: Any = None

    def _real(self) -> Any:
        with self._lock:
            if self._session is None:
                session = self._future.result() if self._future is not None else None
                if session is not None and not _still_served(session):
                    session = None
                self._session = session if session is not None else _connect_spark()
                if self._on_ready is not None:
                    self._on_ready(self._session)
                if self._namespace.get("spark") is self:
                    self._namespace["spark"] = self._session
            return self._session

    def day07_session(self) -> Any:
        """The real session (connecting now): for kit code handed ``spark`` before its first use."""
        return self._real()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __repr__(self) -> str:
        return "<SparkSession: local Spark Connect, connects on first use>"


def _still_served(session: Any) -> bool:
    """Whether a session connected ahead (a pooled kernel's) still has its server; one round trip.

    A server restarted on the same port refuses the old session (``SESSION_CHANGED``) and the client closes it:
    the notebook would fail with ``NO_ACTIVE_SESSION``. Such a session is stopped and forgotten, and the caller
    connects afresh.
    """
    try:
        session.version  # noqa: B018 - an RPC: the server answers for this session, or it does not
        return True
    except Exception:  # noqa: BLE001 - any failure: connect again, whose error (if any) is the one to show
        with contextlib.suppress(Exception):
            session.stop()
        if session in _SESSIONS:
            _SESSIONS.remove(session)
        return False


def _prewarm() -> Future:
    """Connect in the background while the first cells run (only when the runner gave us an endpoint)."""
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(_connect_spark())
        except BaseException as exc:  # surfaced on first use of `spark`
            future.set_exception(exc)

    threading.Thread(target=work, name="day07-spark-prewarm", daemon=True).start()
    return future


def _notebook_runner(notebooks: NotebookHost) -> NotebookRunner:
    """``dbutils.notebook.run``: run ``path`` (relative to the caller) in a fresh kernel, return its exit value."""

    def run(path: str, timeout_seconds: int, arguments: dict[str, str], context: RunContext) -> Any:
        base = Path(context.notebook_path).parent if context.notebook_path else Path.cwd()
        target = notebooks.resolve(path, base=base)
        work = Path(context.work_dir) if context.work_dir else Path.cwd()
        nested = work / "nested"
        count = len(list(nested.glob("*.ipynb"))) if nested.exists() else 0
        # The executor runs kernels on its own event loop thread, so this kernel's running loop is no obstacle.
        result = notebooks.execute(
            path=target, parameters=arguments, output_path=nested / f"{count + 1:02d}_{target.stem}.ipynb",
            timeout=timeout_seconds or None, cell_timeout=context.cell_timeout,
            in_job=context.in_job, task_values=context.task_values)
        if not result.ok:
            raise WorkflowException(f"Notebook {target.name} failed: {result.message}")
        return result.exit_value

    return run


def _on_custom_exception(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """Show Databricks' 'Notebook exited' line instead of a traceback; a missing library's error says how to get it."""
    if isinstance(value, ModuleNotFoundError):
        from checkers.runtime.libraries import explain

        shell.showtraceback((etype, explain(value), tb), tb_offset=tb_offset)
        return
    print(f"Notebook exited: {getattr(value, 'value', value)}")


DATABRICKS_RUNTIME_VERSION = "17.3"
"""What ``os.environ["DATABRICKS_RUNTIME_VERSION"]`` says in the kit's kernels: the Runtime (Spark 4, ANSI on) the
local runtime follows. Code that tests for it to tell Databricks from a laptop takes its Databricks branch here,
the branch the kit emulates."""


def _prepare_environment() -> None:
    os.environ.setdefault("DATABRICKS_RUNTIME_VERSION", DATABRICKS_RUNTIME_VERSION)
    # PySpark is in Spark Connect mode from the start, as on Databricks: F.col(...) or a @udf before the first use
    # of `spark` builds a Connect expression instead of asking for a classic SparkContext.
    os.environ.setdefault("SPARK_CONNECT_MODE_ENABLED", "1")


def _prepare_volumes(namespace: dict[str, Any]) -> None:
    """``/Volumes`` paths work in plain Python here, and the sample data is in its Databricks place."""
    from checkers.errors import CheckersError
    from checkers.runtime.volumes import ensure_sample_volume, install_python_hooks

    install_python_hooks(namespace)
    try:
        ensure_sample_volume()
    except (CheckersError, OSError) as exc:
        print(f"Note: the sample data could not be placed in the local volume: {exc}", file=sys.stderr)


def _prepare_delta_module() -> None:
    """``from delta.tables import DeltaTable`` works, as in every Databricks notebook (unless a real delta-spark is
    installed). Light: nothing is imported until the notebook imports ``delta``."""
    from checkers.runtime.delta.importer import install_delta_module

    install_delta_module()


def _prepare_legacy_names() -> None:
    """``from pyspark.sql.functions import *`` gives ``countDistinct`` again, as on Spark 3 runtimes."""
    from checkers.runtime import legacy_names

    legacy_names.install()


def load(ip: Any, *, notebooks: NotebookHost | None) -> None:
    """Set the kernel up as it starts. A pooled kernel only prepares, and gets its task (and ``notebooks``) from
    :func:`bind`; any other gets ``notebooks`` now: what ``%run`` and ``dbutils.notebook.run`` run notebooks with."""
    _lower_priority(os.environ.get(KERNEL_NICE, ""))
    if os.environ.get(POOLED_KERNEL):
        _preload(ip)
        return
    context = load_context()
    _prepare_environment()
    _prepare_volumes(ip.user_ns)
    _prepare_delta_module()
    _prepare_legacy_names()
    future = _prewarm() if os.environ.get("SPARK_REMOTE") and context.report_events else None
    _setup(ip, context, future, notebooks)


def _lower_priority(nice: str) -> None:
    """Yield the CPU to more urgent work (a grading's job) when asked to; never an error."""
    if nice.strip():
        with contextlib.suppress(ValueError, OSError):
            os.nice(max(0, int(nice)))


_POOLED: dict[str, Any] = {}
"""A pooled kernel's shell and Spark connection in progress, until :func:`bind` gives it a task."""


def _preload(ip: Any) -> None:
    """A kernel started ahead of need: import and connect now, so its task starts at once when bound."""
    from checkers.runtime import fs, magics  # noqa: F401 - imported now so binding costs nothing

    _prepare_environment()
    _prepare_volumes(ip.user_ns)
    _prepare_delta_module()
    _prepare_legacy_names()
    _POOLED["ip"] = ip
    wanted = os.environ.get("SPARK_REMOTE") and os.environ.get(SPARK_PREWARM) != "0"
    _POOLED["future"] = _prewarm() if wanted else None


def bind(context_path: str, cwd: str, *, notebooks: NotebookHost | None) -> None:
    """Give a pooled kernel its task. The executor calls this once, silently, before the notebook's first cell,
    with the host its nested runs (``%run``, ``dbutils.notebook.run``) go through."""
    if "ip" not in _POOLED:
        raise RuntimeError("this kernel was not started by the day07 executor's pool, or is already bound")
    ip = _POOLED.pop("ip")
    os.chdir(cwd)
    _setup(ip, load_context({RUN_CONTEXT: context_path}), _POOLED.pop("future", None), notebooks)


def _progress_installer(ip: Any, context: RunContext) -> Callable[[Any], None]:
    """Once ``spark`` exists: long queries show their progress in the cell, or, in a job task, in the runner's live
    view (see :mod:`checkers.runtime.progress`)."""

    def install(session: Any) -> None:
        from checkers.runtime import progress

        with contextlib.suppress(Exception):
            progress.install(session, kernel=getattr(ip, "kernel", None), to_executor=context.report_events)

    return install


def _quiet_connect_logging() -> None:
    """PySpark keeps its Spark Connect logger off unless ``SPARK_CONNECT_LOG_LEVEL`` asks for it. A logging set-up
    that runs after PySpark was imported (the kernel app's, in a kernel forked from a process that imported PySpark)
    turns it back on, and every handled Spark error would then print JSON lines into the notebook."""
    if "SPARK_CONNECT_LOG_LEVEL" not in os.environ:
        logging.getLogger("pyspark.sql.connect.logging").disabled = True


def _install_dbruntime(namespace: dict[str, Any]) -> None:
    """On Databricks, ``from databricks.sdk.runtime import spark, dbutils`` (the idiom of helper modules) takes the
    notebook's own objects through the runtime's ``dbruntime`` module. Without it, the SDK sets them to None or to
    remote stand-ins. The kit provides that module, so the idiom gets the kernel's ``spark`` and ``dbutils``."""
    import types

    class UserNamespaceInitializer:
        @classmethod
        def getOrCreate(cls) -> UserNamespaceInitializer:  # noqa: N802 - the Databricks runtime's name
            return cls()

        def get_namespace_globals(self) -> dict[str, Any]:
            return namespace

    module = types.ModuleType("dbruntime", "The Day 07 kit's stand-in for the Databricks runtime's namespace.")
    module.__path__ = []  # a package without submodules: `dbruntime.x` imports fail as ImportError, as the SDK expects
    module.UserNamespaceInitializer = UserNamespaceInitializer  # type: ignore[attr-defined]
    sys.modules.setdefault("dbruntime", module)


def _install_pyspark_dbutils(namespace: dict[str, Any]) -> None:
    """On Databricks, ``from pyspark.dbutils import DBUtils; dbutils = DBUtils(spark)`` (the idiom of helper modules
    and of code written for Databricks Connect) gives the notebook's ``dbutils``. Open-source PySpark has no such
    module; the kit provides it, handing out the kernel's own ``dbutils``."""
    import types

    import pyspark

    class DBUtils:
        """``DBUtils(spark)``: the notebook's ``dbutils``."""

        def __new__(cls, spark: Any = None) -> Any:  # noqa: ARG003 - Databricks' signature
            return namespace["dbutils"]

    module = types.ModuleType("pyspark.dbutils", "The Day 07 kit's stand-in for Databricks' pyspark.dbutils.")
    module.DBUtils = DBUtils  # type: ignore[attr-defined]
    if "pyspark.dbutils" not in sys.modules:
        sys.modules["pyspark.dbutils"] = module
        pyspark.dbutils = module  # type: ignore[attr-defined]


def _setup(ip: Any, context: RunContext, future: Future | None, notebooks: NotebookHost | None) -> None:
    from checkers.runtime import errors_display, magics
    from checkers.runtime.fs import LocalFS

    _quiet_connect_logging()
    errors_display.log_into(context.work_dir)

    emit = kernel_emitter(ip.kernel) if context.report_events and getattr(ip, "kernel", None) else no_events
    # A person at a notebook gets the widget bar; a job task, a grading or `notebook run` (headless) never does.
    interactive = not context.report_events and not context.in_job and getattr(ip, "kernel", None) is not None
    runner = _notebook_runner(notebooks) if notebooks is not None else None
    dbutils = DBUtils(context=context, notebook_runner=runner, fs=LocalFS(), emit=emit, shell=ip,
                      widget_bar=interactive)
    _NOTICES[:] = [dbutils.notice]
    namespace = ip.user_ns
    # getArgument: the legacy notebook global that older notebooks still call (getArgument("schema")).
    lazy = LazySpark(namespace, future, on_ready=_progress_installer(ip, context))
    from checkers.runtime.missing import NoSparkContext

    ip.push({"dbutils": dbutils, "display": display, "displayHTML": displayHTML,
             "getArgument": dbutils.widgets.getArgument, "spark": lazy, "sc": NoSparkContext()})
    default_session.install(lazy)
    ip.set_custom_exc((NotebookExit, ModuleNotFoundError), _on_custom_exception)
    _install_dbruntime(namespace)
    _install_pyspark_dbutils(namespace)
    magics.register(ip, dbutils=dbutils, notebooks=notebooks)


def load_ipython_extension(ip: Any) -> None:
    """A kernel spec written by an older kit names this module as its extension. Its notebooks still get ``spark``,
    ``dbutils`` and ``display``; ``%run`` and ``dbutils.notebook.run`` say to reinstall the kernel, which writes the
    current spec (:mod:`checkers.kernelspec`)."""
    load(ip, notebooks=None)
