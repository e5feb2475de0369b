"""The ``score`` verb: a weighted score and a tier for every account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..columns import normalise_header
from ..errors import InputError, Problem
from ..scoring import score as score_accounts
from ..scoring import tiers
from ..settings import Settings, settings_table
from .plan import Inputs, effective_settings, prepare

__all__ = ["ScoreResult", "score"]


@dataclass(frozen=True)
class ScoreResult:
    frame: pd.DataFrame
    settings: Settings
    warnings: tuple[Problem, ...] = ()  # what looked wrong in the inputs but did not stop the work
    origins: Mapping[str, str] = field(default_factory=dict)  # where each setting came from

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {"Scored accounts": self.frame,
                  "Settings used": pd.DataFrame(settings_table(self.settings, self.origins))}
        if self.warnings:
            sheets["Warnings"] = pd.DataFrame([w.as_row() for w in self.warnings])
        return sheets


def score(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> ScoreResult:
    """Add ``score`` (0..1 for percentile/minmax) and ``tier`` (A/B/C) to every account."""
    plan = prepare(inputs, overrides)
    names = list(plan.settings.score_measures) or list(plan.accounts.measures)
    if not names:
        raise InputError([Problem(plan.accounts.source, "there is no numeric measure column to score; add one "
                                  "(for example Potential)", is_sheet=True)])
    values = plan.accounts.frame[names].to_numpy(dtype=float)
    weights = plan.settings.score_weights or None
    s = score_accounts(values, weights, method=plan.settings.score_method)
    # A previous result's score and tier (under either name: "Score" is score) are replaced, not duplicated.
    out = plan.raw.drop(columns=[c for c in plan.raw.columns if normalise_header(c) in ("score", "tier")])
    out["score"] = np.round(s, 6)
    out["tier"] = tiers(s, plan.settings.tier_cutoffs)
    return ScoreResult(out, effective_settings(plan), warnings=plan.warnings, origins=plan.origins)
