"""A grading's own /Volumes: the kit's files to read, a place of its own to write."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.grading import volumes_mirror
from checkers.grading.volumes_mirror import mirror_volumes, remove_mirror
from checkers.runtime.volumes import local_path, volumes_root
from checkers.signals import VOLUMES_ROOT


@pytest.fixture()
def kit(tmp_path: Path) -> Path:
    sample = tmp_path / "kit" / "workspace" / "ecommerce" / "ecommerce_data" / "2019-Oct.csv"
    sample.parent.mkdir(parents=True)
    sample.write_text("event_time\n", encoding="utf-8")
    return tmp_path / "kit"


def test_the_mirror_reads_the_kits_files_and_takes_writes_of_its_own(kit: Path, tmp_path: Path) -> None:
    mirror = mirror_volumes(source=kit, dest=tmp_path / "grading" / "volumes")
    copy = mirror / "workspace" / "ecommerce" / "ecommerce_data" / "2019-Oct.csv"
    assert copy.is_symlink() and copy.read_text(encoding="utf-8") == "event_time\n"
    assert not copy.parent.is_symlink()  # a real folder: new files land in the mirror
    (copy.parent / "_checkpoint").mkdir()
    (mirror / "workspace" / "grade_x" / "lake").mkdir(parents=True)
    assert sorted(p.name for p in (kit / "workspace").iterdir()) == ["ecommerce"]
    assert not (kit / "workspace" / "ecommerce" / "ecommerce_data" / "_checkpoint").exists()
    remove_mirror(mirror)
    assert not mirror.exists() and (kit / "workspace" / "ecommerce" / "ecommerce_data" / "2019-Oct.csv").is_file()


def test_a_mirror_made_again_starts_clean(kit: Path, tmp_path: Path) -> None:
    mirror = mirror_volumes(source=kit, dest=tmp_path / "volumes")
    (mirror / "left_over.txt").write_text("from the previous submission", encoding="utf-8")
    assert not (mirror_volumes(source=kit, dest=mirror) / "left_over.txt").exists()


def test_a_big_volumes_folder_is_mirrored_volume_by_volume(kit: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(volumes_mirror, "MIRROR_MAX_FILES", 0)
    mirror = mirror_volumes(source=kit, dest=tmp_path / "volumes")
    volume = mirror / "workspace" / "ecommerce" / "ecommerce_data"
    assert volume.is_symlink() and (volume / "2019-Oct.csv").is_file()


def test_a_kernel_told_of_a_private_root_maps_volume_paths_there(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(VOLUMES_ROOT, raising=False)
    assert local_path("/Volumes/workspace/s/v/a.csv") == tmp_path / "home" / "volumes" / "workspace/s/v/a.csv"
    monkeypatch.setenv(VOLUMES_ROOT, str(tmp_path / "grading" / "volumes"))
    assert volumes_root() == tmp_path / "grading" / "volumes"
    assert local_path("dbfs:/Volumes/workspace/s/v/a.csv") == tmp_path / "grading" / "volumes" / "workspace/s/v/a.csv"
