"""One configuration surface: every knob declared once in ``Settings``, read with clear errors, listed in the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checkers import signals
from checkers.authoring.settings_page import settings_reference
from checkers.config import PROJECT_ROOT, Settings, knobs, settings
from checkers.errors import ConfigError

KNOB = re.compile(r"(?<![A-Za-z0-9_])DAY07_[A-Z0-9_]+")
ERROR_CLASSES = {"DAY07_DELTA_NOT_EMULATED"}
"""Names that look like knobs but are error classes the local runtime raises (shown as ``[NAME]``)."""


def _user_facing_files() -> list[Path]:
    files = [*(PROJECT_ROOT / "checkers").rglob("*.py"), *(PROJECT_ROOT / "docs").rglob("*.md"),
             PROJECT_ROOT / "README.md"]
    return [path for path in files if "day07_checks" not in path.parts]


def test_every_day07_name_a_user_can_set_is_a_setting() -> None:
    declared = {env for env, *_ in knobs()}
    named = {(match, str(path.relative_to(PROJECT_ROOT))) for path in _user_facing_files()
             for match in KNOB.findall(path.read_text(encoding="utf-8"))}
    assert sorted((name, where) for name, where in named if name not in declared | ERROR_CLASSES) == []


def test_the_settings_page_lists_every_setting_with_its_default() -> None:
    page = settings_reference()
    for env, *_ in knobs():
        assert f"| `{env}` |" in page
    assert "| `DAY07_KERNEL_POOL` | whole number | `2` |" in page


def test_signals_cannot_be_mistaken_for_settings() -> None:
    declared = {env for env, *_ in knobs()}
    assert signals.ALL and all(name.startswith("_DAY07_") for name in signals.ALL)
    assert not declared & set(signals.ALL)
    assert len(set(signals.ALL)) == len(signals.ALL)


def test_settings_read_their_types_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path))
    monkeypatch.setenv("DAY07_KERNEL_POOL", "3")
    monkeypatch.setenv("DAY07_SANDBOX", "off")
    monkeypatch.setenv("DAY07_CELL_TIMEOUT", "12.5")
    monkeypatch.setenv("DAY07_SPARK_MEMORY", " 4g ")
    monkeypatch.setenv("DAY07_SHARED_DIR", "")
    s = settings()
    assert (s.home, s.kernel_pool, s.sandbox, s.cell_timeout, s.spark_memory) == (tmp_path, 3, False, 12.5, "4g")
    assert isinstance(s.kernel_pool, int) and s.shared_dir is None
    assert s.volumes_dir == tmp_path / "volumes"


def test_unset_settings_take_their_declared_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for env, *_ in knobs():
        monkeypatch.delenv(env, raising=False)
    s = settings()
    assert s.home == Path.home() / ".day07"
    assert (s.kernel_pool, s.display_rows, s.deploy_retry_timeout, s.chromium) == (2, 100, 30, None)
    assert s == Settings()


@pytest.mark.parametrize(("env", "value", "words"), [
    ("DAY07_KERNEL_POOL", "two", "not a whole number"),
    ("DAY07_KERNEL_POOL", "1.5", "not a whole number"),
    ("DAY07_KERNEL_POOL", "-1", "below 0"),
    ("DAY07_CELL_TIMEOUT", "ten", "not a number"),
    ("DAY07_SANDBOX", "maybe", "not on or off"),
    ("DAY07_SHARED_DIR", "relative/dir", "not an absolute path"),
    ("DAY07_DISPLAY_ROWS", "0", "below 1"),
])
def test_a_bad_value_names_the_variable_and_the_fix(monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                                    words: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=words) as info:
        settings()
    assert env in str(info.value) and env in (info.value.hint or "")


def test_a_relative_home_is_made_absolute_so_every_process_finds_the_same_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAY07_HOME", "kit-home")
    assert settings().home == tmp_path / "kit-home"
