"""Databricks notebook magics in a Jupyter kernel: ``%sql``, ``%md``, ``%python``, ``%run``, ``%fs``, ``%pip``, ``%sh``.

On Databricks a magic on a cell's first line applies to the whole cell (``%sql`` followed by SQL lines), unlike an
IPython line magic. An input transformer in IPython's cleanup stage turns such a cell into an IPython cell magic
(``%%sql``), and the same functions also work as line magics (``%sql SELECT 1``). Exported notebooks of both
formats arrive here unchanged: the ``.py`` reader unwraps ``# MAGIC`` lines, ``.ipynb`` exports carry them as is.
"""

from __future__ import annotations

import ast
import linecache
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from checkers.errors import CheckersError, NotebookExecutionError
from checkers.runtime.display import display
from checkers.runtime.notebook_host import NotebookHost
from checkers.runtime.sql_tokens import split_statements, tokenize

CELL_MAGICS = ("sql", "md", "md-sandbox", "python", "run", "fs", "pip", "sh", "scala", "r")
"""Magics that, on a cell's first line, take the whole cell (Databricks' cell languages and utilities)."""
_FIRST_LINE = re.compile(r"^%(?P<name>md-sandbox|[A-Za-z]+)(?P<rest>(?:[ \t].*)?)$")
_LEGACY_PARAM = re.compile(r"\$\{(\w+)\}")


def _widget_or_text(widgets: dict[str, str], match: re.Match[str]) -> str:
    """A legacy ``${name}`` marker: the widget's value, or the text unchanged when no widget has that name."""
    return widgets.get(match.group(1), match.group(0))


_FS_COMMANDS = ("ls", "head", "cp", "mv", "rm", "mkdirs", "put")
_CREATE_WIDGET = re.compile(
    r"""\s*CREATE\s+WIDGET\s+(?P<kind>TEXT|DROPDOWN|COMBOBOX|MULTISELECT)\s+(?P<name>`[^`]+`|\w+)\s+DEFAULT\s+"""
    r"""(?P<default>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*(?:CHOICES\s+(?P<choices>.+?))?\s*;?\s*$""",
    re.IGNORECASE | re.DOTALL)
_LEADING_COMMENTS = re.compile(r"\A(?:\s*--[^\n]*(?:\n|\Z))+")
_REMOVE_WIDGET = re.compile(r"\s*REMOVE\s+WIDGET\s+(?P<name>`[^`]+`|\w+)\s*;?\s*$", re.IGNORECASE)


class MagicError(CheckersError):
    """A magic cell that cannot run locally, or was written wrong (e.g. ``%run`` without a path)."""


def databricks_cell_transform(lines: list[str]) -> list[str]:
    """IPython cleanup transform: a Databricks magic on the first line → an IPython cell magic for the cell."""
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None:
        return lines
    match = _FIRST_LINE.match(lines[index].rstrip("\r\n"))
    if match is None or match.group("name") not in CELL_MAGICS:
        return lines
    name, rest = match.group("name"), match.group("rest").strip()
    body = lines[index + 1:]
    if name == "python":
        return ([rest + "\n"] if rest else []) + body
    if not any(line.strip() for line in body):
        return [f"%{name} {rest}".rstrip() + "\n"]  # a one-line magic: IPython's line-magic path
    name = "md" if name == "md-sandbox" else name
    return [f"%%{name} {rest}".rstrip() + "\n", *body]


_INDENT = re.compile(r"^[ \t]+")
_BANG_PIP = re.compile(r"^(?P<indent>[ \t]*)!\s*(?:pip3?|python3?\s+-m\s+pip)(?P<rest>\s+(?:install|uninstall)\b.*)$",
                       re.DOTALL)


def leading_indent(lines: list[str]) -> list[str]:
    """IPython 8's cleanup, which Databricks' runtimes run and IPython 9 dropped: when a cell's first line is
    indented, that indentation is removed from every line that starts with it (`` from x import y`` runs)."""
    match = _INDENT.match(lines[0]) if lines else None
    if match is None:
        return lines
    space = match.group(0)
    return [line[len(space):] if line.startswith(space) else line for line in lines]


def bang_pip(lines: list[str]) -> list[str]:
    """``!pip install x`` → ``%pip install x``: the shell's ``pip`` may be another Python's, never the kernel's;
    on Databricks both install into the notebook's environment, so locally both print how to install."""
    out = []
    for line in lines:
        match = _BANG_PIP.match(line)
        out.append(f"{match.group('indent')}%pip{match.group('rest')}" if match else line)
    return out


class DatabricksMagics:
    """The magic functions of one kernel, bound to its shell and ``dbutils``."""

    def __init__(self, *, ip: Any, dbutils: Any, notebooks: NotebookHost | None = None) -> None:
        self.ip = ip
        self.dbutils = dbutils
        self.notebooks = notebooks
        self._run_stack: list[Path] = []

    # --- %sql ------------------------------------------------------------------------------------------
    def sql(self, line: str, cell: str | None = None) -> None:
        """Run the cell's statements on ``spark``; show the last result; set ``_sqldf`` like Databricks."""
        text = line if cell is None else f"{line}\n{cell}"
        statements = split_statements(text)
        if not statements:
            return
        spark = self.ip.user_ns.get("spark")
        if spark is None:
            raise MagicError("%sql needs `spark`, and this kernel has none.",
                             hint="Run `day07 kernel install`, then restart the kernel (or pick the Day 07 kernel).")
        frame = None
        for statement in statements:
            if self._widget_statement(statement, spark):
                continue
            widgets = self._widget_values()  # a widget created by an earlier statement counts
            statement = _LEGACY_PARAM.sub(partial(_widget_or_text, widgets), statement)
            names = [name for name in parameter_names(statement) if name in widgets]
            frame = spark.sql(statement, {name: widgets[name] for name in names} or None)
        self.ip.user_ns["_sqldf"] = frame
        if frame is not None and frame.columns:
            display(frame)

    def _widget_statement(self, statement: str, spark: Any) -> bool:
        """``CREATE WIDGET`` / ``REMOVE WIDGET``, which Databricks runs in SQL cells; True when it was one."""
        widgets = getattr(self.dbutils, "widgets", None)
        statement = _LEADING_COMMENTS.sub("", statement)
        removed = _REMOVE_WIDGET.match(statement)
        if removed and widgets is not None:
            widgets.remove(removed.group("name").strip("`"))
            return True
        created = _CREATE_WIDGET.match(statement)
        if created is None or widgets is None:
            return False
        kind, name = created.group("kind").lower(), created.group("name").strip("`")
        default = ast.literal_eval(created.group("default"))
        if kind == "text":
            widgets.text(name, default)
            return True
        query = created.group("choices")
        if not query:
            raise MagicError(f"CREATE WIDGET {kind.upper()} {name}: a {kind} widget needs CHOICES.",
                             hint=f"Add CHOICES SELECT ... after the default, e.g. CREATE WIDGET {kind.upper()} "
                                  f"{name} DEFAULT '{default}' CHOICES SELECT * FROM (VALUES ('a'), ('b'))")
        choices = [str(row[0]) for row in spark.sql(query).collect()]
        getattr(widgets, kind)(name, default, choices)
        return True

    def _widget_values(self) -> dict[str, str]:
        widgets = getattr(self.dbutils, "widgets", None)
        try:
            return dict(widgets.getAll()) if widgets is not None else {}
        except Exception:  # noqa: BLE001 - widgets are optional for SQL cells
            return {}

    # --- %md, %python-less languages ------------------------------------------------------------------
    def md(self, line: str, cell: str | None = None) -> None:
        from IPython.display import Markdown

        text = line if cell is None else f"{line}\n{cell}"
        display(Markdown(text.strip("\n")))

    def unsupported_language(self, name: str) -> Callable[..., None]:
        def magic(line: str, cell: str | None = None) -> None:
            raise MagicError(f"%{name} cells cannot run locally: the Day 07 kit runs Python and SQL cells only.",
                             hint="Rewrite this cell in Python or SQL, or run the notebook on Databricks.")

        return magic

    # --- %run ----------------------------------------------------------------------------------------
    def run(self, line: str, cell: str | None = None) -> None:
        """Run another notebook's code cells in this namespace, as Databricks' ``%run`` does."""
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise MagicError(f"%run {line}: {exc}.", hint='Write it like %run ./other_notebook $name="value".') \
                from None
        if not argv:
            raise MagicError("%run needs a notebook path.", hint="Write it like %run ./other_notebook")
        target = self._resolve(argv[0])
        params = dict(_run_parameter(arg, line) for arg in argv[1:])
        if target in self._run_stack:
            chain = " → ".join(p.name for p in [*self._run_stack, target])
            raise MagicError(f"%run {argv[0]} would run {target.name} inside itself ({chain}).",
                             hint="Remove the circular %run.")
        cells = self._host().code_cells(target)
        if params:
            passed = getattr(getattr(self.dbutils, "widgets", None), "_passed", None)
            if isinstance(passed, dict):
                passed.update(params)
        self._run_stack.append(target)
        try:
            for index, source in cells:
                self._exec_cell(source, target=target, number=index + 1, call=argv[0])
        finally:
            self._run_stack.pop()

    def _host(self) -> NotebookHost:
        if self.notebooks is None:
            raise MagicError("%run is not available in this session: the kernel was started without the kit's "
                             "notebook executor.",
                             hint="Run `day07 kernel install`, then restart the kernel (or pick the Day 07 kernel).")
        return self.notebooks

    def _resolve(self, path: str) -> Path:
        resolve = self._host().resolve
        if self._run_stack:
            base = self._run_stack[-1].parent
        else:
            caller = getattr(getattr(self.dbutils, "context", None), "notebook_path", None)
            base = Path(caller).parent if caller else Path.cwd()
        try:
            return resolve(path, base=base)  # a workspace path (/Users/me/day07/utils) is found by its last parts
        except NotebookExecutionError:
            if not path.startswith("/"):
                raise
            raise MagicError(f"%run {path}: no notebook '{Path(path).name}' (.ipynb, .py or .sql) in {base}.",
                             hint="Paths are relative to the calling notebook, e.g. %run ./utils") from None

    def _exec_cell(self, source: str, *, target: Path, number: int, call: str) -> None:
        code = self.ip.transform_cell(source)
        filename = f"<%run {target.name}, cell {number}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        namespace = self.ip.user_ns
        try:
            tree = ast.parse(code, filename)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - running the notebook is the point
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)  # noqa: S307
                if value is not None:
                    display(value)
        except Exception as exc:
            exc.add_note(f"(in {target.name}, cell {number}, run by %run {call})")
            raise

    # --- %fs -----------------------------------------------------------------------------------------
    def fs(self, line: str, cell: str | None = None) -> Any:
        """``%fs ls /path`` → ``dbutils.fs.ls("/path")``; flags ``-r`` (recurse) and ``-f`` (overwrite). The command
        may stand on the cell's next line (``%fs`` alone on the first), as Databricks allows."""
        if not line.strip() and cell:
            rest = [ln for ln in cell.splitlines() if ln.strip()]
            line, cell = (rest[0], "\n".join(rest[1:])) if rest else ("", cell)
        argv = shlex.split(line)
        fs = getattr(self.dbutils, "fs", None)
        if not argv or fs is None:
            raise MagicError("%fs needs a command: ls, head, cp, mv, rm, mkdirs or put.",
                             hint="Write it like %fs ls /Volumes/workspace/ecommerce/ecommerce_data")
        command, args = argv[0], argv[1:]
        if command not in _FS_COMMANDS:
            raise MagicError(f"%fs {command} is not available locally.",
                             hint=f"Use one of: {', '.join(_FS_COMMANDS)}.")
        flags = {a for a in args if a.startswith("-")}
        paths = [a for a in args if not a.startswith("-")]
        recurse = bool(flags & {"-r", "--recurse", "-R"})
        if command == "ls":
            import pandas as pd

            display(pd.DataFrame([tuple(i) for i in fs.ls(*paths[:1] or ["/"])],
                                 columns=["path", "name", "size", "modificationTime"]))
            return None
        if command == "head":
            print(fs.head(*paths[:1]))
            return None
        if command in ("cp", "mv"):
            return getattr(fs, command)(*paths[:2], recurse=recurse)
        if command == "rm":
            return fs.rm(*paths[:1], recurse=recurse)
        if command == "put":
            contents = paths[1] if len(paths) > 1 else (cell or "")
            return fs.put(paths[0], contents, overwrite=bool(flags & {"-f", "--overwrite"}))
        return fs.mkdirs(*paths[:1])

    # --- %pip, %sh -----------------------------------------------------------------------------------
    def pip(self, line: str, cell: str | None = None) -> None:
        """A notice, not an install: the kit's environment is set up once, outside notebooks."""
        print(pip_notice(line, cell))

    def sh(self, line: str, cell: str | None = None) -> None:
        """Run the cell with bash in the notebook's folder; ``%sh -e`` fails the cell on a non-zero exit."""
        words = line.split()
        fail = "-e" in words
        head = " ".join(w for w in words if w != "-e")
        script = "\n".join(part for part in (head, cell or "") if part)
        from checkers.runtime.volumes import volumes_root

        script = re.sub(r"(?<![\w/.])(?:dbfs:)?/Volumes(?=/|\b)", str(volumes_root()), script)
        caller = getattr(getattr(self.dbutils, "context", None), "notebook_path", None)
        cwd = Path(caller).parent if caller else Path.cwd()
        proc = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, check=False)
        if proc.stdout:
            print(proc.stdout, end="")
        if proc.stderr:
            print(proc.stderr, end="", file=sys.stderr)
        if fail and proc.returncode:
            raise MagicError(f"%sh -e: the command exited with status {proc.returncode}.")


def parameter_names(statement: str) -> list[str]:
    """Named parameter markers (``:name``) outside strings and comments; ``::`` casts are not markers."""
    tokens = [t for t in tokenize(statement) if t.kind != "ws"]
    names: list[str] = []
    for i, token in enumerate(tokens):
        if token.kind == "op" and token.text == ":" and i + 1 < len(tokens) and tokens[i + 1].kind == "word":
            if i and tokens[i - 1].kind == "op" and tokens[i - 1].text == ":":
                continue
            name = tokens[i + 1].text
            if not name[0].isdigit() and name not in names:
                names.append(name)
    return names


def _run_parameter(arg: str, line: str) -> tuple[str, str]:
    key, sep, value = arg.partition("=")
    if not key.startswith("$") or not sep or len(key) < 2:
        raise MagicError(f"%run {line}: '{arg}' is not a parameter.", hint='Pass widget values as $name="value".')
    return key[1:], value


def pip_notice(line: str, cell: str | None = None) -> str:
    """What ``%pip`` prints locally: how to install into the kit's environment, and what is already there."""
    from importlib import metadata

    from checkers.runtime.libraries import install_command

    args = line.strip()
    words = args.split()
    present: list[str] = []
    missing: list[str] = []
    if words[:1] == ["install"]:
        for word in words[1:]:
            if word.startswith("-"):
                continue
            name = re.split(r"[<>=!~\[; ]", word, maxsplit=1)[0]
            try:
                present.append(f"{name} {metadata.version(name)}")
            except metadata.PackageNotFoundError:
                missing.append(name)
    lines = ["%pip is not run by the local Day 07 kit: notebooks do not install packages here.",
             "Install what this cell needs into the kit's environment once, from a terminal:",
             f"    {install_command(args)}"]
    if present:
        lines.append(f"Already installed: {', '.join(present)}.")
    if missing:
        lines.append(f"Not installed: {', '.join(missing)}.")
    extra = [ln.strip() for ln in (cell or "").splitlines() if ln.strip()]
    if extra:
        lines.append("Also in this cell: " + "; ".join(extra))
    return "\n".join(lines)


class LibraryUtils:
    """``dbutils.library``: ``restartPython()`` follows ``%pip`` on Databricks; locally there is nothing to reload."""

    def restartPython(self) -> None:  # noqa: N802 - Databricks' name
        print("dbutils.library.restartPython(): nothing to restart locally (%pip installs nothing here); "
              "the notebook goes on with its current state.")


def _restart_python(line: str = "") -> None:
    """``%restart_python`` (the line after ``%pip install`` on Databricks): like ``restartPython()``, a no-op."""
    print("%restart_python: nothing to restart locally (%pip installs nothing here); "
          "the notebook goes on with its current state.")


def _verbatim(func: Callable[..., Any]) -> Callable[..., Any]:
    """Opt out of IPython's ``$name`` / ``{expr}`` expansion: ``%run ./x $a="1"`` and SQL text stay as written."""
    from IPython.core.magic import no_var_expand

    def magic(line: str, cell: str | None = None) -> Any:
        return func(line, cell)

    magic.__doc__ = func.__doc__
    return no_var_expand(magic)


def register(ip: Any, *, dbutils: Any, notebooks: NotebookHost | None = None) -> DatabricksMagics:
    """Install the magics and the first-line transform into the kernel's shell (idempotent); ``%run`` reads notebooks
    through ``notebooks``."""
    magics = DatabricksMagics(ip=ip, dbutils=dbutils, notebooks=notebooks)
    functions: dict[str, Callable[..., Any]] = {
        "sql": magics.sql, "md": magics.md, "md-sandbox": magics.md, "run": magics.run, "fs": magics.fs,
        "pip": magics.pip, "sh": magics.sh, "scala": magics.unsupported_language("scala"),
        "r": magics.unsupported_language("r"),
    }
    for name, func in functions.items():
        ip.register_magic_function(_verbatim(func), magic_kind="line_cell", magic_name=name)
    if not hasattr(dbutils, "library"):
        dbutils.library = LibraryUtils()
    ip.register_magic_function(_restart_python, magic_kind="line", magic_name="restart_python")
    install_transforms(ip.input_transformer_manager.cleanup_transforms)
    return magics


def install_transforms(cleanup: list[Any]) -> None:
    """Add the kit's cleanup transforms to IPython's (idempotent): the first-line indent right after IPython drops
    the leading empty lines, as IPython 8 ran it; then ``!pip``, then the first-line magic."""
    if leading_indent not in cleanup:
        names = [getattr(t, "__name__", "") for t in cleanup]
        cleanup.insert(names.index("leading_empty_lines") + 1 if "leading_empty_lines" in names else 0, leading_indent)
    for transform in (bang_pip, databricks_cell_transform):
        if transform not in cleanup:
            cleanup.append(transform)
