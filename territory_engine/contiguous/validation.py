"""Validation of the inputs of :func:`~territory_engine.contiguous.design.design_contiguous`.

Every problem with the arrays (adjacency, measures) is collected before an
:class:`~territory_engine.errors.InputError` is raised; bad settings (``k``, ``tolerance``,
``targets``) raise a :class:`~territory_engine.errors.SettingsError`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, SettingsError

__all__ = ["validate_inputs"]


def validate_inputs(adjacency, measures, k, tolerance, targets, coords, locked, initial):
    """Check and normalise the inputs of a contiguous design.

    Returns
    -------
    tuple
        ``(adjacency, measures, k, targets, coords, locked, initial)``: a symmetric CSR
        adjacency without self-loops and with sorted indices, measures of shape (n, M),
        ``k`` as an int, targets summing to 1, and the optional arrays as float or int64
        arrays (None when not given).

    Raises
    ------
    InputError
        Bad adjacency, measures, coords, locked or initial arrays.
    SettingsError
        Bad ``k``, ``tolerance`` or ``targets``.
    """
    problems = []
    try:
        adjacency = sp.csr_array(adjacency, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"adjacency is not a sparse matrix: {exc}") from None
    n = adjacency.shape[0]
    if adjacency.shape != (n, n):
        raise InputError(f"adjacency must be square, not {adjacency.shape}")
    adjacency = adjacency.copy()
    adjacency.sum_duplicates()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    adjacency.sort_indices()
    if (adjacency.data < 0).any() or not np.isfinite(adjacency.data).all():
        problems.append("adjacency: edge distances must be positive finite numbers")
    asymmetry = abs(adjacency - adjacency.T)
    if asymmetry.nnz and asymmetry.max() > 1e-9 * max(1.0, abs(adjacency).max()):
        problems.append("adjacency: must be symmetric (an undirected graph)")
    measures = np.asarray(measures, dtype=float)
    if measures.ndim == 1:
        measures = measures[:, None]
    if measures.ndim != 2 or measures.shape[0] != n:
        problems.append(f"measures: expected shape ({n}, M), got {measures.shape}")
    elif (measures < 0).any() or not np.isfinite(measures).all():
        problems.append("measures: must be non-negative finite numbers")
    if problems:
        raise InputError(problems)
    settings = []
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        settings.append(f"k: the number of territories must be an integer from 1 to {n}, not {k!r}")
    if not 0 <= tolerance < 1:
        settings.append(f"tolerance: must be a fraction in [0, 1), not {tolerance!r}")
    if settings:
        raise SettingsError(settings)
    k = int(k)
    if targets is None:
        targets = np.full(k, 1.0 / k)
    else:
        targets = np.asarray(targets, dtype=float)
        if targets.shape != (k,) or (targets <= 0).any() or not np.isfinite(targets).all():
            raise SettingsError(f"targets: expected {k} positive shares, got {targets!r}")
        targets = targets / targets.sum()
    if coords is not None:
        coords = np.asarray(coords, dtype=float)
        if coords.shape != (n, 2) or not np.isfinite(coords).all():
            raise InputError(f"coords: expected finite numbers of shape ({n}, 2), got {coords.shape}")
    arrays = {}
    for name, value in (("locked", locked), ("initial", initial)):
        if value is None:
            arrays[name] = None
            continue
        value = np.asarray(value)
        if value.shape != (n,) or not np.issubdtype(value.dtype, np.integer):
            raise InputError(f"{name}: expected {n} integers, got shape {value.shape} of {value.dtype}")
        low = -1 if name == "locked" else 0
        if ((value < low) | (value >= k)).any():
            raise InputError(f"{name}: territory indices must be from {low} to {k - 1}")
        arrays[name] = value.astype(np.int64)
    return adjacency, measures, k, targets, coords, arrays["locked"], arrays["initial"]
