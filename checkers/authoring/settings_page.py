"""The docs' settings page, written from :class:`checkers.config.Settings`: the one place every knob is declared."""

from __future__ import annotations

from checkers import config
from checkers.authoring.markdown_text import attribute_docs, table_cell


def _default_text(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def _one_line(text: str, env: str) -> str:
    """The docstring on one table line, without the variable's own name (it is in the first column)."""
    text = table_cell(text)
    text = text.replace(f" (``{env}``)", "").replace(f"(``{env}``; ", "(").replace(f"(``{env}``, ", "(")
    text = text.replace(f"(``{env}``: ", "(").replace(f"``{env}``: ", "").replace(f"; ``{env}``)", ")")
    return text.replace("``", "`")


def settings_reference() -> str:
    """Every setting: its environment variable, type, default and meaning, as a markdown page."""
    docs = attribute_docs(config.Settings)
    out = ["# Settings", "",
           "<!-- Generated from checkers.config.Settings (checkers/authoring/settings_page.py). -->", "",
           "Every knob of the kit is an environment variable. Set it in your shell before a command, for example "
           "`DAY07_CELL_TIMEOUT=1200 day07 run`. Unset, each one takes the default below.", "",
           "A value that cannot be read (a word where a number belongs) stops the command with a message that "
           "names the variable.", "",
           "| variable | type | default | what it does |", "|---|---|---|---|"]
    for env, kind, default, name in config.knobs():
        shown = kind.replace(" | None", "").replace("Path", "path").replace("str", "text")
        shown = {"float": "number", "int": "whole number", "bool": "`1` or `0`"}.get(shown, shown)
        out.append(f"| `{env}` | {shown} | {_default_text(default)} | {_one_line(docs.get(name, ''), env)} |")
    out += ["", "The kit's own processes also pass a few facts to each other in variables that start with "
            "`_DAY07_`. They are not settings: never set them by hand.", ""]
    return "\n".join(out)
