"""Module attributes imported on first use (PEP 562), for the packages whose import must stay light."""

import importlib
import importlib.util
from typing import Callable, Dict, Tuple


def lazy_exports(package: str, namespace: dict, exports: Dict[str, str]) -> Tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package``: a name of ``exports`` (name -> submodule) is imported
    from its submodule on first use and kept in ``namespace`` (the package's ``globals()``); any other
    public name that is a submodule is imported as one."""

    def __getattr__(name):
        module = exports.get(name)
        if module is not None:
            value = getattr(importlib.import_module(f".{module}", package), name)
            namespace[name] = value
            return value
        if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f".{name}", package)  # a submodule without an import statement
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
