"""What a deploy looks like on the console: the dry-run calls, the live run view, the summary.

On a terminal the run view redraws in place (rich ``Live``); in a log or a pipe it prints a line per change.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from checkers.deploy.api import DeployResult
from checkers.deploy.plan import ApiCall
from checkers.deploy.watch import RunSnapshot, TaskSnapshot
from checkers.jobs.live import state_text


def shown_body(call: ApiCall) -> dict[str, Any] | None:
    """The body as printed: a notebook's base64 content is named, not dumped (everything else is exact)."""
    if call.body is None or "content" not in call.body:
        return call.body
    body = dict(call.body)
    size = len(body["content"]) * 3 // 4 - body["content"][-2:].count("=")
    name = str(body.get("path", "")).rsplit("/", 1)[-1]
    body["content"] = f"<base64 of the notebook file {name}: {size:,} bytes>"
    return body


def _call_line(index: int, call: ApiCall) -> Text:
    query = "&".join(f"{k}={v}" for k, v in (call.query or {}).items())
    line = Text.assemble((f"{index}. ", "bold"), (call.method, "bold cyan"), " ", call.path + (f"?{query}" if query
                                                                                                    else ""))
    if call.note:
        line.append(f"   # {call.note}", style="dim")
    return line


def print_dry_run(result: DeployResult, console: Console) -> None:
    """Every call in order, each with its JSON body."""
    console.print(Text.assemble(("Dry run", "bold"), f": nothing is sent. Deploying {result.job_file} would make "
                                f"these {len(result.calls)} calls:"))
    if "<you>" in result.workspace_dir:
        console.print(Text("<you> is your user name, which a real deploy asks the workspace for "
                           "(or pass --workspace-dir).", style="dim"))
    for i, call in enumerate(result.calls, 1):
        console.print(_call_line(i, call), soft_wrap=True)
        body = shown_body(call)
        if body is not None:
            console.out(json.dumps(body, indent=2, ensure_ascii=False), highlight=False)
    _print_notes(result, console)


def _print_notes(result: DeployResult, console: Console) -> None:
    for note in result.notes:
        console.print(Text.assemble(("note: ", "yellow"), note))


def _task_detail(task: TaskSnapshot) -> Text:
    text = Text(task.state_message or "")
    lines = [line for line in (task.error or "").strip().splitlines() if line.strip()]
    if lines:
        text = Text(lines[-1].strip(), style="red")  # a Python error's last line names the exception
    return text


def run_table(snapshot: RunSnapshot, *, title: str | None = None) -> Table:
    """Each task with its state and what the workspace says about it."""
    table = Table(title=Text(title or f"run {snapshot.run_id}", style="bold"), title_justify="left", expand=False)
    table.add_column("task", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("message", overflow="fold")
    for task in snapshot.tasks:
        table.add_row(Text(task.task_key), state_text(task.state), _task_detail(task))
    return table


class ConsoleProgress:
    """A :class:`~checkers.deploy.api.DeployProgress` that prints steps and draws the run while it goes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last: RunSnapshot | None = None
        """The run as last polled (the CLI prints its URL when interrupted)."""
        self._live: Live | None = None
        self._seen: dict[str, str] = {}

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def step(self, text: str) -> None:
        self.console.print(Text.assemble(("  ✓ ", "green"), text))

    def _view(self, snapshot: RunSnapshot) -> Group:
        head = Text.assemble(("run ", "bold"), (str(snapshot.run_id), "bold"), "  ", state_text(snapshot.state))
        parts: list[Any] = [head]
        if snapshot.run_page_url:
            parts.append(Text(snapshot.run_page_url, style="dim"))
        parts.append(run_table(snapshot, title=" "))
        return Group(*parts)

    def run_update(self, snapshot: RunSnapshot) -> None:
        first = self.last is None
        self.last = snapshot
        if self.console.is_terminal:
            if self._live is None:
                self._live = Live(self._view(snapshot), console=self.console, refresh_per_second=4, transient=True)
                self._live.start()
            else:
                self._live.update(self._view(snapshot))
            if snapshot.done:
                self._live.stop()
                self._live = None
            return
        if first and snapshot.run_page_url:
            self.console.print(Text(f"  run {snapshot.run_id}: {snapshot.run_page_url}"))
        changes = [("run", snapshot.state)] + [(f"task {t.task_key}", t.state) for t in snapshot.tasks]
        for key, state in changes:
            if self._seen.get(key, "PENDING" if key != "run" else None) != state:
                self._seen[key] = state
                self.console.print(Text.assemble(f"  {key}: ", state_text(state)))


def print_summary(result: DeployResult, console: Console) -> None:
    """Where things went, the job's page, and the run's URL and task states."""
    console.print(Text.assemble(("Notebooks", "bold"), f" in {result.workspace_dir} on {result.host}: ",
                                ", ".join(n.name for n in result.notebooks)))
    console.print(Text.assemble(("Job ", "bold"), (result.job_name, "bold"), f" {result.action} (id {result.job_id})"
                                f": {result.job_url}"))
    run = result.run
    if run is not None:
        console.print(run_table(run, title=f"run {run.run_id}"))
        console.print(Text.assemble(("Run ", "bold"), state_text(run.state), f": {result.run_url}"))
        if not run.done:
            console.print(Text("Stopped waiting; the run goes on in the workspace.", style="yellow"))
        for task in run.tasks:
            if task.error and len(task.error.strip().splitlines()) > 1:  # the table shows the last line
                console.print(Text.assemble((f"{task.task_key} failed:\n", "red"), task.error.strip()))
    _print_notes(result, console)
