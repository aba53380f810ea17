"""Sphinx configuration: MyST Markdown pages and a numpydoc API reference."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from pathtrack import __version__  # noqa: E402

project = "pathtrack"
author = "pathtrack developers"
release = version = __version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "examples"]
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
autodoc_member_order = "bysource"
autodoc_typehints = "none"
html_theme = "alabaster"
suppress_warnings = ["myst.header"]
