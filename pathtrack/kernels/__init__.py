"""Numba-jitted kernels. Arrays and scalars in, status codes out; no validation, no allocation policy.

The Python API modules (``pathtrack.stepcontrol``, ``pathtrack.corrector``, ...) validate
inputs and allocate; these kernels only compute. The kernels that Python calls are compiled
with ``cache=True`` so that repeated runs skip compilation. ``steprules`` is plain Python
that compiled trackers inline (:func:`steprules.register_for_numba`), so the Python tracker
runs without Numba.

Deliberate twins (``duplicates`` pairs them; each pair stays two kernels because a shared
helper would need a Python-level branch or dummy arrays inside the innermost loop):

- ``nn_fused.loss_grad_sparse_1h`` and ``nn_fused.rop_sparse_1h`` open with the same
  part/super-block loop skeleton; their row bodies differ (gradient vs R-pass).
- ``nn.backward_hidden`` and ``nn.rop_backward_hidden`` share the chunked column-sum loop;
  one applies σ', the other the R-operator with σ''.
"""
