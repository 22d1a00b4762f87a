"""The solution notebooks run locally as job tasks and write exactly the tables the contract asks for.

Expected tables come from ``checkers.grading.expect`` (pandas, from the raw file alone), never from a notebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from checkers.grading.expect import DEDUP_KEY, SILVER_COLUMNS, Expectations, compute_expectations
from checkers.notebooks.execute import execute_notebook
from tests.content.helpers import (
    BAD,
    CANNOT,
    GOOD,
    NOT_DONE,
    NOTE,
    PIPELINE,
    SOLUTIONS,
    PipelineRun,
    check_cells,
    job_parameters,
    printed,
)

pytestmark = [pytest.mark.spark, pytest.mark.kernel]

MONEY = 0.01
RAW = ["event_time", "event_type", "product_id", "category_id", "category_code", "brand", "price", "user_id",
       "user_session"]


@pytest.fixture(scope="module", params=["sample", "200k"])
def pipeline(request: pytest.FixtureRequest) -> tuple[PipelineRun, Expectations]:
    run: PipelineRun = request.getfixturevalue("sample_run" if request.param == "sample" else "big_run")
    failed = [r.message for r in run.results.values() if not r.ok]
    assert not failed and len(run.results) == len(PIPELINE), failed
    return run, compute_expectations(path=run.source)


def _table(spark: Any, name: str) -> pd.DataFrame:
    return spark.table(name).toPandas()


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by, kind="stable").reset_index(drop=True)


def test_task_values_count_the_rows_written(pipeline: tuple[PipelineRun, Expectations]) -> None:
    run, expected = pipeline
    assert run.results["01_bronze"].record.task_values == {"bronze_rows": expected.bronze.rows}
    assert run.results["02_silver"].record.task_values == {"silver_rows": expected.silver.rows}


def test_bronze_keeps_every_raw_row_with_ingestion_metadata(spark: Any,
                                                           pipeline: tuple[PipelineRun, Expectations]) -> None:
    run, expected = pipeline
    bronze = _table(spark, f"{run.schema}.bronze_events")
    assert list(bronze.columns) == [*RAW, "ingestion_ts", "source_file"]
    assert bronze["ingestion_ts"].notna().all()
    assert all(expected.bronze.matches_source_file(v) for v in bronze["source_file"].unique())
    # The raw text, unchanged: compare as sorted text rows (null as a marker no raw value has).
    got = _sorted(bronze[RAW].astype(object).where(bronze[RAW].notna(), "\0"), RAW)
    want = _sorted(expected.raw[RAW].astype(object).where(expected.raw[RAW].notna(), "\0"), RAW)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_silver_matches_the_contract_row_for_row(spark: Any, pipeline: tuple[PipelineRun, Expectations]) -> None:
    run, expected = pipeline
    silver = _table(spark, f"{run.schema}.silver_events")
    assert list(silver.columns) == list(SILVER_COLUMNS)
    assert dict(spark.table(f"{run.schema}.silver_events").dtypes) == {
        "event_time": "timestamp", "event_type": "string", "product_id": "bigint", "category_id": "bigint",
        "category_code": "string", "brand": "string", "price": "double", "user_id": "bigint",
        "user_session": "string", "event_date": "date", "price_tier": "string"}
    want = expected.silver.frame.copy()
    want["event_time"] = want["event_time"].dt.tz_convert("UTC").dt.tz_localize(None)
    got = silver.copy()
    got["event_time"] = pd.to_datetime(got["event_time"])
    key = list(DEDUP_KEY)
    got, want = _sorted(got, key), _sorted(want, key)
    assert len(got) == len(want) == expected.silver.rows
    for column in SILVER_COLUMNS:
        if column == "price":
            np.testing.assert_allclose(got[column].to_numpy(float), want[column].to_numpy(float), atol=1e-9)
        elif column == "event_time":
            assert (got[column].to_numpy("datetime64[us]") == want[column].to_numpy("datetime64[us]")).all()
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


def _assert_money(got: pd.Series, want: pd.Series, column: str) -> None:
    g, w = got.to_numpy(float), want.to_numpy(float)
    assert (np.isnan(g) == np.isnan(w)).all(), f"{column}: nulls differ"
    both = ~np.isnan(w)
    worst = float(np.max(np.abs(g[both] - w[both]), initial=0.0))
    assert worst <= MONEY + 1e-9, f"{column} differs by up to {worst}"


def test_gold_product_metrics_match(spark: Any, pipeline: tuple[PipelineRun, Expectations]) -> None:
    run, expected = pipeline
    got = _sorted(_table(spark, f"{run.schema}.gold_product_metrics"), ["product_id"])
    want = expected.gold_product_metrics
    assert sorted(got.columns) == sorted(want.columns)
    assert len(got) == len(want)
    for column in ("product_id", "views", "carts", "purchases"):
        assert got[column].astype("int64").tolist() == want[column].tolist(), column
    for column in ("revenue", "conversion_rate"):
        _assert_money(got[column], want[column], column)


def test_gold_daily_sales_match(spark: Any, pipeline: tuple[PipelineRun, Expectations]) -> None:
    run, expected = pipeline
    got = _sorted(_table(spark, f"{run.schema}.gold_daily_sales"), ["event_date"])
    want = expected.gold_daily_sales
    assert sorted(got.columns) == sorted(want.columns)
    assert [str(d) for d in got["event_date"]] == [str(d) for d in want["event_date"]]
    for column in ("orders", "buyers"):
        assert got[column].astype("int64").tolist() == want[column].tolist(), column
    for column in ("revenue", "avg_order_value"):
        _assert_money(got[column], want[column], column)


def test_every_feedback_cell_is_green_by_hand_and_one_line_in_a_job(
        pipeline: tuple[PipelineRun, Expectations]) -> None:
    """Run by hand (the sample), every check cell runs the grader's checks and all pass. As a job task (200k rows),
    each prints one line saying it skipped, and runs nothing: feedback never taxes a job run."""
    from checkers.feedback import JOB_RUN_NOTE

    run, _ = pipeline
    for stem, result in run.results.items():
        assert result.output_path is not None
        cells = check_cells(result.output_path)
        assert cells, f"{stem} has no feedback cells"
        for cell in cells:
            text = printed(cell)
            if run.in_job:
                step = cell.source.split('"')[1]
                assert text == f"{NOTE} {step}: {JOB_RUN_NOTE}\n", f"{stem} [{cell.id}]: {text!r}"
                continue
            assert GOOD in text, f"{stem} [{cell.id}] printed no finding: {text!r}"
            assert not any(mark in text for mark in (BAD, NOT_DONE, CANNOT)), f"{stem} [{cell.id}]: {text}"
            assert "only the checks that need no expected values ran" not in text, text  # the sample is small


@pytest.mark.parametrize("passed", [{}, {"layer": "gold", "source_path": "/Volumes/workspace/other/raw/x.csv"}],
                         ids=["defaults", "job-parameters"])
def test_widgets_notebook_echoes_what_it_received(tmp_path: Path, passed: dict[str, str]) -> None:
    # by hand, values typed into the widgets (or passed with `day07 notebook run -p`): the check cells check them
    result = execute_notebook(path=SOLUTIONS / "00_widgets.ipynb", parameters=passed,
                              output_path=tmp_path / "00_widgets.ipynb")
    assert result.ok, result.message
    default_source = job_parameters()["source_path"]
    assert json.loads(result.exit_value or "") == {"layer": passed.get("layer", "bronze"),
                                                   "source_path": passed.get("source_path", default_source)}
    widgets = {w.name: w for w in result.record.widgets}
    assert (widgets["source_path"].kind, widgets["source_path"].default) == ("text", default_source)
    assert (widgets["layer"].kind, widgets["layer"].default, widgets["layer"].choices) == (
        "dropdown", "bronze", ["bronze", "silver", "gold"])
    assert {"source_path", "layer"} <= set(result.record.widgets_read)
    for cell in check_cells(tmp_path / "00_widgets.ipynb"):
        assert GOOD in printed(cell) and BAD not in printed(cell)
