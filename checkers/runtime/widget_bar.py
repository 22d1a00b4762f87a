"""The widget bar: ``dbutils.widgets`` as live input controls in JupyterLab, Notebook 7 and VS Code.

Databricks shows a notebook's widgets in one bar at its top; typing into it changes what
``dbutils.widgets.get`` returns on the next run of a cell. Here the bar is one ipywidgets box, shown once, in the
output of the cell that first declares a widget (a Jupyter kernel cannot draw above the first cell). Later
declarations add their control to the same box, so the bar that is already on screen grows; ``remove`` and
``removeAll`` take controls away. When the cell that shows the bar runs again, its old output is gone, so the bar
is shown again there.

Only an interactive session gets a bar: a job task, a grading or ``day07 notebook run`` never does, and never
imports ipywidgets (it costs a kernel a noticeable moment). Without ipywidgets the widgets still work, without
a bar, after one note.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

BAR_CLASS = "day07-widget-bar"
"""CSS class of the bar's box (tests and screenshots find it by this)."""
CONTROL_CLASS = "day07-widget"
"""CSS class of each control; each also gets ``day07-widget-<name>``."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

OnChange = Callable[[str, str], None]
"""Called with (widget name, new value as Databricks returns it) when the learner changes a control."""


def control_class(name: str) -> str:
    """The CSS class of the control of widget ``name``."""
    return f"{CONTROL_CLASS}-{_UNSAFE.sub('_', name)}"


def multiselect_value(selected: Any) -> str:
    """A multiselect's value as Databricks returns it: the selected choices joined by commas."""
    return ",".join(str(s) for s in selected)


class WidgetBar:
    """One notebook's bar of controls; nothing is imported or shown until the first declaration."""

    def __init__(self, *, on_change: OnChange, shell: Any = None) -> None:
        self._on_change = on_change
        self._shell = shell
        self._box: Any = None
        self._controls: dict[str, tuple[Any, tuple[Any, ...]]] = {}
        """name → (the control's box, what it was declared with)."""
        self._shown_at: tuple[str | None, int | None] | None = None
        self._unavailable = False

    # --- what LocalWidgets calls ---------------------------------------------------------------------
    def declare(self, *, name: str, kind: str, default: str, choices: list[str] | None, label: str | None,
                value: str) -> None:
        """Show (or keep) the control of one declared widget, holding ``value``."""
        w = self._widgets()
        if w is None:
            return
        signature = (kind, tuple(choices or ()), label)
        existing = self._controls.get(name)
        if existing is None or existing[1] != signature:
            item = self._control(w, name=name, kind=kind, default=default, choices=choices, label=label, value=value)
            self._controls[name] = (item, signature)
            self._sync_children()
        self._show()

    def remove(self, name: str) -> None:
        if self._controls.pop(name, None) is not None:
            self._sync_children()

    def remove_all(self) -> None:
        if self._controls:
            self._controls.clear()
            self._sync_children()

    @property
    def names(self) -> list[str]:
        """The widgets the bar shows, in declaration order."""
        return list(self._controls)

    # --- building -------------------------------------------------------------------------------------
    def _widgets(self) -> Any:
        """The ipywidgets module, imported on first need; None (after one note) when it is not installed."""
        if self._unavailable:
            return None
        try:
            import ipywidgets
        except ImportError:
            self._unavailable = True
            print("Note: install ipywidgets (`pip install ipywidgets`) to get a widget bar to type into; "
                  "dbutils.widgets works without it.", file=sys.stderr)
            return None
        return ipywidgets

    def _control(self, w: Any, *, name: str, kind: str, default: str, choices: list[str] | None,
                 label: str | None, value: str) -> Any:
        options = list(choices or [])
        layout = w.Layout(width="220px" if choices is not None else "360px")  # a text widget often holds a path
        if kind == "dropdown":
            control = w.Dropdown(options=options, value=value if value in options else default, layout=layout)
        elif kind == "combobox":
            control = w.Combobox(options=options, value=value, ensure_option=False, layout=layout)
        elif kind == "multiselect":
            chosen = tuple(v for v in value.split(",") if v in options) or (default,)
            control = w.SelectMultiple(options=options, value=chosen, rows=min(4, max(2, len(options))),
                                       layout=layout)
        else:
            control = w.Text(value=value, continuous_update=True, layout=layout)
        control.add_class(CONTROL_CLASS)
        control.add_class(control_class(name))

        def changed(change: dict[str, Any]) -> None:
            new = change["new"]
            self._on_change(name, multiselect_value(new) if kind == "multiselect" else str(new))

        control.observe(changed, names="value")
        caption = w.HTML(value=f"<span class='day07-widget-label'>{_escape(label or name)}</span>")
        return w.VBox([caption, control], layout=w.Layout(margin="0 16px 4px 0"))

    def _bar(self, w: Any) -> Any:
        if self._box is None:
            bar = self

            class Bar(w.HBox):  # ipywidgets is imported only here, at the first declaration
                """The bar; its text form (a frontend without widgets) lists the widgets and their values."""

                def __repr__(self) -> str:
                    return f"Widgets: {', '.join(bar.names) or 'none'} (dbutils.widgets)"

            self._box = Bar(layout=w.Layout(flex_flow="row wrap", padding="6px 8px",
                                            border="1px solid #d0d7de", width="100%"))
            self._box.add_class(BAR_CLASS)
        return self._box

    def _sync_children(self) -> None:
        w = self._widgets()
        if w is None:
            return
        box = self._bar(w)
        box.children = tuple(item for item, _ in self._controls.values())
        box.layout.display = "flex" if self._controls else "none"

    # --- showing --------------------------------------------------------------------------------------
    def _where(self) -> tuple[str | None, int | None]:
        """The running cell: its id (JupyterLab, Notebook 7 and VS Code send one) and execution count."""
        shell = self._shell
        getter = getattr(getattr(shell, "kernel", None), "get_parent", None)
        try:
            parent: Any = getter("shell") if callable(getter) else {}
        except Exception:  # noqa: BLE001 - an unusual kernel: fall back to the execution count
            parent = {}
        metadata = parent.get("metadata", {}) if isinstance(parent, dict) else {}
        cell = metadata.get("cellId") if isinstance(metadata, dict) else None
        count = getattr(shell, "execution_count", None) if shell is not None else None
        return (str(cell) if cell else None), count

    def _show(self) -> None:
        """Display the bar once; again only where the cell that showed it ran anew (its output was cleared)."""
        w = self._widgets()
        if w is None:
            return
        where = self._where()
        shown = self._shown_at
        if shown is not None:
            same_run = shown[1] == where[1]
            other_cell = shown[0] is not None and where[0] is not None and shown[0] != where[0]
            if same_run or other_cell:
                return
        from IPython.display import display

        display(self._bar(w))
        self._shown_at = where


def _escape(text: str) -> str:
    import html

    return html.escape(str(text))
