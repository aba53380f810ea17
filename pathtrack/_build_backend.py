"""The build backend: setuptools', which first compiles the polynomial kernels ahead of time.

``pyproject.toml`` names it (``backend-path = ["."]``). Before a wheel or an editable install is built,
:mod:`pathtrack.polynomial.aotbuild` runs in a subprocess and writes the extension ``_aot_kernels`` into
the source tree, so the first ``pathtrack solve`` does not wait for Numba to compile, and ``_aot_curves``
with the two-parameter curves' small kernels. Where that fails
(no C compiler, an unsupported Numba) the build goes on without it and pathtrack uses the Numba
kernels. ``PATHTRACK_AOT=0`` skips the compile (and its build requirements).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403  (the hooks this module does not change)

ROOT = Path(__file__).resolve().parents[1]
#: What the compile imports in the build environment (pip's isolated one installs them).
AOT_REQUIRES = ["numba>=0.58", "numpy>=1.24"]
#: Loads the kernels without pathtrack.polynomial's __init__ (which imports SciPy, not a build requirement).
_COMPILE = """
import sys, types
for name in ("pathtrack", "pathtrack.polynomial", "pathtrack.kernels"):
    module = types.ModuleType(name)
    module.__path__ = [sys.argv[1] + "/" + name.replace(".", "/")]
    sys.modules[name] = module
from pathtrack.polynomial import aotbuild
aotbuild.build(verbose=True)
"""


def _wanted() -> bool:
    return os.environ.get("PATHTRACK_AOT", "1") != "0"


def _compile_kernels() -> None:
    if not _wanted():
        return
    print("pathtrack: compiling the polynomial kernels ahead of time (PATHTRACK_AOT=0 skips this)", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="pathtrack-aot-") as cache:  # the compile's own, not the user's
            proc = subprocess.run([sys.executable, "-c", _COMPILE, str(ROOT)], cwd=ROOT, timeout=1800,
                                  env={**os.environ, "NUMBA_CACHE_DIR": cache})
        ok = proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        print("pathtrack: ahead-of-time compile failed; the Numba kernels will be compiled on first use",
              file=sys.stderr)


def get_requires_for_build_wheel(config_settings=None):
    return _setuptools.get_requires_for_build_wheel(config_settings) + (AOT_REQUIRES if _wanted() else [])


def get_requires_for_build_editable(config_settings=None):
    return _setuptools.get_requires_for_build_editable(config_settings) + (AOT_REQUIRES if _wanted() else [])


def _has_compiled_extension() -> bool:
    return any(p.suffix in (".so", ".pyd") for p in (ROOT / "pathtrack").rglob("_aot_*"))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _compile_kernels()
    if _has_compiled_extension():
        # The wheel then holds a compiled extension: tag it for this interpreter, ABI and platform
        # (not py3-none-any) and install it under platlib. setuptools decides both from this method.
        import setuptools.dist

        setuptools.dist.Distribution.has_ext_modules = lambda self: True
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _compile_kernels()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
