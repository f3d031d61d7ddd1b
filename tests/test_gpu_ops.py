"""Numpy paths of sigint.gpu: memory plans (a forced small limit chunks the work and changes
no result) and the xp-generic batched cascade."""

from __future__ import annotations

import numpy as np
import pytest

from sigint.errors import InputError
from sigint.gpu import memory
from sigint.gpu.ops import bem_influence, bem_influence_numpy


def test_parse_bytes():
    assert memory.parse_bytes("123") == 123
    assert memory.parse_bytes("64MB") == 64_000_000
    assert memory.parse_bytes("1.5 GiB") == 3 * 2 ** 29
    with pytest.raises(InputError, match="SIGINT_MEMORY_LIMIT.*not a memory size"):
        memory.parse_bytes("lots")
    with pytest.raises(InputError):
        memory.parse_bytes("0")


def test_plan_follows_the_limit(monkeypatch):
    monkeypatch.setenv(memory.ENV_LIMIT, "1MB")
    assert memory.available_bytes() == 1_000_000
    # half of 1 MB in 10 kB items: 50 per chunk; never fewer than 1, never more than asked
    assert memory.plan_chunk(1000, 10_000) == 50
    assert memory.plan_chunk(1000, 10 ** 9) == 1
    assert memory.plan_chunk(7, 1) == 7
    assert list(memory.chunks(5, 2)) == [(0, 2), (2, 4), (4, 5)]
    monkeypatch.delenv(memory.ENV_LIMIT)
    assert memory.available_bytes() > 1_000_000


def _panels(n, rng):
    a = rng.uniform(0, 1e-4, (n, 2))
    ang = rng.uniform(0, 2 * np.pi, n)
    b = a + 2e-6 * np.stack([np.cos(ang), np.sin(ang)], 1)
    return a, b


def test_chunked_assembly_equals_unchunked(monkeypatch):
    rng = np.random.default_rng(5)
    a, b = _panels(300, rng)
    obs = 0.5 * (a + b)
    nrm = np.stack([(b - a)[:, 1], -(b - a)[:, 0]], 1) / 2e-6
    field = rng.random(300) < 0.5
    whole = bem_influence_numpy(obs, nrm, field, a, b, ground_y=-1e-5, memory_limit=10 ** 12)
    # 12 float64 temporaries of 300 columns per row: a 200 kB cap gives 34-row chunks
    calls = []
    real_chunks = memory.chunks

    def spy(n, size):
        calls.append(size)
        return real_chunks(n, size)

    monkeypatch.setattr(memory, "chunks", spy)
    monkeypatch.setenv(memory.ENV_LIMIT, "200kB")
    chunked = bem_influence(obs, nrm, field, a, b, ground_y=-1e-5)
    assert calls and calls[-1] < 300 // 8
    np.testing.assert_allclose(chunked, whole, rtol=1e-15, atol=0)
    # and the unchunked block is the free-space closed forms minus the image panels
    from sigint.extract.bem import potential_kernel

    cr = np.flatnonzero(~field)
    ai, bi = a.copy(), b.copy()
    ai[:, 1] = -2e-5 - a[:, 1]
    bi[:, 1] = -2e-5 - b[:, 1]
    np.testing.assert_allclose(whole[cr], potential_kernel(obs[cr], a, b) - potential_kernel(obs[cr], ai, bi),
                               rtol=1e-14, atol=0)


def test_batched_cascade_matches_the_host_cascade():
    """The xp-generic batched star product (the device path) on numpy equals mtl.cascade_s."""
    from helpers import coupled_pair

    from sigint.channel.lines import cascade_s
    from sigint.gpu.ops import cascade

    f = np.linspace(0, 40e9, 41)
    secs = [np.asarray(coupled_pair(f, ln, 46.0, 42.0, 4.1, 3.9).s) for ln in (1e-3, 2e-3, 0.5e-3)]
    np.testing.assert_allclose(cascade(secs), cascade_s(secs), rtol=1e-12, atol=1e-14)
