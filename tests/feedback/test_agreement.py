"""One source of truth: a check cell shows ✅ exactly when the grader's check passes on the same tables.

A corpus of wrong variants, one per silver and gold rule, per widget property (the kind, default and choices of
``layer``, the kind of ``source_path``) and per task value, each a solution notebook with one exercise (or one line)
changed. Each variant runs in a real kernel on the sample, by hand (the check cells check), into a schema of its own.
Then the grader's ``run_checks`` runs on the tables it wrote, with the grader's own evidence: its table reader, its
expectations from the raw file, the executor's record of the run. Every verdict a check cell printed must be the
grader's: ✅ when the check passed, ❌ when it failed, ⚠️ when it errored. And each variant's mistake must be caught
by both, by the check named in the corpus.

A check cell judges its step on the learner's DataFrame finished with the solution's later steps; the steps before
the changed one are the solution's, so their check cells are left out here (the solution's own run shows them all
green). The cell checking the changed step and the cells checking the written tables run.
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import nbformat
import pytest

from checkers.config import PROJECT_ROOT
from checkers.grading.checks import (
    CellError,
    Evidence,
    JobEvidence,
    NotebookRun,
    PipelineRun,
    catalogue,
    precompute,
    run_checks,
    snapshot_tables,
)
from checkers.grading.declared import written_declarations
from checkers.grading.expect import compute_expectations
from checkers.jobs.project import BUNDLE_DIR
from checkers.notebooks.execute import NotebookResult, execute_notebook, prepare_kernels
from checkers.signals import SPARK_PREWARM

pytestmark = [pytest.mark.spark, pytest.mark.kernel]

SOLUTIONS = PROJECT_ROOT / "solutions"
SOURCE = "/Volumes/workspace/ecommerce/ecommerce_data/2019-Oct.csv"
WIDGET_PARAMETERS = {"layer": "silver", "source_path": "/Volumes/workspace/other/raw/events.csv"}
"""What the grader passes to 00_widgets (another layer and file than the defaults)."""
LAYERS = ("widgets", "bronze", "silver", "gold")
VERDICT = re.compile(r"^(✅|❌|⚠️|ℹ️|⏳) ([a-z_][a-z0-9_.]*): ", re.MULTILINE)
ICON_STATUS = {"✅": "passed", "❌": "failed", "⚠️": "error"}
TABLE_STEPS = ("bronze.table", "silver.table", "gold.tables")
WORKERS = 2


@dataclass(frozen=True)
class Variant:
    """One wrong answer: a solution notebook with one exercise's body (or one line) changed."""

    id: str
    stem: str
    fails: str
    """The grader check this mistake must fail (in the feedback too)."""
    exercise: str | None = None
    body: str = ""
    """The exercise's new code (replaces its solution region)."""
    replace: tuple[str, str] | None = None
    """Or: (old text, new text) anywhere in the notebook (a given cell)."""


VARIANTS = [
    # --- widgets: the kind, default and choices of layer, the kind of source_path, and the values read
    Variant("layer-is-text", "00_widgets", "widgets.declared", "widgets.declare",
            'dbutils.widgets.text("source_path", DEFAULT_SOURCE, "Source CSV")\n'
            'dbutils.widgets.text("layer", "bronze", "Layer")'),
    Variant("layer-default", "00_widgets", "widgets.declared", "widgets.declare",
            'dbutils.widgets.text("source_path", DEFAULT_SOURCE, "Source CSV")\n'
            'dbutils.widgets.dropdown("layer", "silver", ["bronze", "silver", "gold"], "Layer")'),
    Variant("layer-choices", "00_widgets", "widgets.declared", "widgets.declare",
            'dbutils.widgets.text("source_path", DEFAULT_SOURCE, "Source CSV")\n'
            'dbutils.widgets.dropdown("layer", "bronze", ["bronze", "silver"], "Layer")'),
    Variant("source-path-combobox", "00_widgets", "widgets.declared", "widgets.declare",
            'dbutils.widgets.combobox("source_path", DEFAULT_SOURCE, [DEFAULT_SOURCE], "Source CSV")\n'
            'dbutils.widgets.dropdown("layer", "bronze", ["bronze", "silver", "gold"], "Layer")'),
    Variant("layer-hard-coded", "00_widgets", "widgets.echo_passed", "widgets.read",
            'source_path = dbutils.widgets.get("source_path")\nlayer = "bronze"'),
    # --- bronze, and its task value
    Variant("bronze-drops-duplicates", "01_bronze", "bronze.rows", "bronze.ingest",
            'raw = spark.read.option("header", True).csv(source_path).dropDuplicates()\n'
            'bronze = raw.select("*", F.current_timestamp().alias("ingestion_ts"), '
            'F.col("_metadata.file_path").alias("source_file"))'),
    Variant("bronze-trims-event-type", "01_bronze", "bronze.values", "bronze.ingest",
            'raw = spark.read.option("header", True).csv(source_path)\n'
            'bronze = raw.withColumn("event_type", F.lower(F.trim("event_type"))).select('
            '"*", F.current_timestamp().alias("ingestion_ts"), F.col("_metadata.file_path").alias("source_file"))'),
    Variant("bronze-task-value-missing", "01_bronze", "bronze.task_value", "bronze.task_value",
            "bronze_rows = spark.table(bronze_table).count()"),
    # --- silver: one per rule, and its task value
    Variant("parse-shifted", "02_silver", "silver.parse_time", "silver.parse_time",
            'parsed = typed.withColumn("event_time", F.from_utc_timestamp(F.to_timestamp("event_time", '
            '"yyyy-MM-dd HH:mm:ss \'UTC\'"), "Asia/Tokyo")).filter(F.col("event_time").isNotNull())'),
    Variant("parse-wrong-pattern", "02_silver", "silver.kept_rows", "silver.parse_time",
            'parsed = typed.withColumn("event_time", F.try_to_timestamp("event_time", '
            'F.lit("yyyy-MM-dd\'T\'HH:mm:ss"))).filter(F.col("event_time").isNotNull())'),
    Variant("not-null-four", "02_silver", "silver.not_null", "silver.not_null",
            'complete = parsed.dropna(subset=["event_time", "event_type", "product_id", "user_id"])'),
    Variant("event-type-filter-first", "02_silver", "silver.event_type", "silver.event_type",
            'known_types = complete.filter(F.col("event_type").isin(EVENT_TYPES))'
            '.withColumn("event_type", F.lower(F.trim("event_type")))'),
    Variant("price-keeps-zero", "02_silver", "silver.price", "silver.price",
            'priced = known_types.filter((F.col("price") >= 0) & (F.col("price") < 10000))'),
    Variant("no-dedup", "02_silver", "silver.dedup", "silver.dedup", "deduped = priced"),
    Variant("fill-brand-only", "02_silver", "silver.unknown_fill", "silver.fill_unknown",
            'filled = deduped.fillna("unknown", subset=["brand"])'),
    Variant("tier-without-mid", "02_silver", "silver.derived", "silver.derive",
            'silver = filled.withColumn("event_date", F.to_date("event_time")).withColumn('
            '"price_tier", F.when(F.col("price") < 10, "budget").otherwise("premium"))'),
    Variant("silver-task-value-missing", "02_silver", "silver.task_value",
            replace=('dbutils.jobs.taskValues.set(key="silver_rows", value=silver_rows)\n', "")),
    # --- gold: the funnel, revenue (coalesce, round), conversion, daily sales
    Variant("funnel-counts-events", "03_gold", "gold.product_metrics.counts", "gold.funnel",
            'funnel = silver.groupBy("product_id").agg(\n'
            '    F.count(F.when(F.col("event_type") == "view", 1)).alias("views"),\n'
            '    F.count(F.when(F.col("event_type") == "cart", 1)).alias("carts"),\n'
            '    F.count(F.when(F.col("event_type") == "purchase", 1)).alias("purchases"),\n)'),
    Variant("revenue-no-coalesce", "03_gold", "gold.product_metrics.revenue", "gold.revenue",
            'revenue = silver.groupBy("product_id").agg(\n'
            '    F.round(F.sum(F.when(F.col("event_type") == "purchase", F.col("price"))), 2).alias("revenue"))'),
    Variant("revenue-rounded-to-1", "03_gold", "gold.product_metrics.revenue", "gold.revenue",
            'revenue = silver.groupBy("product_id").agg(\n'
            '    F.round(F.coalesce(F.sum(F.when(F.col("event_type") == "purchase", F.col("price"))), F.lit(0.0)), 1)'
            '.alias("revenue"))'),
    Variant("conversion-fraction", "03_gold", "gold.product_metrics.conversion", "gold.conversion",
            'product_metrics = metrics.withColumn("conversion_rate", F.when(F.col("views") > 0, '
            'F.round(F.col("purchases") / F.col("views"), 2)))'),
    Variant("conversion-unrounded", "03_gold", "gold.product_metrics.conversion", "gold.conversion",
            'product_metrics = metrics.withColumn("conversion_rate", F.when(F.col("views") > 0, '
            'F.col("purchases") / F.col("views") * 100))'),
    Variant("daily-buyers-are-events", "03_gold", "gold.daily_sales.counts", "gold.daily_sales",
            'daily_sales = (silver.filter(F.col("event_type") == "purchase").groupBy("event_date")\n'
            '               .agg(F.count("*").alias("orders"), F.count("user_id").alias("buyers"),\n'
            '                    F.round(F.sum("price"), 2).alias("revenue"))\n'
            '               .withColumn("avg_order_value", F.round(F.col("revenue") / F.col("orders"), 2)))'),
    Variant("daily-average-unrounded", "03_gold", "gold.daily_sales.revenue", "gold.daily_sales",
            'daily_sales = (silver.filter(F.col("event_type") == "purchase").groupBy("event_date")\n'
            '               .agg(F.count("*").alias("orders"), F.count_distinct("user_id").alias("buyers"),\n'
            '                    F.round(F.sum("price"), 2).alias("revenue"))\n'
            '               .withColumn("avg_order_value", F.col("revenue") / F.col("orders")))'),
]
UPSTREAM = {"00_widgets": (), "01_bronze": (), "02_silver": ("bronze_events",),
            "03_gold": ("bronze_events", "silver_events")}


# ------------------------------------------------------------------------------------------------ building


def _step(cell: Any) -> str | None:
    """The step a check cell checks (``feedback("silver.price")`` → ``silver.price``)."""
    match = re.fullmatch(r'feedback\("([a-z_.]+)"\)', cell.source.strip())
    return match.group(1) if match else None


def variant_notebook(variant: Variant) -> nbformat.NotebookNode:
    """The solution notebook with the variant's change, and the check cells of the steps before it left out."""
    nb = nbformat.read(str(SOLUTIONS / f"{variant.stem}.ipynb"), as_version=4)
    changed = None
    for index, cell in enumerate(nb.cells):
        if variant.exercise and f"# BEGIN SOLUTION {variant.exercise}:" in cell.source:
            lines = cell.source.split("\n")
            begin = next(i for i, line in enumerate(lines) if "# BEGIN SOLUTION" in line)
            end = next(i for i, line in enumerate(lines) if "# END SOLUTION" in line)
            cell.source = "\n".join(lines[:begin] + variant.body.split("\n") + lines[end + 1:])
            changed = index
        elif variant.replace and variant.replace[0] in cell.source:
            cell.source = cell.source.replace(*variant.replace)
            changed = index
    assert changed is not None, f"{variant.id}: nothing to change"
    kept = []
    first_after = True
    for index, cell in enumerate(nb.cells):
        step = _step(cell) if cell.cell_type == "code" else None
        if step is not None and variant.stem not in ("00_widgets", "01_bronze"):
            if index < changed or not (first_after or step in TABLE_STEPS):
                continue
            first_after = False
        elif step is not None and index < changed:
            continue
        kept.append(cell)
    nb.cells = kept
    return nb


@dataclass
class Ran:
    """One variant, run, with the grader's results on what it wrote."""

    variant: Variant
    result: NotebookResult
    cells: dict[str, str] = field(default_factory=dict)
    """Check cell step → what it printed."""
    grader: dict[str, Any] = field(default_factory=dict)
    """Check id → the grader's CheckResult."""


def _notebook_run(stem: str, result: NotebookResult) -> NotebookRun:
    error = None
    if result.failure is not None:
        error = CellError(ename=result.failure.ename, evalue=result.failure.evalue, cell=result.failure.cell_number)
    return NotebookRun(stem=stem, status=result.status, message=result.message, error=error, record=result.record)


@pytest.fixture(scope="module")
def corpus(spark: Any, notebook_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    from checkers.runtime.volumes import local_path

    work = tmp_path_factory.mktemp("agreement")
    folder = work / "notebooks"
    folder.mkdir()
    shutil.copytree(SOLUTIONS / BUNDLE_DIR, folder / BUNDLE_DIR, ignore=shutil.ignore_patterns("__pycache__"))
    source = local_path(SOURCE)

    # the upstream tables, once: the solutions as job tasks (their check cells skip)
    base = "agree_base"
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {base}")
    base_runs: dict[str, NotebookRun] = {}
    widget_env = {**notebook_env, SPARK_PREWARM: "0"}  # 00_widgets needs no Spark, as when the grader runs it
    widgets = sum(v.stem == "00_widgets" for v in VARIANTS)
    prepare_kernels(env=widget_env, kernels=widgets)
    prepare_kernels(env=notebook_env, kernels=2 + len(VARIANTS) - widgets)
    for stem in ("01_bronze", "02_silver"):
        result = execute_notebook(path=SOLUTIONS / f"{stem}.ipynb", parameters={"source_path": SOURCE, "schema": base},
                                  in_job=True, env=notebook_env, output_path=work / "base" / f"{stem}.ipynb")
        assert result.ok, result.message
        base_runs[stem] = _notebook_run(stem, result)
    expectations = precompute(compute_expectations(path=source))
    specs = [s for s in catalogue() if s.group in LAYERS]

    def run(index: int, variant: Variant) -> Ran:
        schema = f"agree_{index:02d}"
        spark.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        spark.sql(f"CREATE SCHEMA {schema}")
        for table in UPSTREAM[variant.stem]:
            spark.sql(f"CREATE VIEW {schema}.{table} AS SELECT * FROM {base}.{table}")
        nb = variant_notebook(variant)
        path = folder / f"{variant.stem}__{variant.id}.ipynb"
        nbformat.write(nb, str(path))
        parameters = dict(WIDGET_PARAMETERS) if variant.stem == "00_widgets" else {"source_path": SOURCE,
                                                                                   "schema": schema}
        result = execute_notebook(path=path, parameters=parameters, output_path=work / "out" / path.name,
                                  env=widget_env if variant.stem == "00_widgets" else notebook_env, cell_timeout=300)
        ran = Ran(variant, result)
        executed = nbformat.read(str(result.output_path), as_version=4)
        for cell in executed.cells:
            step = _step(cell) if cell.cell_type == "code" else None
            if step is not None:
                ran.cells[step] = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        # the grader, on what the variant wrote, with its own evidence
        this = _notebook_run(variant.stem, result)
        notebooks = {**base_runs, variant.stem: this} if variant.stem != "00_widgets" else dict(base_runs)
        evidence = Evidence(
            submission=None, schema=schema, source_path=source, seed=None,  # type: ignore[arg-type]
            job=JobEvidence(file=None), run=PipelineRun(mode="none"), notebooks=notebooks,
            widget_runs={"passed": this, "defaults": this} if variant.stem == "00_widgets" else {},
            widget_parameters=dict(WIDGET_PARAMETERS) if variant.stem == "00_widgets" else {},
            written={variant.stem: written_declarations(nb.cells)},
            tables=snapshot_tables(spark, schema=schema), expectations=expectations)
        ran.grader = {r.id: r for r in run_checks(evidence, specs=specs)}
        return ran

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="agreement") as pool:
        futures = [pool.submit(run, i, v) for i, v in enumerate(VARIANTS)]
        return {f.result().variant.id: f.result() for f in futures}


# ------------------------------------------------------------------------------------------------ the checks


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_check_cells_agree_with_the_grader(corpus: dict[str, Ran], variant: Variant) -> None:
    ran = corpus[variant.id]
    assert ran.result.ok, ran.result.message  # a wrong answer never stops the notebook at a check cell
    assert ran.cells, "no check cell ran"
    shown = 0
    for step, text in ran.cells.items():
        verdicts = VERDICT.findall(text)
        assert verdicts, f"[{step}] printed no verdict: {text!r}"
        for icon, check_id in verdicts:
            assert icon in ICON_STATUS, f"[{step}] {icon} {check_id}: not judged — {text}"
            grader = ran.grader[check_id]
            assert grader.status == ICON_STATUS[icon], (
                f"[{step}] the check cell shows {icon} {check_id}, the grader says {grader.status}: "
                f"{grader.message}\n--- cell:\n{text}")
            shown += 1
    assert shown


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_each_mistake_is_caught_by_both(corpus: dict[str, Ran], variant: Variant) -> None:
    ran = corpus[variant.id]
    assert ran.grader[variant.fails].status == "failed", ran.grader[variant.fails].message
    own = next(iter(ran.cells.values()))  # the check cell right after the change
    assert f"❌ {variant.fails}: " in own, own
