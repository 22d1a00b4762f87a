"""The CLI's shared behaviour: usage errors exit 2 with a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, main


def test_every_command_module_is_registered() -> None:
    """A command group written but left out of COMMAND_MODULES would silently vanish from `day07`."""
    import checkers.cli as cli

    on_disk = {f"checkers.cli.{p.stem}" for p in Path(cli.__file__).parent.glob("*_cmd.py")}
    assert on_disk == set(cli.COMMAND_MODULES)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_UNUSABLE
    assert "usage: day07" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == EXIT_UNUSABLE
    assert "invalid choice" in capsys.readouterr().err


def test_bad_param_pair_names_it(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["notebook", "run", str(files / "notebooks" / "child.py"), "--param", "novalue"])
    assert code == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "novalue" in err and "KEY=VALUE" in err and "Traceback" not in err


def test_broken_notebook_is_one_clear_message(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notebook", "run", str(files / "notebooks" / "not_json.ipynb")]) == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "not_json.ipynb" in err and "not valid notebook JSON" in err and "Traceback" not in err


@pytest.mark.kernel
def test_notebook_run_exit_codes(files: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = main(["notebook", "run", str(files / "notebooks" / "child.py"), "-p", "name=cli",
               "--out", str(tmp_path / "child.ipynb")])
    assert ok == EXIT_OK
    assert "hello cli" in capsys.readouterr().out
    assert (tmp_path / "child.ipynb").exists()
    failed = main(["notebook", "run", str(files / "notebooks" / "raises_in_cell_3.py"),
                   "--out", str(tmp_path / "f.ipynb")])
    assert failed == EXIT_FAILED
    assert "cell 3 raised ValueError" in capsys.readouterr().err
