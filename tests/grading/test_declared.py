"""Widget declarations read from the notebook source, and the cross-check with what the runtime reported."""

from __future__ import annotations

import json

import nbformat

from checkers.grading.checks import catalogue
from checkers.grading.declared import conflict, written_declarations
from checkers.notebooks.formats import parse_source
from checkers.runtime.context import RuntimeRecord, WidgetDecl
from tests.grading.records import evidence, grade, run_00, widgets_00

WIDGET_CHECKS = [s for s in catalogue() if s.group == "widgets" and s.id != "widgets.parameters_used"]
LAYER = WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver", "gold"])


def cells(*sources: str) -> list:
    return [nbformat.v4.new_code_cell(s) for s in sources]


def test_literal_declarations_are_read_whatever_the_call_style() -> None:
    found = written_declarations(cells(
        'dbutils.widgets.text("source_path", "/Volumes/x.csv", "Source")',
        '%python\ndbutils.widgets.dropdown(name="layer", defaultValue="bronze", choices=["bronze", "silver", "gold"])',
        "%sql\nSELECT 1",
        "for n in ['a', 'b']:\n    dbutils.widgets.text(n, '')",
        "dbutils.widgets.combobox('c', DEFAULT, ['x'])",
        "this is not python(",
    ))
    assert [(w.name, w.kind, w.cell, w.default, w.choices) for w in found] == [
        ("source_path", "text", 0, "/Volumes/x.csv", None),
        ("layer", "dropdown", 1, "bronze", ("bronze", "silver", "gold")),
        ("c", "combobox", 4, None, ("x",)),
    ]


def test_databricks_source_format_cells_are_read_too() -> None:
    nb = parse_source("# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title\n\n# COMMAND ----------\n\n"
                      "dbutils.widgets.text('schema', 'day07')\n", path="x.py")
    assert [(w.name, w.kind, w.cell) for w in written_declarations(nb.cells)] == [("schema", "text", 1)]


def test_a_report_that_contradicts_the_source_is_a_conflict() -> None:
    written = written_declarations(cells('dbutils.widgets.text("layer", "bronze")'))
    assert conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver", "gold"], cell=0), written)
    assert conflict(WidgetDecl("layer", "text", "bronze", cell=0), written) is None
    assert conflict(WidgetDecl("layer", "text", "gold", cell=0), written)  # another default


def test_removed_and_redeclared_widgets_are_compared_in_their_own_cell() -> None:
    written = written_declarations(cells(
        'dbutils.widgets.text("layer", "bronze")',
        'dbutils.widgets.removeAll()\ndbutils.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"])'))
    assert conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver", "gold"], cell=1), written) is None
    assert conflict(WidgetDecl("layer", "text", "bronze", cell=0), written) is None
    assert conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver", "gold"], cell=0), written)


def test_declarations_the_source_does_not_spell_out_are_taken_as_reported() -> None:
    written = written_declarations(cells("%run ./helpers", "dbutils.widgets.text(NAME, 'x')"))
    assert conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze"], cell=0), written) is None


def test_a_forged_layer_declaration_fails_the_check_and_says_why() -> None:
    written = written_declarations(cells('import json\ndbutils.widgets.text("source_path", "")\n'
                                         'dbutils.widgets.text("layer", "bronze")'))
    ev = evidence()
    honest = grade(ev, WIDGET_CHECKS)
    assert honest["widgets.declared"].status == "passed"
    forged_layer = WidgetDecl("layer", "dropdown", "bronze", ["bronze", "silver", "gold"], cell=0)
    decls = widgets_00(layer=forged_layer, source=WidgetDecl("source_path", "text", "", cell=0))
    ev = evidence(passed=run_00({"layer": "gold", "source_path": "/data/events_seed7.csv"}, widgets=decls),
                  defaults=run_00({}, widgets=decls))
    ev.written = {"00_widgets": written}
    result = grade(ev, WIDGET_CHECKS)["widgets.declared"]
    assert result.status == "failed"
    assert "recorded and written declarations differ" in result.message
    assert "text widget" in result.message and "cell 1" in result.message


def test_task_notebook_declarations_are_cross_checked_too() -> None:
    ev = evidence()
    ev.written = {"02_silver": written_declarations(cells('dbutils.widgets.dropdown("schema", "day07", ["day07"])'))}
    result = grade(ev, WIDGET_CHECKS)["widgets.task_widgets"]
    assert result.status == "failed" and "02_silver" in result.message and "differ" in result.message


def test_record_events_after_an_exit_still_count_once() -> None:
    record = RuntimeRecord()
    for event in ({"kind": "widget", "name": "layer", "type": "dropdown", "default": "bronze",
                   "choices": ["bronze", "silver", "gold"]}, {"kind": "exit", "value": json.dumps({"a": 1})},
                  {"kind": "widget", "name": 3}, {"kind": "nonsense"}, {"kind": "task_value"}):
        record.apply(event, cell=2)
    assert [(w.name, w.cell) for w in record.widgets] == [("layer", 2)]
    assert record.exited and record.exit_value == '{"a": 1}'


def test_a_source_that_spells_out_every_widget_call_declares_only_those() -> None:
    """A report of a widget the source never declares was forged, when nothing in the source could declare it
    unseen; any way to do so (%run, %sql, a helper module, dbutils.widgets passed on, exec) keeps the old leniency."""
    spelled = written_declarations(cells('import json\ndbutils.widgets.text("source_path", "/x.csv")\n'
                                         'path = dbutils.widgets.get("source_path")', "%md\n# notes"))
    assert spelled.complete
    assert conflict(WidgetDecl("source_path", "text", "/x.csv", cell=0), spelled) is None
    never = conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze"], cell=0), spelled)
    assert never is not None and never.kind == "none" and "never declares" in never.describe()
    forged = written_declarations(cells('e = dbutils._emit\ne("widget", name="layer", type="dropdown")'))
    assert forged.complete and conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze"], cell=0), forged)
    for unseen in ("%run ./helpers", "from helpers import declare\ndeclare(dbutils)",
                   "w = dbutils.widgets\nw.text('a', '')", "%sql\nCREATE WIDGET TEXT layer DEFAULT 'bronze'",
                   "spark.sql(\"CREATE WIDGET TEXT layer DEFAULT ''\")",
                   "for n in ['layer']:\n    dbutils.widgets.text(n, '')", "exec(open('w.py').read())",
                   "from .helpers import declare"):
        written = written_declarations(cells('dbutils.widgets.text("source_path", "")', unseen))
        assert not written.complete, unseen
        assert conflict(WidgetDecl("layer", "dropdown", "bronze", ["bronze"], cell=1), written) is None, unseen
