"""`platform/` is a source root, not a package: it must never shadow the standard library."""

import platform
import sysconfig
from pathlib import Path


def test_platform_is_the_standard_library_module() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)


def test_repository_platform_folder_has_no_init() -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / "platform" / "tandem" / "__init__.py").exists()
    assert not (root / "platform" / "__init__.py").exists()
