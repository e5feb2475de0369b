"""A move cap that the other settings contradict, found before designing (a settings error).

``max_moved_share`` limits how many accounts a realignment moves from today's alignment. Some
settings leave nothing for it to limit, or make it impossible before any search: a fresh design
(``--fresh``, or workload hours with more territories than today, which the workflow designs
afresh), or fewer territories than today when the accounts of the territories that must retire
alone are more than the cap allows. Each is said as a settings error naming the cap, rather than a
file written far over it with a note.
"""

from __future__ import annotations

import numpy as np

from ..errors import SettingsError, cap_text
from ..settings import Settings

__all__ = ["cap_conflict"]


def cap_conflict(s: Settings, current, ids: list[str], k: int, held, hours: bool = False) -> None:
    """A move cap that the other settings contradict is a settings error, said before designing:
    ``--fresh``, or workload ``hours`` with more territories than today, design from scratch, so a
    cap on what moves from today means nothing there; with fewer territories than today, the
    accounts of the territories retired all move, and when even the smallest that may retire (those
    without locked accounts) hold more accounts than the cap allows, no design can keep it. (A cap
    these leave possible is still not applied to a merge; the result's note says so.)"""
    cap = s.max_moved_share
    if cap >= 1 or not (current >= 0).any():
        return
    if s.fresh:
        raise SettingsError(f"max_moved_share: a cap of {cap_text(cap)} limits how much of today's alignment a "
                            "realignment moves, but fresh designs the territories from scratch; drop fresh "
                            "(--fresh) to realign under the cap, or set max_moved_share to 1")
    today = len(ids)
    if hours and k > today:  # (a fresh design: see _fresh)
        raise SettingsError(f"max_moved_share: with workload hours computed and more territories than today ({k} "
                            f"for {today}), the territories are designed afresh, so a cap of {cap_text(cap)} on what "
                            "moves cannot hold; set max_moved_share to 1, keep the number of territories, or "
                            "balance another measure")
    if k >= today:
        return
    counts = np.bincount(current[current >= 0], minlength=today)
    free = np.setdiff1d(np.arange(today), held)
    retired = free[np.argsort(counts[free], kind="stable")[:today - k]]
    least = int(counts[retired].sum())
    if least > cap * len(current) + 1e-9:
        share = least / len(current)
        named = ", ".join(f"{ids[t]} ({counts[t]})" for t in retired[:10])
        raise SettingsError(f"max_moved_share: going from {today} territories to {k} retires {today - k}, and all "
                            f"their accounts move: at least {least} accounts ({share:.1%}, the smallest territories "
                            f"without locked accounts: {named}), more than the cap of {cap_text(cap)} allows; raise "
                            f"max_moved_share to {np.ceil(share * 1000) / 1000:.1%} or more, or keep {today} "
                            "territories")
