"""Territory ids: the natural order in which they are listed.

Ids are text ("T1", "North 2"); listed as text, "T10" would come before "T2". Every list of
territories that has no order of its own (no Reps sheet) is sorted by :func:`natural_key`:
the territory summary, the map legend and the worksheet functions.
"""

from __future__ import annotations

import re

__all__ = ["natural_key"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: object) -> list[tuple[int, int, str]]:
    """Sort key of ``text`` (any value, as its ``str``) with runs of digits compared as numbers.

    ``sorted(["T10", "T2", "T1"], key=natural_key)`` gives ``["T1", "T2", "T10"]``. Text
    parts compare as text, and after numbers at the same position; ids that differ only in
    leading zeros ("T01", "T1") have equal keys and keep their order.
    """
    return [(0, int(p), "") if p.isdecimal() else (1, 0, p) for p in _DIGITS.split(str(text))]
