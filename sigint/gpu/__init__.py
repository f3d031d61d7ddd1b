"""The GPU engine: CUDA kernels (``kernels/*.cu``), their loader, dispatch and memory plans.

* :mod:`sigint.gpu.kernels` finds the CUDA sources (source tree or installed wheel) and
  compiles them with CuPy at first use, memoized per device, as cupyx does;
* :mod:`sigint.gpu.ops` runs each kernel where ``xp`` is CuPy and its numpy twin
  otherwise, and estimates each kernel's FP64 operations and bytes moved;
* :mod:`sigint.gpu.memory` sizes chunks from the free memory of the device (or host).

CuPy is imported lazily, inside functions: ``import sigint.gpu`` works without it.
"""
