"""Counter-based random numbers: a value is a pure function of (key, counter).

Why not one ``random.Random`` per stream: a what-if comparison needs *common random numbers* —
pod #7 of the leaking Deployment must leak the same way whether or not a policy restarted pod #3
first. With a sequential generator, any extra draw in one arm shifts every later draw. Here a draw
is ``hash(seed, workload, pod ordinal, container incarnation, purpose, step)``, so it depends only
on *which* decision is being made, never on how many decisions came before. It is also
vectorised: a whole column of pods draws at once with numpy.

The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014), which passes BigCrush when fed a
counter; we feed it a key already mixed from the identity parts.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["derive_key", "key_of_joined", "key_prefix", "mix64", "premix", "uniform", "uniform_premixed", "randint", "uniform_scalar"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO53 = float(2**53)


def derive_key(*parts: object) -> int:
    """A 64-bit key from any identity parts (seed, names, ordinals): stable across runs and
    Python versions (unlike ``hash``)."""
    return key_of_joined("\x1f".join(map(str, parts)))


def key_of_joined(joined: str) -> int:
    """``derive_key`` of parts already joined with ``"\x1f"`` (``key_prefix(...) + str(last)``):
    creating many pods, the parts they share are joined once."""
    return int.from_bytes(hashlib.blake2b(joined.encode(), digest_size=8).digest(), "little")


def key_prefix(*parts: object) -> str:
    """The joined form of leading parts, for ``key_of_joined(key_prefix(a, b) + str(c))`` ==
    ``derive_key(a, b, c)``."""
    return "".join(f"{part}\x1f" for part in parts)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser over a uint64 array (wrapping arithmetic)."""
    return _mix_in_place(np.array(x, dtype=np.uint64))


def _mix_in_place(z: np.ndarray) -> np.ndarray:
    # Array integer arithmetic wraps silently in numpy (only scalar arithmetic warns), so no
    # errstate context is needed: it cost more than the mixing on small arrays.
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


_MASK = 2**64 - 1


def premix(keys: np.ndarray, purpose: int) -> np.ndarray:
    """The part of a draw that depends only on (key, purpose): models that draw for the same
    purpose every tick compute it once per container and call :func:`uniform_premixed`."""
    salt = np.uint64((purpose * int(_GOLDEN)) & _MASK)
    return _mix_in_place(np.bitwise_xor(np.asarray(keys, dtype=np.uint64), salt))


def uniform_premixed(premixed: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
    """``uniform(keys, purpose, counter)`` given ``premix(keys, purpose)``. The same operations
    as ``(mix(counter · golden + premixed) >> 11) / 2⁵³``, in place on one fresh array where the
    shapes allow (a leak's allocations draw ~10⁶ values a run: the temporaries cost a quarter)."""
    x = np.atleast_1d(np.asarray(counter, dtype=np.int64)).astype(np.uint64)  # a new array
    x *= _GOLDEN
    pm = np.shape(premixed)
    x = np.add(x, premixed, out=x if len(pm) <= x.ndim and x.shape[x.ndim - len(pm):] == pm else None)
    x = _mix_in_place(x)
    x >>= _S11
    u = x.astype(np.float64)
    u /= _TWO53
    return u


def uniform(keys: np.ndarray, purpose: int, counter: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1), one per key, for decision ``purpose`` at step ``counter``."""
    return uniform_premixed(premix(keys, purpose), counter)


def randint(keys: np.ndarray, purpose: int, counter: np.ndarray | int, low: int, high: int) -> np.ndarray:
    """Integers in [low, high] inclusive (like ``random.randint``)."""
    u = uniform(keys, purpose, counter)
    return low + np.floor(u * (high - low + 1)).astype(np.int64)


def uniform_scalar(key: int, purpose: int, counter: int) -> float:
    """One draw, for the few scalar decisions (e.g. a scheduling tie-break)."""
    return float(uniform(np.array([key], dtype=np.uint64), purpose, counter)[0])
