"""Grading a submission: run its own job on unseen data, read the tables back, run the checks, write the reports.

| module | holds |
|---|---|
| ``grade`` | ``grade_submission``: the flow for one submission |
| ``options`` | ``GradeOptions``, the unseen data's seed and size rules, the sandbox policy, tuning constants |
| ``runs`` | running the job (or the notebooks directly) and ``00_widgets``; what ran, as evidence |
| ``job_evidence`` | the job file loaded and validated, and whether the grader can run it |
| ``submission`` | the private copy of a submission (what it holds is found by ``checkers.jobs.project``) |
| ``expect`` | the expected tables, worked out in pandas from the raw file |
| ``checks`` | the checks, one module per contract group, and their registry |
| ``quality_run`` / ``quality_rule`` | the grader's run on a file that must fail the quality gate; the bad-row rule |
| ``declared`` | widget declarations read from a notebook's source |
| ``report`` / ``result`` | the report and its files (JSON, JUnit, Gradescope, console) |
| ``cohort`` / ``servers`` / ``gradebook`` / ``cohort_summary`` | grading a class: a server per worker, the gradebook |
| ``archives`` | safe unpacking of submitted ``.zip`` files, trimming of big outputs |

May import the layers below it (``errors``, ``config``, ``files``, ``sandbox``, ``data``, ``spark``, ``runtime``,
``notebooks``, ``jobs``); never ``deploy`` (a peer), ``feedback``, ``authoring``, ``workspace`` or ``cli``.
``checks`` and the modules it needs are also copied into the lessons' ``day07_checks`` bundle, so they import only
pandas, numpy, pyarrow and pyspark besides the kit.
"""
