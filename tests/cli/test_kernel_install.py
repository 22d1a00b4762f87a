"""`day07 kernel install`: into this environment by default, never over another environment's user-wide kernel."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from checkers import kernelspec
from checkers.kernelspec import KERNEL_NAME

Day07 = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """This environment's prefix and the user's Jupyter folder, moved under tmp_path; Jupyter searches the
    environment first, as it does inside a virtual environment."""
    env, user = tmp_path / "env", tmp_path / "user"
    monkeypatch.setattr(kernelspec, "environment_prefix", lambda: str(env))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(user))
    monkeypatch.setattr(kernelspec, "kernel_dirs", lambda: [env / "share" / "jupyter" / "kernels", user / "kernels"])
    return {"env": env / "share" / "jupyter" / "kernels" / KERNEL_NAME, "user": user / "kernels" / KERNEL_NAME}


def _spec(folder: Path) -> dict[str, object]:
    return json.loads((folder / "kernel.json").read_text(encoding="utf-8"))


def _other_environments_kernel(folder: Path) -> str:
    folder.mkdir(parents=True)
    text = json.dumps({"argv": ["/elsewhere/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                       "display_name": "Day 07 (another checkout)", "language": "python"})
    (folder / "kernel.json").write_text(text, encoding="utf-8")
    return text


def test_the_default_prefix_is_this_environment() -> None:
    assert kernelspec.environment_prefix() == sys.prefix


def test_install_goes_into_this_environment_by_default(day07: Day07, places: dict[str, Path]) -> None:
    code, out, err = day07("kernel", "install")
    assert code == 0, err
    assert _spec(places["env"])["argv"][0] == sys.executable  # type: ignore[index]
    assert not places["user"].exists()
    assert str(places["env"]) in out and "uv run jupyter lab" in out and "warning" not in err


def test_user_install_never_replaces_another_environments_kernel(day07: Day07, places: dict[str, Path]) -> None:
    before = _other_environments_kernel(places["user"])
    code, _, err = day07("kernel", "install", "--user")
    assert code == 2
    assert "/elsewhere/.venv/bin/python" in err and "jupyter kernelspec remove day07" in err
    assert (places["user"] / "kernel.json").read_text(encoding="utf-8") == before
    # Into this environment is fine: the other kernel is left as it was.
    assert day07("kernel", "install")[0] == 0
    assert (places["user"] / "kernel.json").read_text(encoding="utf-8") == before


def test_user_install_replaces_its_own_kernel(day07: Day07, places: dict[str, Path]) -> None:
    assert day07("kernel", "install", "--user")[0] == 0
    assert _spec(places["user"])["argv"][0] == sys.executable  # type: ignore[index]
    assert day07("kernel", "install", "--user")[0] == 0


def test_a_kernel_jupyter_would_find_first_is_named(day07: Day07, places: dict[str, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _other_environments_kernel(places["user"])
    # Outside a virtual environment Jupyter searches the user's folder first.
    monkeypatch.setattr(kernelspec, "kernel_dirs", lambda: [places["user"].parent, places["env"].parent])
    code, _, err = day07("kernel", "install")
    assert code == 0
    assert "warning" in err and str(places["user"]) in err and "jupyter kernelspec remove day07" in err


def test_start_installs_the_kernel_too_unless_told_not_to(day07: Day07, places: dict[str, Path],
                                                          tmp_path: Path) -> None:
    assert day07("start", str(tmp_path / "work"), "--no-kernel")[0] == 0
    assert not places["env"].exists()
    code, out, _ = day07("start", str(tmp_path / "work"))
    assert code == 0 and _spec(places["env"])["argv"][0] == sys.executable  # type: ignore[index]
    assert "Installed kernel" in out
