"""The grader's unseen data always has rows on the rules' edges (checkers.data.edges)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from checkers.data.edges import PRICE_EDGES, set_edges
from checkers.data.generate import generate_events


def test_edges_are_set_in_place_the_same_way_for_a_seed(tmp_path: Path) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    for path in (one, two):
        generate_events(out=path, rows=5000, seed=11)
    before = one.read_text(encoding="utf-8").splitlines()
    changed = set_edges(one, seed=11)
    assert changed == set_edges(two, seed=11) and one.read_bytes() == two.read_bytes()  # reproducible
    after = one.read_text(encoding="utf-8").splitlines()
    assert len(after) == len(before) and sum(a != b for a, b in zip(before, after, strict=True)) == changed > 4
    rows = list(csv.reader(after[1:]))
    prices = Counter(r[6] for r in rows)
    assert all(prices[p] >= PRICE_EDGES.count(p) for p in set(PRICE_EDGES))
    # two products in one second of a session, and still: rows with the same dedup key are identical
    triples = Counter((r[8], r[0], r[1]) for r in rows if r[8] and r[0])
    assert any(n > 1 for n in triples.values())
    by_key: dict[tuple[str, ...], set[str]] = {}
    for line, r in zip(after[1:], rows, strict=True):
        by_key.setdefault((r[8], r[0], r[1].strip().lower(), r[2]), set()).add(line)
    assert all(len(lines) == 1 for lines in by_key.values())
