"""Code cells the hostile submissions inject into a copy of solutions/ (read by tests/grading/adversarial.py)."""

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
