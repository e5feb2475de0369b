"""The Settings sheet read as key/value pairs (their meaning is :mod:`territory_engine.settings`'s)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..columns import SETTINGS_SYNONYMS, normalise_header
from .problems import Problems
from .tables import header_list
from .values import text_value

__all__ = ["settings_pairs"]


def settings_pairs(raw) -> dict[str, tuple[object, int]]:
    """The key/value pairs of a Settings sheet.

    The first two columns are the key and the value; a header row such as "Key", "Value"
    is expected (when the first header is not a key header, row 1 is read as a setting
    too). Blank rows are skipped; further columns (a "Meaning" column) are ignored.

    Returns
    -------
    dict of str to (value, row)
        Key as written -> (cell value or None, user row number).

    Raises
    ------
    InputError
        A key is repeated, or a value has no key.
    """
    frame = raw.frame
    headers = header_list(frame)
    problems = Problems(raw.name, raw.is_sheet, headers)
    rows: list[tuple[Any, Any, int]] = []
    if headers and normalise_header(headers[0]) not in {normalise_header(s) for s in SETTINGS_SYNONYMS["key"]}:
        rows.append((headers[0], headers[1] if len(headers) > 1 and not headers[1].startswith("Column ") else None,
                     1))
    if frame.shape[1]:
        keys = frame.iloc[:, 0].to_numpy(dtype=object)
        values = frame.iloc[:, 1].to_numpy(dtype=object) if frame.shape[1] > 1 else np.full(len(frame), None)
        rows += [(k, v, i + 2) for i, (k, v) in enumerate(zip(keys, values))]
    pairs: dict[str, tuple[object, int]] = {}
    seen: dict[str, int] = {}
    for key, value, row in rows:
        key_text = text_value(key)
        if value is not None and isinstance(value, float) and math.isnan(value):
            value = None
        if isinstance(value, str) and not value.strip():
            value = None
        if key_text is None:
            if value is not None:
                problems.add("this value has no key; write the setting's name in the first column",
                             row=row, column=1 if len(headers) > 1 else None, value=value)
            continue
        normal = normalise_header(key_text)
        if normal in seen:
            problems.add(f"the setting {key_text!r} is already on row {seen[normal]}; keep one of them",
                         row=row, column=0, value=key_text)
            continue
        seen[normal] = row
        pairs[key_text] = (value, row)
    problems.raise_if_any()
    return pairs
