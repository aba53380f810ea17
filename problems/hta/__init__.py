"""HTA (Chen & Hao's homotopy training algorithm) as pathtrack plugins.

- :class:`HTAProblem`: the coupled-penalty homotopy of any objective f.
- :class:`HTATestFunction`: the paper's n-D test function (entry point ``hta-testfn``).
- :func:`hta_solve`: one HTA run (Newton tracking, L-BFGS jumps over folds, polish).
"""

from .core import HTAProblem, HTAResult, hta_solve, make_split
from .testfn import GlobalMinCheck, HTATestFunction, bfgs_start, hta_start

__all__ = ["HTAProblem", "HTAResult", "HTATestFunction", "GlobalMinCheck", "hta_solve", "make_split", "hta_start",
           "bfgs_start"]
