"""Import a script of the repository (``benchmarks/``, ``docs/examples/``) as a module, to test its functions."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(path: str):
    """The module of ``ROOT / path``, executed once more on every call (its ``__main__`` block does not run)."""
    file = ROOT / path
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
