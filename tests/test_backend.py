import sys

import numpy as np
import pytest

import sigint.backend as backend
from sigint.errors import BackendError


def test_numpy_explicit():
    b = backend.get_backend("numpy")
    assert b.name == "numpy" and b.xp is np and "numpy" in b.describe()


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("SIGINT_BACKEND", "numpy")
    assert backend.get_backend().name == "numpy"


def test_unknown_backend_names_source_and_choices(monkeypatch):
    monkeypatch.setenv("SIGINT_BACKEND", "tpu")
    with pytest.raises(BackendError) as e:
        backend.get_backend()
    assert "$SIGINT_BACKEND" in str(e.value) and "auto, numpy, cupy" in str(e.value)


def test_auto_falls_back_with_reason(monkeypatch):
    """Without CuPy, ``auto`` runs numpy and says why (the reason is a fixed sentence)."""
    monkeypatch.setitem(sys.modules, "cupy", None)     # ``import cupy`` raises ImportError
    monkeypatch.setattr(backend, "_cache", {})
    b = backend.get_backend("auto")
    assert (b.name, b.requested, b.device) == ("numpy", "auto", "CPU")
    assert b.reason == "CuPy not installed" and b.xp is np
    assert b.describe() == "numpy (CPU; CuPy not installed)"


def test_set_backend_overrides_the_environment_until_cleared(monkeypatch):
    monkeypatch.setattr(backend, "_override", None)
    monkeypatch.setenv("SIGINT_BACKEND", "tpu")        # would raise if it were read
    assert backend.set_backend("numpy").requested == "numpy"
    assert backend.get_backend().requested == "numpy"
    with pytest.raises(BackendError, match="bogus"):   # a bad name leaves the choice alone
        backend.set_backend("bogus")
    assert backend.get_backend().requested == "numpy"
    monkeypatch.setenv("SIGINT_BACKEND", "numpy")
    monkeypatch.setattr(backend, "_cache", {})
    b = backend.set_backend(None)                      # back to the environment's choice
    assert b.requested == "numpy" and backend._override is None


def test_cupy_requested_without_gpu_is_a_clear_error():
    ok, _, _ = backend.cupy_smoke_test()
    if ok:
        pytest.skip("a working GPU is present")
    with pytest.raises(BackendError, match="cannot run here"):
        backend._resolve("cupy")


def test_import_does_not_need_cupy():
    import subprocess

    code = ("import sys; sys.modules['cupy'] = None; import sigint, sigint.analyze, "
            "sigint.cli; from sigint.backend import get_backend; "
            "print(get_backend('auto').name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"


def test_array_namespace_and_to_numpy():
    a = np.arange(3.0)
    assert backend.array_namespace(a) is np
    assert backend.to_numpy(a) is a                    # numpy input: no copy
    b = backend.to_numpy([1, 2])                       # anything array-like: an ndarray
    assert type(b) is np.ndarray and b.tolist() == [1, 2]
