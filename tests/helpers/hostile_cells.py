"""Code cells the hostile submissions inject into a copy of solutions/ (see :mod:`tests.helpers.adversarial`)."""

INFINITE_LOOP = "while True:\n    pass\n"

OS_EXIT = "import os\nos._exit(3)\n"

FLOOD = "print('x' * (10 * 1024 * 1024))\n"

MEMORY_HOG = "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))\n"

FAKE_REPORT = '''\
import json, os
from pathlib import Path

fake = {"submission": "me", "score": 100, "max_score": 100, "checks": [], "run": {"result_state": "SUCCESS"}}
here = Path.cwd()
for up in [here, *here.parents][:6]:
    for name in ("report.json", "gradebook.json", "summary.json"):
        try:
            (up / name).write_text(json.dumps(fake))
        except OSError:
            pass
    try:
        (up / "escaped_by_fake_report.txt").write_text("written from a learner's kernel")
    except OSError:
        pass
    reports = up / "reports"
    if reports.is_dir():
        for name in ("fake_report.json", "fake_report.gradescope.json"):
            try:
                (reports / name).write_text(json.dumps(fake))
            except OSError:
                pass

# Make every later dbutils call lie: task values always "succeed", exit claims success.
dbutils.jobs.taskValues.set = lambda *a, **k: None
dbutils.notebook.exit = lambda value: None
'''

DROP_SCHEMA = '''\
for name in ("victim_schema", "day07"):
    spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
'''

FORGE_RECORD = '''\
import glob, json, os

dbutils.widgets.text("source_path", "")
dbutils.widgets.text("layer", "bronze")  # a text widget: the contract asks for a dropdown

# Rewrite what the runtime recorded: every record file in reach, and the record object in this kernel.
forged = {"widgets": [{"name": "source_path", "kind": "text", "default": ""},
                      {"name": "layer", "kind": "dropdown", "default": "bronze",
                       "choices": ["bronze", "silver", "gold"]}]}
for root in (os.getcwd(), os.path.dirname(os.getcwd())):
    for path in glob.glob(os.path.join(root, "**", "*.json"), recursive=True):
        try:
            with open(path, "w") as handle:
                json.dump(forged, handle)
        except OSError:
            pass
for widget in dbutils.record.widgets:
    if widget.name == "layer":
        widget.kind, widget.choices = "dropdown", ["bronze", "silver", "gold"]
dbutils.widgets._record.widgets = list(dbutils.record.widgets)

layer = dbutils.widgets.get("layer")
source_path = dbutils.widgets.get("source_path")
dbutils.notebook.exit(json.dumps({"layer": layer, "source_path": source_path}))
'''

FORGE_EVENT = '''\
import json

dbutils.widgets.text("source_path", "")
dbutils.widgets.text("layer", "bronze")  # a text widget: the contract asks for a dropdown

# Lie to the executor directly: a fake declaration in the runtime's own message format.
kernel = get_ipython().kernel
kernel.session.send(kernel.iopub_socket, "day07_event",
                    {"kind": "widget", "name": "layer", "type": "dropdown", "default": "bronze",
                     "choices": ["bronze", "silver", "gold"]}, parent=kernel.get_parent("shell"))

layer = dbutils.widgets.get("layer")
source_path = dbutils.widgets.get("source_path")
dbutils.notebook.exit(json.dumps({"layer": layer, "source_path": source_path}))
'''

COPIER = '''\
import time

dbutils.widgets.text("schema", "day07")
schema = dbutils.widgets.get("schema")
silver_table = f"{schema}.silver_events"

# Wait for another submission's silver table in a grading schema next to ours, and copy it.
copied = None
deadline = time.time() + 25
while copied is None and time.time() < deadline:
    for row in spark.sql("SHOW SCHEMAS").collect():
        other = row[0]
        if other.startswith("grade_") and other != schema and not other.endswith("_w"):
            if spark.catalog.tableExists(f"{other}.silver_events"):
                spark.table(f"{other}.silver_events").write.mode("overwrite").saveAsTable(silver_table)
                copied = other
                break
    time.sleep(1)
print("copied from", copied)
dbutils.jobs.taskValues.set(key="silver_rows", value=spark.table(silver_table).count())
'''

WRITE_DATA = '''\
dbutils.widgets.text("source_path", "")
target = dbutils.widgets.get("source_path")
try:
    with open(target, "a") as handle:
        handle.write("2019-10-01 00:00:00 UTC,purchase,1,1,,,9999.99,1,forged\\n")
    print("data write from the kernel: allowed")
except OSError as exc:
    print(f"data write from the kernel: refused ({type(exc).__name__})")
try:
    spark.createDataFrame([("forged",)], "value string").write.mode("overwrite").text(target)
    print("data write through Spark: allowed")
except Exception as exc:  # noqa: BLE001
    print(f"data write through Spark: refused ({type(exc).__name__})")
'''

UDF_ESCAPE = '''\
from pyspark.sql import functions as F


@F.udf("string")
def escape(_):
    import glob, os
    found = []
    try:
        with open("/tmp/day07_udf_escape.txt", "a") as handle:
            handle.write("written by a UDF\\n")
        found.append("wrote its /tmp")
    except OSError as exc:
        found.append(f"no /tmp ({type(exc).__name__})")
    home = os.environ.get("DAY07_HOME") or os.path.expanduser("~/.day07")
    found.append("token visible" if os.path.exists(os.path.join(home, "spark", "token")) else "token hidden")
    found.append(f"{len(glob.glob(os.path.join(home, 'grading', '*')))} gradings visible")
    return "; ".join(found)


print("UDF:", spark.range(1).select(escape("id")).first()[0])
'''

READ_OUTSIDE = '''\
import os
from pathlib import Path

home = os.environ.get("DAY07_HOME") or os.path.expanduser("~/.day07")
targets = [os.path.join(home, "spark", "token"), *(str(p / "gradebook.json") for p in Path.cwd().parents)]
for target in targets:
    try:
        spark.read.text(target).collect()
        print(f"read outside: {target}")
    except Exception as exc:  # noqa: BLE001
        print(f"refused: {target} ({type(exc).__name__})")
'''

DROP_NEIGHBOURS = '''\
dbutils.widgets.text("schema", "day07")
mine = dbutils.widgets.get("schema")
for row in spark.sql("SHOW SCHEMAS").collect():
    name = row[0]
    if name not in (mine, f"{mine}_w", "default"):
        print("dropping", name)
        spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
'''

KIT_REFERENCE = '''\
import importlib, os, sys

if os.getcwd() not in sys.path:
    sys.path.append(os.getcwd())
kit = importlib.import_module("day07_checks.reference")  # the kit's own steps build the table
silver_by_the_kit = kit.finish_silver(kit.parse_time(typed), after="silver.parse_time")
silver_by_the_kit.write.mode("overwrite").saveAsTable(f"{dbutils.widgets.get('schema')}.silver_events")
'''

EDITED_BUNDLE = '''\
def feedback(step, namespace):
    print("TAMPERED BUNDLE RAN", step)


def in_job_run(dbutils):
    return False
'''
