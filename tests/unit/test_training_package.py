"""The training content travels as package data: an installed wheel finds and validates it.

The Dockerfile installs the wheel, so a loader that looks for `training_content/` beside the
checkout works in development and fails in production. This builds the wheel, installs it into a
fresh virtual environment (its dependencies borrowed from the project's environment, so nothing
is downloaded) and loads the track from there, with the checkout off the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOAD = """
import json
from tandem.training import content
track = content.load_track()
print(json.dumps({"root": str(content.CONTENT_ROOT), "modules": len(track.modules),
                  "questions": sum(len(m.questions) for m in track.modules)}))
"""


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    work = tmp_path_factory.mktemp("wheel")
    _run(uv, "build", "--wheel", "--out-dir", work / "dist", ROOT, cwd=work)
    [wheel] = (work / "dist").glob("tandem-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    _run(uv, "pip", "install", "--no-deps", "--python", python, wheel, cwd=work)
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work)
    # Dependencies from the project's environment; a .pth line adds a directory without reading
    # the .pth files inside it, so the project's editable install stays out.
    (Path(site.strip()) / "tandem_test_deps.pth").write_text(sysconfig.get_paths()["purelib"])
    return python


def test_an_installed_wheel_loads_and_validates_the_track(
    installed_python: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    found = json.loads(_run(installed_python, "-c", LOAD, cwd=tmp_path, env=env))
    venv = installed_python.parents[1]
    assert Path(found["root"]).is_relative_to(venv), found  # site-packages, not the checkout
    assert found["modules"] == 8
    assert found["questions"] == 148
