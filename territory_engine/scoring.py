"""Account scoring: weighted, normalised measures and A/B/C tiers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SettingsError

__all__ = ["normalise", "score", "tiers"]


def normalise(values, method: str = "percentile") -> np.ndarray:
    """Normalise one measure to a comparable scale.

    ``percentile``: the percentile rank in 0..1 (ties share their average rank);
    ``minmax``: (x - min) / (max - min) in 0..1; ``zscore``: (x - mean) / standard deviation.
    A constant measure gives 0.5 (percentile, minmax) or 0 (zscore). NaN stays NaN.
    """
    x = np.asarray(values, dtype=float)
    ok = ~np.isnan(x)
    out = np.full(len(x), np.nan)
    if not ok.any():
        return out
    v = x[ok]
    if method == "percentile":
        if len(v) == 1:
            out[ok] = 0.5
        else:
            ranks = pd.Series(v).rank(method="average").to_numpy()
            out[ok] = (ranks - 1) / (len(v) - 1)
    elif method == "minmax":
        span = v.max() - v.min()
        out[ok] = (v - v.min()) / span if span > 0 else 0.5
    elif method == "zscore":
        sd = v.std()
        out[ok] = (v - v.mean()) / sd if sd > 0 else 0.0
    else:
        raise SettingsError(f"unknown score method {method!r}; use percentile, minmax or zscore")
    return out


def score(measures, weights=None, *, method: str = "percentile") -> np.ndarray:
    """Weighted score of each account from its measures, (n,).

    Parameters
    ----------
    measures : array-like, shape (n, M)
        Measures per account; blanks (NaN) count as the lowest value of their measure.
    weights : array-like, shape (M,), optional
        Relative weight of each measure (normalised to sum 1). Default: equal.
    method : {"percentile", "minmax", "zscore"}
    """
    m = np.asarray(measures, dtype=float)
    if m.ndim == 1:
        m = m[:, None]
    w = np.ones(m.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != m.shape[1]:
        raise SettingsError(f"{len(w)} score weights were given for {m.shape[1]} score measures; give one per measure")
    if (w < 0).any() or w.sum() <= 0:
        raise SettingsError("score weights must be non-negative and not all zero")
    filled = np.where(np.isnan(m), np.nanmin(np.where(np.isnan(m), np.inf, m), axis=0), m) if m.size else m
    normalised = np.column_stack([normalise(filled[:, j], method) for j in range(m.shape[1])])
    return normalised @ (w / w.sum())


def tiers(scores, cutoffs=(0.2, 0.5)) -> np.ndarray:
    """Tier of each account: ``A`` for the top ``cutoffs[0]`` share by score, ``B`` up to the
    top ``cutoffs[1]``, else ``C``. Ties get the better tier; NaN scores get ``""``."""
    s = np.asarray(scores, dtype=float)
    a, b = cutoffs
    if not (0 < a < b < 1):
        raise SettingsError("tier cut-offs must be two increasing fractions between 0 and 1, e.g. 0.2,0.5")
    out = np.full(len(s), "", dtype=object)
    ok = ~np.isnan(s)
    if not ok.any():
        return out
    # Share of accounts scoring strictly higher: the account's rank from the top.
    v = s[ok]
    higher = (len(v) - pd.Series(v).rank(method="max").to_numpy()) / len(v)
    out[ok] = np.where(higher < a, "A", np.where(higher < b, "B", "C"))
    return out
