"""BLAS threads are limited deliberately inside the small-matrix kernels."""

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (its own BLAS copy, loaded before the controllers list them)
from threadpoolctl import ThreadpoolController

from sigint import threads
from sigint.channel import lines as mtl
from sigint.errors import InputError


def _blas_counts() -> list[int]:
    # read independently of sigint.threads: a fresh controller lists the libraries again
    return [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers]


@pytest.fixture
def two_blas_threads():
    ctl = ThreadpoolController()
    with ctl.limit(limits=2, user_api="blas"):
        yield


def test_limit_inside_and_restored_after(two_blas_threads):
    assert set(_blas_counts()) == {2}
    with threads.small_matrix_blas():
        assert set(_blas_counts()) == {1}
        with threads.small_matrix_blas():              # nested: still limited
            assert set(_blas_counts()) == {1}
        assert set(_blas_counts()) == {1}
    assert set(_blas_counts()) == {2}


def test_cascade_runs_single_threaded(two_blas_threads, monkeypatch):
    seen = []
    real = mtl._star_chunk

    def spy(*a):
        seen.append(_blas_counts())
        return real(*a)

    monkeypatch.setattr(mtl, "_star_chunk", spy)
    s = np.zeros((3, 4, 4), dtype=complex)
    s[:, 0, 2] = s[:, 2, 0] = s[:, 1, 3] = s[:, 3, 1] = 1.0        # two ideal thrus
    out = mtl.cascade_s([s, s, s])
    np.testing.assert_array_equal(out, s)
    assert seen and all(set(c) == {1} for c in seen)
    assert set(_blas_counts()) == {2}


def test_environment_sets_the_count(two_blas_threads, monkeypatch):
    monkeypatch.setenv(threads.SMALL_MATRIX_THREADS_ENV, "2")
    assert threads.small_matrix_threads() == 2
    monkeypatch.setenv(threads.SMALL_MATRIX_THREADS_ENV, "zero")
    with pytest.raises(InputError, match="SIGINT_SMALL_MATRIX_THREADS = 'zero'"):
        threads.small_matrix_threads()
