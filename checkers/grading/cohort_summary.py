"""The cohort summary: counts per status, score statistics, a histogram and the checks that fail most, as JSON and
Markdown (``summary.json``, ``summary.md``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from checkers.grading.gradebook import FAILED, PASSED, Gradebook

SUMMARY_JSON = "summary.json"
"""The summary's file name (for tools), in the cohort's out folder."""
SUMMARY_MD = "summary.md"
"""The summary's file name (for people)."""
HISTOGRAM_BINS = 10
"""Score histogram bins (10 points wide for a 100-point grade)."""


def summarize(book: Gradebook, *, shared_code: list[dict[str, Any]] | None = None,
              solution_copies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Counts per status, score statistics, a score histogram and the checks that fail most (the class's gaps);
    with ``shared_code``, the pairs of submissions that share most of their own code; with ``solution_copies``, the
    submissions that hold most of the reference solution's answers."""
    entries = sorted(book.entries.values(), key=lambda e: e.id)
    scored = [e for e in entries if e.score is not None and e.max_score]
    percents = [100.0 * e.score / e.max_score for e in scored if e.score is not None and e.max_score]
    bins = [0] * HISTOGRAM_BINS
    for p in percents:
        bins[min(HISTOGRAM_BINS - 1, int(p // (100 / HISTOGRAM_BINS)))] += 1
    width = 100 // HISTOGRAM_BINS
    histogram = [{"range": f"{i * width}-{(i + 1) * width - (0 if i == HISTOGRAM_BINS - 1 else 1)}",
                  "count": n} for i, n in enumerate(bins)]
    fails = Counter(cid for e in scored for cid in e.failed_checks)
    skips = Counter(cid for e in scored for cid in e.skipped_checks)
    ordered = sorted(percents)
    return {
        "seed": book.seed, "rows": book.rows, "submissions": len(entries),
        "statuses": dict(Counter(e.status for e in entries)),
        "score": {"mean": round(sum(percents) / len(percents), 2) if percents else None,
                  "median": _median(ordered), "min": ordered[0] if ordered else None,
                  "max": ordered[-1] if ordered else None},
        "histogram": histogram,
        "most_failed": [{"check": cid, "submissions": n, "share": round(n / len(scored), 3)}
                        for cid, n in fails.most_common(10)],
        "most_skipped": [{"check": cid, "submissions": n, "share": round(n / len(scored), 3)}
                         for cid, n in skips.most_common(10)],
        "not_graded": [{"id": e.id, "status": e.status, "message": e.message}
                       for e in entries if e.status not in (PASSED, FAILED)],
        "shared_code": list(shared_code or []),
        "solution_copies": list(solution_copies or []),
    }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    return round(values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2, 2)


def summary_markdown(summary: dict[str, Any]) -> str:
    lines = ["# Cohort summary\n", f"{summary['submissions']} submissions, graded on unseen data "
             f"(seed {summary['seed']}, {summary['rows']} rows).\n", "| status | submissions |", "|---|---|"]
    lines += [f"| {s} | {n} |" for s, n in sorted(summary["statuses"].items())]
    score = summary["score"]
    lines += ["", f"Score (% of required points): mean {score['mean']}, median {score['median']}, "
              f"min {score['min']}, max {score['max']}.", "", "## Score histogram", "", "| score % | submissions |",
              "|---|---|"]
    lines += [f"| {b['range']} | {b['count']} {'█' * b['count']} |" for b in summary["histogram"]]
    lines += ["", "## Checks that fail most", "", "| check | submissions | share |", "|---|---|---|"]
    lines += [f"| {f['check']} | {f['submissions']} | {f['share']:.0%} |" for f in summary["most_failed"]]
    if summary.get("most_skipped"):
        lines += ["", "## Checks skipped most", "",
                  "A check is skipped (0 points) when a check it needs did not pass; the cause is counted above.", "",
                  "| check | submissions | share |", "|---|---|---|"]
        lines += [f"| {f['check']} | {f['submissions']} | {f['share']:.0%} |" for f in summary["most_skipped"]]
    if summary.get("shared_code"):
        lines += ["", "## Submissions that share most of their own code", "",
                  "Lines each learner wrote (not the lessons' code), compared between every pair. Worth a look; "
                  "not proof, and no score changes.", "", "| submissions | own lines | shared | similarity |",
                  "|---|---|---|---|"]
        lines += [f"| {p['a']}, {p['b']} | {p['lines'][0]}, {p['lines'][1]} | {p['shared_lines']} | "
                  f"{p['similarity']:.0%} |" for p in summary["shared_code"]]
    if summary.get("solution_copies"):
        lines += ["", "## Submissions that hold the reference solution's answers", "",
                  "Lines of the kit's `solutions/` that are in no lesson, found in the submission's notebooks. "
                  "Learners who solve the exercises themselves write a few of them too. Worth a look; not proof, and "
                  "no score changes.", "", "| submission | answer lines held | share |", "|---|---|---|"]
        lines += [f"| {c['id']} | {c['matched']} of {c['of']} | {c['share']:.0%} |" for c in summary["solution_copies"]]
    if summary["not_graded"]:
        lines += ["", "## Not graded", "", "| id | status | why |", "|---|---|---|"]
        lines += [f"| {e['id']} | {e['status']} | {e['message'].replace('|', '/')} |" for e in summary["not_graded"]]
    return "\n".join(lines) + "\n"


def summary_json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
