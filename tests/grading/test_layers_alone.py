"""Which layer the grader replaces with its own table, so the layers after it are graded on their own."""

from __future__ import annotations

from checkers.grading.checks import NotebookRun
from checkers.grading.layers_alone import LAYERS, failed_layer


def _runs(**states: str) -> dict[str, NotebookRun]:
    stems = dict(zip(("bronze", "silver", "gold"), LAYERS, strict=True))
    return {stems[k]: NotebookRun(stem=stems[k], status=v, task_key=k) for k, v in states.items()}  # type: ignore[arg-type]


def every(_stem: str) -> bool:
    return True


def test_a_failed_bronze_or_silver_with_later_layers_not_run_is_replaced() -> None:
    assert failed_layer(_runs(bronze="failed", silver="not_run", gold="not_run"), present=every) == "01_bronze"
    assert failed_layer(_runs(bronze="success", silver="failed", gold="not_run"), present=every) == "02_silver"
    # silver ran anyway (run_if ALL_DONE) and failed: gold, never run, is still run on the grader's silver
    assert failed_layer(_runs(bronze="failed", silver="failed", gold="not_run"), present=every) == "01_bronze"


def test_nothing_is_replaced_when_every_layer_ran_or_the_job_never_reached_one() -> None:
    assert failed_layer(_runs(bronze="success", silver="success", gold="failed"), present=every) is None
    assert failed_layer(_runs(bronze="success", silver="not_run", gold="not_run"), present=every) is None


def test_a_layer_the_submission_lacks_is_not_run() -> None:
    only_bronze_and_silver = lambda stem: stem != "03_gold"  # noqa: E731
    assert failed_layer(_runs(bronze="success", silver="failed"), present=only_bronze_and_silver) is None
    assert failed_layer(_runs(bronze="failed", silver="not_run"), present=only_bronze_and_silver) == "01_bronze"
