"""The folder rule: a deploy writes only inside the caller's own /Users folder."""

from __future__ import annotations

import pytest

from checkers.deploy import WorkspacePathError
from checkers.deploy.paths import check_workspace_dir, default_workspace_dir, notebook_path

ME = "learner@example.com"


@pytest.mark.parametrize(("given", "kept"), [
    (f"/Users/{ME}/day07", f"/Users/{ME}/day07"),
    (f"/Users/{ME}/day07/", f"/Users/{ME}/day07"),
    (f"/Workspace/Users/{ME}/courses/day07", f"/Workspace/Users/{ME}/courses/day07"),
    (f"/Users/{ME}", f"/Users/{ME}"),
    ("/Users/Learner@Example.com/day07", "/Users/Learner@Example.com/day07"),  # user names ignore case
])
def test_folders_in_your_home_are_accepted(given: str, kept: str) -> None:
    assert check_workspace_dir(given, user_name=ME) == kept


@pytest.mark.parametrize(("given", "says"), [
    ("/Shared/day07", "outside your own folder"),
    ("/Users/teacher@example.com/day07", "in the folder of teacher@example.com"),
    ("/Workspace/Repos/x", "outside your own folder"),
    ("/Users", "outside your own folder"),
    ("/", "outside your own folder"),
    ("day07", "not an absolute workspace path"),
    (f"/Users/{ME}/../teacher@example.com", "`..`"),
    (f"/Users/{ME}//day07", "empty"),
    (f"\\Users\\{ME}", "not an absolute"),
])
def test_other_folders_are_refused_with_the_rule(given: str, says: str) -> None:
    with pytest.raises(WorkspacePathError) as info:
        check_workspace_dir(given, user_name=ME)
    assert says in info.value.message


def test_a_dry_run_checks_the_shape_only() -> None:
    assert check_workspace_dir("/Users/anyone/day07", user_name=None) == "/Users/anyone/day07"
    with pytest.raises(WorkspacePathError):
        check_workspace_dir("/Shared/day07", user_name=None)


def test_notebook_paths_are_absolute_without_extension() -> None:
    folder = default_workspace_dir(ME)
    assert folder == f"/Users/{ME}/day07"
    assert notebook_path(folder, "01_bronze") == f"/Users/{ME}/day07/01_bronze"
