"""Python libraries Databricks has and the local kernel lacks: an import that fails says how to get the library.

Databricks Runtime ships hundreds of libraries (scikit-learn, plotly, scipy, ...); the kit's environment has what
the lessons and the usual participant notebook need (pandas, numpy, pyarrow, matplotlib, seaborn). A notebook that
imports anything else stops at the import, as it would on a cluster without the library, and the message names
the command that installs it into the kit's environment.
"""

from __future__ import annotations

import importlib.util
import sys

PACKAGE_NAMES = {"sklearn": "scikit-learn", "cv2": "opencv-python", "yaml": "pyyaml", "PIL": "pillow",
                 "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "dotenv": "python-dotenv",
                 "mlflow": "mlflow-skinny"}
"""Import names whose package on PyPI is called something else."""
DOCS_ANCHOR = "docs/emulation.md#python-libraries"


def install_command(args: str) -> str:
    """The command that runs ``pip <args>`` for the kit's own Python: pip when it has pip, else uv's pip (a uv
    environment, the README's set-up, has no pip of its own)."""
    if importlib.util.find_spec("pip") is not None:
        return f"{sys.executable} -m pip {args}"
    return f"uv pip {args} --python {sys.executable}"


def missing_module_hint(exc: ModuleNotFoundError) -> str | None:
    """What to do about a library that is not installed here; None when the module is part of the notebook's own
    code or of a package that is installed (a wrong submodule name is the notebook's own mistake)."""
    name = getattr(exc, "name", None)
    if not isinstance(name, str) or not name:
        return None
    top = name.split(".")[0]
    if top in sys.modules or importlib.util.find_spec(top) is not None:
        return None
    package = PACKAGE_NAMES.get(top, top.replace("_", "-"))
    return (f"Databricks Runtime may have {package} preinstalled; the local kit's Python does not. Install it once "
            f"from a terminal: {install_command(f'install {package}')} (see {DOCS_ANCHOR}).")


def explain(exc: ModuleNotFoundError) -> ModuleNotFoundError:
    """Add the hint to the exception's message (once), so the cell's error and the run's report both show it."""
    hint = missing_module_hint(exc)
    if hint and exc.args and isinstance(exc.args[0], str) and hint not in exc.args[0]:
        exc.msg = f"{exc.args[0]}. {hint}"  # ImportError's own field, which str() shows
        exc.args = (exc.msg, *exc.args[1:])
    return exc
