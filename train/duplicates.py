"""Duplicate faces: a 64-bit difference hash (dHash) per face, and the pairs whose hashes (nearly) agree.

dHash shrinks a face to 9x8 grey levels and keeps one bit per pair of horizontal neighbours
(is the right one brighter?): re-encoded, slightly rescaled or re-lit copies of a face keep
almost all 64 bits, different faces differ in about half of them. At 48x48, though, faces of
different people with the same pose can come within a few bits, so a near-duplicate must also
match pixel for pixel: a correlation of its grey levels of at least MIN_CORRELATION. On FER2013
(looked at pair by pair) this keeps almost only true copies.
"""

from __future__ import annotations

import cv2
import numpy as np

NEAR_BITS = 4  # hashes that differ in at most this many bits are compared pixel by pixel
MIN_CORRELATION = 0.9
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def dhash(faces: np.ndarray) -> np.ndarray:
    """One uint64 per face (faces: N x H x W uint8)."""
    small = np.array([cv2.resize(face, (9, 8), interpolation=cv2.INTER_AREA) for face in faces], np.int16)
    bits = (small[:, :, 1:] > small[:, :, :-1]).reshape(len(faces), 64)
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits that differ between two arrays of uint64 hashes."""
    return _POPCOUNT[np.bitwise_xor(a, b).view(np.uint8)].reshape(len(a), 8).sum(1)


def equal_pairs(keys: np.ndarray) -> np.ndarray:
    """All (i, j), i < j, with keys[i] == keys[j], as an array of shape (P, 2)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    pairs = [np.empty((0, 2), np.int64)]
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        i, j = np.triu_indices(size, 1)
        group = np.sort(order[start:start + size])
        pairs.append(np.stack([group[i], group[j]], 1))
    return np.concatenate(pairs)


def close_hashes(hashes: np.ndarray, max_bits: int = NEAR_BITS) -> np.ndarray:
    """All (i, j), i < j, whose hashes differ in at most `max_bits` bits.

    Split the 64 bits into max_bits + 1 pieces: two hashes that close agree exactly on at least
    one piece, so only hashes that share a piece are compared (seconds for 35,000 faces, not minutes).
    """
    if max_bits == 0:
        return equal_pairs(hashes)
    bounds = np.linspace(0, 64, max_bits + 2).astype(np.uint64)
    found = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        pairs = equal_pairs((hashes >> low) & ((np.uint64(1) << (high - low)) - np.uint64(1)))
        found.append(pairs[hamming(hashes[pairs[:, 0]], hashes[pairs[:, 1]]) <= max_bits])
    codes = np.unique(np.concatenate(found) @ np.array([len(hashes), 1]))  # a pair found via several pieces once
    return np.stack([codes // len(hashes), codes % len(hashes)], 1)


def correlation(faces: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Pearson correlation of the grey levels of each pair of faces (0 where a face is uniform)."""
    a, b = (faces[pairs[:, k]].reshape(len(pairs), faces[0].size).astype(np.float32) for k in (0, 1))
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    norms = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return np.divide((a * b).sum(1), norms, out=np.zeros(len(pairs), np.float32), where=norms > 0)


def near_duplicates(faces: np.ndarray) -> np.ndarray:
    """Pairs (i, j), i < j, of identical or near-identical faces (faces: N x H x W uint8)."""
    pairs = close_hashes(dhash(faces))
    identical = np.array([np.array_equal(faces[i], faces[j]) for i, j in pairs], bool).reshape(-1)
    return pairs[identical | (correlation(faces, pairs) >= MIN_CORRELATION)]


def in_train(pairs: np.ndarray, splits: np.ndarray) -> dict[str, int]:
    """For val and test: how many of their faces are paired with a training face (splits: one name per face)."""
    found = {}
    for split in ("val", "test"):
        one = (splits[pairs[:, 0]] == "train") & (splits[pairs[:, 1]] == split)
        other = (splits[pairs[:, 1]] == "train") & (splits[pairs[:, 0]] == split)
        found[split] = len(np.unique(np.r_[pairs[one, 1], pairs[other, 0]]))
    return found


def cross_split_warning(splits: dict[str, np.ndarray]) -> str | None:
    """A warning when val or test faces (near-)duplicate training faces; `splits` maps split name to faces."""
    faces = np.concatenate(list(splits.values()))
    names = np.concatenate([[name] * len(split) for name, split in splits.items()])
    found = {split: n for split, n in in_train(near_duplicates(faces), names).items() if n}
    if not found:
        return None
    return ("warning: " + " and ".join(f"{n} {split}" for split, n in found.items())
            + " faces are identical or near-identical to training faces, which "
            "inflates validation and test accuracy; python -m train.inspect lists them")
