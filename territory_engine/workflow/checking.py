"""The ``check`` verb: validate the inputs and summarise what was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .plan import Inputs, Plan, balance_measures, prepare

__all__ = ["CheckResult", "check"]


@dataclass(frozen=True)
class CheckResult:
    plan: Plan
    facts: pd.DataFrame

    @property
    def warnings(self):
        """What looked wrong in the inputs but did not stop the work (Problems)."""
        return self.plan.warnings

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {"Check": self.facts}
        if self.warnings:
            sheets["Warnings"] = pd.DataFrame([w.as_row() for w in self.warnings])
        return sheets


def check(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> CheckResult:
    """Validate the inputs; raise InputError listing every problem, else summarise them."""
    plan = prepare(inputs, overrides)
    frame = plan.accounts.frame
    current = frame["territory"].dropna()
    facts = [
        ("accounts", len(frame)),
        ("measures", ", ".join(plan.accounts.measures) or "(none)"),
        ("current territories", current.nunique()),
        ("accounts without a territory", int(frame["territory"].isna().sum())),
        ("locked accounts", int(frame["locked"].sum())),
        ("reps", 0 if plan.reps is None else len(plan.reps)),
        ("balance measures", ", ".join(balance_measures(plan)[0]) or "(none)"),
    ]
    for name in plan.accounts.measures:
        facts.append((f"total {name}", float(frame[name].sum())))
    return CheckResult(plan, pd.DataFrame(facts, columns=["check", "result"]))
