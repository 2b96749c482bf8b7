"""Vendor-looking identifiers, generated in bulk from a seeded generator (no per-row Python)."""

from __future__ import annotations

import base64

import numpy as np


def _hex_digits(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    """n rows of 2 * nbytes random lowercase hex digits, as ASCII bytes (uint8)."""
    raw = rng.integers(0, 256, size=n * nbytes, dtype=np.uint8).tobytes().hex().encode()
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, 2 * nbytes)


def hex_ids(rng: np.random.Generator, n: int, width: int = 32) -> np.ndarray:
    """n random lowercase hex strings of `width` characters."""
    nbytes = (width + 1) // 2
    digits = _hex_digits(rng, n, nbytes)
    return digits.view(f"S{nbytes * 2}").ravel().astype(f"U{nbytes * 2}").astype(f"U{width}")


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random UUID-shaped strings (8-4-4-4-12 hex digits): the same draws and text as
    ``hex_ids(rng, n, 32)`` with dashes, laid out as bytes (string ops made 164-wide copies)."""
    digits = _hex_digits(rng, n, 16)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for start, end, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        out[:, at : at + end - start] = digits[:, start:end]
    return out.view("S36").ravel().astype("U36")


def b64_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """22-character url-safe ids like SendGrid's sg_event_id."""
    raw = rng.integers(0, 256, size=n * 18, dtype=np.uint8).tobytes()
    text = base64.urlsafe_b64encode(raw)
    return np.frombuffer(text, dtype="S24").astype("U24").astype("U22")


def prefixed(prefix: str, ids: np.ndarray) -> np.ndarray:
    return np.strings.add(prefix, ids)
