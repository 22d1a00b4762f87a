"""Which submissions of a cohort share most of the code their learners wrote: a table for the instructor.

Every submission starts from the same lessons, so most of its code is the kit's. What a learner wrote is the
rest: the lines of the contract notebooks that appear in no lesson and no solution. A grading keeps those lines as
short hashes in its report (never the code itself); the cohort compares every pair. Two learners who solved the
exercises on their own share a few obvious lines; a copied folder shares nearly all of them. The table says which
pairs to look at. It is not proof, and it changes no score.

The kit's ``solutions/`` sit in the same repository as the lessons, so a second list names the submissions that hold
most of the reference solution's answers (its lines that are in no lesson).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from itertools import combinations
from pathlib import Path

from checkers.config import PROJECT_ROOT
from checkers.grading.kit_code import code_cells, without_comments

MIN_CHARS = 8
"""Shorter lines (``)``, ``df``, ``else:``) say nothing about who wrote them."""
MIN_LINES = 10
"""A pair is compared only when both learners wrote at least this many lines of their own."""
THRESHOLD = 0.8
"""Share of their own lines (Jaccard: shared / all distinct) from which a pair is listed."""
HASH_CHARS = 12


def _lines(code: str) -> set[str]:
    """The normalised lines of ``code``: comments and spacing gone, short lines left out."""
    out = set()
    for line in without_comments(code).splitlines():
        text = " ".join(line.split())
        if len(text) >= MIN_CHARS:
            out.add(text)
    return out


def notebook_lines(path: Path) -> frozenset[str]:
    """The normalised lines of every code cell of a notebook (read once per version of the file: a grading asks for
    its own code and for the reference answers it holds)."""
    stat = path.stat()
    return _notebook_lines(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _notebook_lines(path: str, _mtime_ns: int, _size: int) -> frozenset[str]:
    return frozenset(set().union(*(_lines(code) for _, code in code_cells(Path(path)))))


@functools.lru_cache(maxsize=2)
def _folder_lines(folder: Path) -> frozenset[str]:
    """Every line of the kit's notebooks in ``folder`` (``lessons/`` or ``solutions/``)."""
    return frozenset().union(*(notebook_lines(path) for path in sorted(folder.glob("*.ipynb"))))


def kit_lines() -> frozenset[str]:
    """Every line of the kit's own notebooks: the lessons (what a learner starts from) and the solutions."""
    return _folder_lines(PROJECT_ROOT / "lessons") | _folder_lines(PROJECT_ROOT / "solutions")


def answer_lines() -> frozenset[str]:
    """The lines of the reference solution's answers: in a solution notebook and in no lesson."""
    lessons = _folder_lines(PROJECT_ROOT / "lessons")
    return _folder_lines(PROJECT_ROOT / "solutions") - lessons if lessons else frozenset()


def solution_answers(notebooks: Mapping[str, Path | None]) -> dict[str, int] | None:
    """How many of the reference answers' lines the contract notebooks hold (``{"matched": m, "of": n}``).

    Learners who solve the exercises themselves write a few of those lines too (the short, obvious ones); a
    copy of the kit's ``solutions/`` holds nearly all. None when the kit has no solutions to compare with.
    """
    answers = answer_lines()
    if not answers:
        return None
    held: set[str] = set()
    for path in notebooks.values():
        if path is None:
            continue
        try:
            held |= notebook_lines(path) & answers
        except Exception:  # noqa: BLE001 - a notebook that cannot be read this way is not compared; never a crash
            continue
    return {"matched": len(held), "of": len(answers)}


def copies_of_the_solution(answers: Mapping[str, Mapping[str, int] | None], *,
                           threshold: float = THRESHOLD) -> list[dict[str, object]]:
    """The submissions holding at least ``threshold`` of the reference answers' lines, most first."""
    rows = []
    for sid, held in answers.items():
        if held and held.get("of") and held["matched"] / held["of"] >= threshold:
            rows.append({"id": sid, "matched": held["matched"], "of": held["of"],
                         "share": round(held["matched"] / held["of"], 3)})
    return sorted(rows, key=lambda r: (-float(r["share"]), str(r["id"])))  # type: ignore[arg-type]


def own_code(notebooks: Mapping[str, Path | None]) -> dict[str, list[str]]:
    """Contract notebook → the sorted hashes of the lines its learner wrote (not in the kit's notebooks)."""
    kit = kit_lines()
    if not kit:  # a kit without its lessons cannot tell what a learner wrote from what they were given
        return {}
    out: dict[str, list[str]] = {}
    for stem, path in sorted(notebooks.items()):
        if path is None:
            continue
        try:
            lines = notebook_lines(path) - kit
        except Exception:  # noqa: BLE001 - a notebook that cannot be read this way is not compared; never a crash
            continue
        if lines:
            out[stem] = sorted(hashlib.sha256(f"{stem}\n{line}".encode()).hexdigest()[:HASH_CHARS] for line in lines)
    return out


def similar_pairs(code: Mapping[str, Mapping[str, Iterable[str]]], *, threshold: float = THRESHOLD,
                  min_lines: int = MIN_LINES) -> list[dict[str, object]]:
    """Pairs of submissions whose own lines overlap at least ``threshold``, most similar first."""
    sets = {sid: frozenset(h for hashes in per_notebook.values() for h in hashes) for sid, per_notebook in code.items()}
    pairs = []
    for a, b in combinations(sorted(sid for sid, s in sets.items() if len(s) >= min_lines), 2):
        shared = len(sets[a] & sets[b])
        share = shared / len(sets[a] | sets[b])
        if share >= threshold:
            pairs.append({"a": a, "b": b, "shared_lines": shared, "lines": [len(sets[a]), len(sets[b])],
                          "similarity": round(share, 3)})
    return sorted(pairs, key=lambda p: (-float(p["similarity"]), str(p["a"]), str(p["b"])))  # type: ignore[arg-type]


def cohort_pairs(*, out_dir: Path, reports: Mapping[str, str | None]) -> list[dict[str, object]]:
    """The similar pairs of a graded cohort, from its reports (``id → report path`` relative to ``out_dir``)."""
    code: dict[str, dict[str, list[str]]] = {}
    for sid, data in _reports(out_dir, reports):
        own = data.get("own_code")
        if isinstance(own, dict):
            code[sid] = {str(k): [str(h) for h in v] for k, v in own.items() if isinstance(v, list)}
    return similar_pairs(code)


def cohort_copies(*, out_dir: Path, reports: Mapping[str, str | None]) -> list[dict[str, object]]:
    """The submissions of a graded cohort that hold most of the reference answers, from their reports."""
    answers: dict[str, dict[str, int]] = {}
    for sid, data in _reports(out_dir, reports):
        held = data.get("solution_answers")
        if isinstance(held, dict) and isinstance(held.get("matched"), int) and isinstance(held.get("of"), int):
            answers[sid] = {"matched": held["matched"], "of": held["of"]}
    return copies_of_the_solution(answers)


def _reports(out_dir: Path, reports: Mapping[str, str | None]) -> Iterable[tuple[str, dict[str, object]]]:
    for sid, report in reports.items():
        if not report:
            continue
        try:
            data = json.loads((out_dir / report).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            yield sid, data
