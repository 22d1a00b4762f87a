"""Spark settings the runner asks a kernel's session for (the grader: interpreted execution for small tables)."""

from __future__ import annotations

import json

import pytest

from checkers.runtime import kernel
from checkers.spark.memory import SMALL_DATA_SQL_CONFS


class Conf:
    def __init__(self, refuse: str = "") -> None:
        self.values: dict[str, str] = {}
        self.refuse = refuse

    def set(self, key: str, value: str) -> None:
        if key == self.refuse:
            raise RuntimeError(f"cannot set {key}")
        self.values[key] = value


class Session:
    def __init__(self, refuse: str = "") -> None:
        self.conf = Conf(refuse)


def test_the_settings_the_runner_asks_for_are_set_on_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kernel.SPARK_SESSION_CONF, json.dumps(SMALL_DATA_SQL_CONFS))
    session = Session()
    kernel._apply_session_confs(session)
    assert session.conf.values == SMALL_DATA_SQL_CONFS


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]"])
def test_nothing_or_nonsense_sets_nothing(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(kernel.SPARK_SESSION_CONF, raw)
    session = Session()
    kernel._apply_session_confs(session)
    assert session.conf.values == {}


def test_a_refused_setting_never_costs_the_notebook_its_spark(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kernel.SPARK_SESSION_CONF, json.dumps({"a": "1", "b": "2"}))
    session = Session(refuse="a")
    kernel._apply_session_confs(session)
    assert session.conf.values == {"b": "2"}
