"""Numba-jitted kernels. Arrays and scalars in, status codes out; no validation, no allocation policy.

The Python API modules (``pathtrack.stepcontrol``, ``pathtrack.corrector``, ...) validate
inputs and allocate; these kernels only compute. Every kernel is compiled with
``cache=True`` so that repeated runs skip compilation.
"""
