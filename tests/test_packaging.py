"""Layering and packaging: the core never imports the plugins, and every package is installed."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_core_never_imports_the_plugins():
    offenders = [f"{path.relative_to(ROOT)}: {name}"
                 for path in sorted((ROOT / "pathtrack").rglob("*.py"))
                 for name in _imported_modules(path)
                 if name.split(".")[0] in ("problems", "pathtrack_problems")]
    assert offenders == []


def test_plugins_reach_the_core_through_its_public_package_only():
    # plugins import pathtrack (and its submodules), never a top-level "problems" package
    offenders = [f"{path.relative_to(ROOT)}: {name}"
                 for path in sorted((ROOT / "problems").rglob("*.py"))
                 for name in _imported_modules(path) if name.split(".")[0] == "problems"]
    assert offenders == []


def test_every_package_directory_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert config["package-dir"] == {"pathtrack_problems": "problems"}
    found = {".".join(d.relative_to(ROOT).parts) for d in (ROOT / "pathtrack").rglob("*") if (d / "__init__.py").is_file()}
    found.add("pathtrack")
    found |= {".".join(("pathtrack_problems",) + d.relative_to(ROOT / "problems").parts)
              for d in (ROOT / "problems").rglob("*") if (d / "__init__.py").is_file()}
    found.add("pathtrack_problems")
    assert found == listed


def test_plugins_are_installed_under_the_project_name():
    import importlib.metadata

    import pathtrack_problems

    eps = importlib.metadata.entry_points(group="pathtrack.problems")
    assert eps and all(ep.value.startswith("pathtrack_problems.") for ep in eps if ep.name == "bratu1d")
    systems = importlib.metadata.entry_points(group="pathtrack.systems")
    assert {ep.name for ep in systems} >= {"katsura", "cyclic", "noon", "eco", "reimer", "random"}
    assert Path(pathtrack_problems.__file__).resolve().parent == ROOT / "problems"


def _build_wheel(src: Path, out: Path) -> Path:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PATHTRACK_AOT": "0"}  # package what the tree holds; compile nothing
    # pip builds in an isolated environment with the build requirements pyproject.toml names: the
    # running one may hold an older setuptools (a new venv has 65)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(out), str(src)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    [wheel] = out.glob("pathtrack-*.whl")
    return wheel


def test_a_wheel_with_the_compiled_kernels_is_tagged_for_its_platform(tmp_path):
    """A wheel holding the install-time extensions is platform-specific; without them it is pure."""
    import shutil
    import sysconfig
    import zipfile

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "docs", "benchmarks", "__pycache__", ".*cache*", "_aot_*"))
    pure = _build_wheel(src, tmp_path / "pure")
    assert pure.name.endswith("-py3-none-any.whl")
    # a stand-in extension file is enough: the backend tags what the wheel holds
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    (src / "pathtrack" / "polynomial" / f"_aot_kernels{suffix}").write_bytes(b"\0")
    binary = _build_wheel(src, tmp_path / "binary")
    tag = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert binary.name.endswith(f"{tag}.whl") and "-none-" not in binary.name
    with zipfile.ZipFile(binary) as zf:
        names = zf.namelist()
        assert f"pathtrack/polynomial/_aot_kernels{suffix}" in names
        wheel_meta = zf.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    assert "Root-Is-Purelib: false" in wheel_meta
