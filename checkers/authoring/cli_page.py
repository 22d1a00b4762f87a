"""The CLI reference page, written from an argparse parser's own ``--help`` so it cannot drift from the code.

The parser is an argument: the CLI layer passes ``checkers.cli.build_parser()`` in (the author tools sit below the
CLI and never import it).
"""

from __future__ import annotations

import argparse
import html
import re
from collections.abc import Iterator
from pathlib import Path

from checkers.authoring.markdown_text import table_cell

USAGE_WIDTH = 100


def _code(text: str) -> str:
    """Inline code that survives backticks and pipes."""
    return f"<code>{html.escape(text)}</code>".replace("|", "&#124;")


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) for each subcommand, in registration order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(prog=parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def _default_text(action: argparse.Action, root: Path | None) -> str:
    default = action.default
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction,
                           argparse._VersionAction)) or default in (None, argparse.SUPPRESS) or default == []:
        return ""
    if isinstance(default, Path) and root is not None:
        try:
            default = default.resolve().relative_to(root.resolve())
        except ValueError:
            pass
    return _code(str(default))


def _argument_rows(parser: argparse.ArgumentParser, root: Path | None) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._SubParsersAction, argparse._HelpAction)) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            metavar = ""
            if action.nargs != 0:
                shown = action.metavar if isinstance(action.metavar, str) else None
                metavar = " " + (shown or (
                    "{" + ",".join(map(str, action.choices)) + "}" if action.choices else action.dest.upper()))
            name = ", ".join(_code(opt + metavar) for opt in action.option_strings)
        else:
            name = _code(str(action.metavar or action.dest))
        help_text = (action.help or "") % {"default": action.default, "prog": parser.prog} \
            if "%(" in (action.help or "") else (action.help or "")
        if action.choices and action.option_strings == [] and not isinstance(action.choices, dict):
            help_text += f" (one of {', '.join(map(str, action.choices))})"
        rows.append(f"| {name} | {table_cell(help_text)} | {_default_text(action, root)} |")
    return rows


def _command_section(name: str, summary: str, parser: argparse.ArgumentParser, level: int,
                     root: Path | None) -> list[str]:
    out = [f"{'#' * level} `{parser.prog}`", ""]
    text = parser.description or summary
    if text:
        out += [text.strip(), ""]
    out += ["```text", _usage(parser), "```", ""]
    rows = _argument_rows(parser, root)
    if rows:
        out += ["| argument | what it does | default |", "|---|---|---|", *rows, ""]
    subs = list(_subparsers(parser))
    if subs:
        out += ["Subcommands: " + ", ".join(f"`{sub_name}`" for sub_name, _, _ in subs) + ".", ""]
    for sub_name, sub_help, sub in subs:
        out += _command_section(sub_name, sub_help, sub, min(level + 1, 4), root)
    return out


def cli_reference(*, parser: argparse.ArgumentParser, root: Path | None = None) -> str:
    """Every command of ``parser`` with its usage, arguments and defaults, as a markdown page."""
    commands = list(_subparsers(parser))
    out = ["# Command line reference", "",
           "<!-- Generated from checkers.cli.build_parser() by checkers/authoring/cli_page.py. -->", "",
           "Everything the kit does runs through one command, `day07`. "
           "Each section below is written from the command's own `--help`, so it always matches the code.", "",
           "Exit codes: `0` everything passed or ran, `1` a check or the job failed, "
           "`2` the command could not run (bad usage, a bad file, no Java, no Spark).", "",
           "| command | what it does |", "|---|---|"]
    out += [f"| [`{parser.prog} {name}`](#{_anchor(f'{parser.prog} {name}')}) | {table_cell(summary)} |"
            for name, summary, _ in commands]
    out.append("")
    out += ["```text", _usage(parser), "```", ""]
    for name, summary, sub in commands:
        out += _command_section(name, summary, sub, 2, root)
    return "\n".join(out).rstrip() + "\n"


def _anchor(title: str) -> str:
    """The id mkdocs' toc extension gives a heading (default slugify)."""
    text = re.sub(r"[^\w\s-]", "", title).strip().lower()
    return re.sub(r"[-\s]+", "-", text)
