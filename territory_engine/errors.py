"""Exceptions raised by the territory engine.

The hierarchy::

    TerritoryError                 root of everything the engine raises on purpose
    +-- InputError                 bad input: lists every Problem found (up to a cap)
    |   +-- SettingsError          bad settings (flags, Settings sheet, arguments)
    |       +-- BlockLockError     a building block holds locked accounts of two territories
    +-- InfeasibleError            balance within the tolerance is impossible: the reasons
        +-- DesignInfeasibleError      from the engine: its best Alignment, and Reasons
        +-- RebalanceInfeasibleError   from the workflow: its best RebalanceResult

An error carries facts in fields (:class:`Reason`, ``BlockLockError.block``, ...); the layers
above word them with the names the user knows (territory ids, ZIP codes), never by rewriting
the error's text.

Edges report each error once: the command line prints one line per problem and exits 2
(input) or 3 (infeasible); the Excel add-in shows a message and writes an Errors sheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable

__all__ = [
    "MAX_PROBLEMS",
    "Problem",
    "TerritoryError",
    "InputError",
    "SettingsError",
    "BlockLockError",
    "InfeasibleError",
    "DesignInfeasibleError",
    "RebalanceInfeasibleError",
    "Reason",
    "cap_text",
    "raised_share",
    "column_letter",
]

MAX_PROBLEMS = 50
"""How many problems an InputError collects before validation stops looking."""


def column_letter(index: int) -> str:
    """Spreadsheet column letter for a zero-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it.

    Parameters
    ----------
    source : str
        Sheet name ("Accounts") or file name ("accounts.csv"), or "settings".
    message : str
        What is wrong and how to fix it.
    row : int or None
        Row number as the user sees it: the header is row 1, the first account row 2.
    column : str or None
        The column header as written in the input ("Potential").
    column_index : int or None
        Zero-based column position, shown as a letter (D).
    value : Any
        The offending value, if any.
    is_sheet : bool
        True for a workbook sheet (located as ``Accounts!D14``), False for a file.
    """

    source: str
    message: str
    row: int | None = None
    column: str | None = None
    column_index: int | None = None
    value: Any = None
    is_sheet: bool = True

    @property
    def cell(self) -> str:
        """Location like ``Accounts!D14``, ``accounts.csv row 14, column D`` or ``Accounts``."""
        letter = column_letter(self.column_index) if self.column_index is not None else ""
        if self.is_sheet:
            if self.row is not None and letter:
                return f"{self.source}!{letter}{self.row}"
            if letter:
                return f"{self.source}!{letter}:{letter}"
            if self.row is not None:
                return f"{self.source}!{self.row}:{self.row}"
            return self.source
        parts = [self.source]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if letter:
            parts.append(f"column {letter}")
        return ", ".join(parts) if len(parts) > 1 else parts[0]

    def __str__(self) -> str:
        where = self.cell
        if self.column:
            where += f" ({self.column})"
        return f"{where}: {self.message}"

    def as_row(self) -> dict[str, Any]:
        """The problem as a row of an Errors sheet."""
        return {
            "sheet": self.source,
            "row": self.row,
            "column": column_letter(self.column_index) if self.column_index is not None else None,
            "header": self.column,
            "value": None if self.value is None else str(self.value),
            "problem": self.message,
        }


class TerritoryError(Exception):
    """Root of the errors the engine raises on purpose."""


class InputError(TerritoryError):
    """Bad input. ``problems`` lists every problem found, up to ``MAX_PROBLEMS``."""

    def __init__(self, problems: list[Problem] | Problem | str, *, source: str = "input"):
        if isinstance(problems, str):
            problems = [Problem(source=source, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SettingsError(InputError):
    """Bad settings: an unknown key, a value out of range, a bad flag."""

    def __init__(self, problems: list[Problem] | Problem | str, *, source: str = "settings"):
        super().__init__(problems, source=source)


class BlockLockError(SettingsError):
    """A building block holds locked accounts of more than one territory, but a block is kept
    whole.

    Attributes
    ----------
    block : int
        The block's index among the sorted distinct block keys.
    territories : int
        How many territories its locked accounts belong to.
    """

    def __init__(self, block: int, territories: int, *, block_name: str | None = None):
        self.block = int(block)
        self.territories = int(territories)
        super().__init__(self.sentence(block_name or f"building block #{self.block}"))

    def sentence(self, block_name: str) -> str:
        """The problem in words, naming the block ``block_name`` ("zip 04575")."""
        return (f"{block_name} holds locked accounts of {self.territories} different territories, but a block is "
                "kept whole; unlock all but one territory's accounts there, or do not use building blocks")


def _small_percent(share: float, *, up: bool = False) -> str:
    """A share as a percentage of two significant digits (0.3%, 0.00012%, 12%); ``up``: of three,
    rounded up, for a least tolerance that must not read below what is needed (11.2%)."""
    value = share * 100
    if value <= 0 or not math.isfinite(value):
        return f"{value:g}%"
    digits = max(0, (2 if up else 1) - math.floor(math.log10(value)))  # (three digits when rounded up)
    shown = math.ceil(value * 10 ** digits - 1e-9) / 10 ** digits if up else round(value, digits)
    return f"{shown:.{digits}f}%"


def _percent(fraction: float) -> str:
    """A tolerance as the user gave it: 5%, 2.5%, 0.1% (never a 0.1% tolerance shown as 0%)."""
    for digits in range(3):
        if abs(round(fraction * 100, digits) - fraction * 100) < 1e-9:
            break
    return f"{fraction:.{digits}%}"


def _deviation(share: float) -> str:
    """A deviation with its sign, to 0.1% (0.01% below 1%, as :func:`_above` suggests tolerances)."""
    if share == 0 or abs(share) >= 0.01:
        return f"{share:+.1%}"
    if abs(share) >= 0.00005:
        return f"{share:+.2%}"
    return f"{'+' if share > 0 else '-'}under 0.01%"


def cap_text(share: float) -> str:
    """A move cap as a percentage that reads back as the cap: 10% -> "10.0%", 3.45% -> "3.45%"."""
    for digits in range(1, 5):
        text = f"{share:.{digits}%}"
        if abs(float(text[:-1]) / 100 - share) <= 1e-9:
            return text
    return f"{share:.4%}"


def raised_share(share: float) -> float:
    """A share of accounts rounded up to 0.1%: the cap to suggest must allow the share found."""
    return math.ceil(share * 1000 - 1e-9) / 1000


def _above(share: float) -> float:
    """The tolerance to suggest for a deviation of ``share``: it rounded up to 0.01%, at least 0.01%."""
    return max(math.ceil(share * 10_000 - 1e-9) / 10_000, 0.0001)


def _engine_name(territory: int) -> str:
    return f"#{territory}"


@dataclass(frozen=True)
class Reason:
    """One reason why balance within the tolerance is impossible, as facts.

    Attributes
    ----------
    code : str
        ``"heavy_unit"`` (one account or block alone is over the band), ``"locked_load"`` (a
        territory's locked accounts are over its band), ``"locked_short"`` (a territory stays
        below its band even with every unlocked account), ``"locked_total"`` (the territories'
        band floors and locked loads together need more than the total), ``"relaxation"`` (the
        transportation LP over every territory is infeasible: the locks leave no way, even with
        accounts split), ``"move_cap_proven"`` (that LP is infeasible with the move cap only),
        ``"move_cap_whole"`` (the MILP over every account and territory is infeasible with the move
        cap, and whole accounts balance without it; ``share`` the share of accounts such an
        alignment moves), ``"move_cap_shed"`` (the territories over their bands must give away
        more accounts than the cap allows, even their heaviest: ``share`` that floor as a share of
        the accounts, ``needed`` the named territory's own; rebalance/cap_bound.py), ``"indivisible"``
        (the LP is feasible, but the MILP over every account and territory is not), ``"granular"``
        (every account's value of the measure is a whole multiple of one step, ``share`` that step
        as a share of the territory's target, and the territory's band holds no multiple of it),
        ``"move_cap"`` (the alignment found moves more than ``max_moved_share`` allows; no proof),
        ``"move_cap_blocks"`` (a block design still moves ``share`` with every block it could give
        back returned; no proof), ``"move_cap_split"`` (every alignment of the whole blocks moves at
        least ``share``: blocks split between today's territories, or pinned in another's; ``accounts``
        those blocks, or none when the floor is over every choice of territories to retire),
        ``"move_cap_exact"`` (the integer program over every assignment of whole blocks finds that each
        one within the tolerance moves at least ``share``, more than the cap: contiguous/cap_exact.py),
        ``"move_cap_returned"`` (the balanced block design moved ``share``, taken back
        to the cap it moves ``needed`` and ``territory`` is the furthest out of band; no proof),
        ``"component"`` (a group of building blocks joined to no other block, an island group,
        whose load fits no whole number of territories; ``share`` is its load in targets),
        ``"component_targets"`` (with unequal targets, no choice of territories for each group
        of blocks fits every group's load; ``share`` is the smallest group's share of the total),
        ``"pinned_component"`` (such a group holds the bases or locked blocks of more territories
        than its load can balance; ``share`` is its load in targets),
        ``"cut_vertex"`` (a block whose removal splits the map forces a deviation of at least
        ``share``), ``"no_connected"`` (the exact stage's integer program over every alignment of the
        ``share`` blocks is infeasible; ``accounts`` the pinned blocks, when any), ``"locked_apart"``
        (a territory's locked or base blocks lie in groups that no path of blocks joins),
        ``"locked_join"`` (joining a territory's locked or base blocks takes more load than its band
        holds; ``share`` that least load as a multiple of its target, ``accounts`` the two blocks) or
        ``"out_of_band"`` (a territory stays outside the tolerance and no proof was found: a
        defect, never a proof), ``"not_connected"`` (every load within the tolerance but a
        territory in ``share`` pieces, no proof found).
    measure : str
        The constrained measure ("potential", "balance measure").
    share : float
        The figure behind the reason: the heavy unit's or the locked accounts' load as a
        multiple of the target; the most a territory can reach, as a multiple of its target
        (``locked_short``); the share of accounts that must move; the deviation
        ``load / target - 1`` of the territory.
    limit : float
        The setting it breaks: the tolerance, or ``max_moved_share``.
    setting : str
        The setting's name ("tolerance", "max_moved_share").
    territory : int or None
        The engine's territory index (0..k-1), when one territory is involved.
    accounts : tuple of int
        Rows (0-based) of the accounts involved, when few are (the heavy unit's accounts); for a
        block design's ``heavy_unit`` and ``locked_join``, the blocks' indices instead.
    needed : float
        ``move_cap_shed``: the accounts the named territory alone must give away.
        ``move_cap_returned``: the share of the accounts the alignment written moves. ``granular``:
        the least tolerance at which every territory's band holds a whole multiple of the step
        (the largest distance from a target to its nearest multiple, as a share of that target).
    """

    code: str
    measure: str
    share: float
    limit: float
    setting: str
    territory: int | None = None
    accounts: tuple[int, ...] = ()
    needed: float = 0.0

    def of_cap(self, cap: float, scale: float = 1.0, offset: float = 0.0) -> Reason:
        """A move cap reason of an engine run said of the analyst's ``cap``: the run counts its moves
        among other accounts than the analyst's cap (a region's run, a merge's kept territories), and
        each share of the run's accounts moved is ``share * scale + offset`` of the analyst's."""
        shares = {"share": self.share * scale + offset}
        if self.code == "move_cap_returned":
            shares["needed"] = self.needed * scale + offset
        return replace(self, limit=cap, **shares)

    def sentence(self, territory_name: Callable[[int], str] = _engine_name, *, unit: str | None = None) -> str:
        """The reason in words a user can act on; ``territory_name(index)`` names a territory
        (default ``#index``); ``unit`` names the heavy account or block ("county Cook County, IL")."""
        limit = _percent(self.limit)
        if self.code == "heavy_unit":
            # More territories make every target smaller: only fewer (or a wider band) can hold it.
            return (f"{unit or 'one account (or building block)'} alone carries {self.share:.0%} of a territory's "
                    f"target {self.measure}; raise the tolerance above {max(self.share - 1, 0):.0%} or use fewer "
                    "territories")
        if self.code == "locked_load":
            return (f"the locked accounts of territory {territory_name(self.territory)} carry {self.share:.0%} "
                    f"of its target {self.measure}; unlock some of them or raise the tolerance")
        if self.code == "locked_short":
            return (f"territory {territory_name(self.territory)} can reach at most {self.share:.0%} of its target "
                    f"{self.measure}, with its locked accounts and every unlocked account together, below its band "
                    f"of -{limit}; unlock accounts of other territories or raise the tolerance")
        if self.code.startswith("move_cap"):
            return self._cap_sentence(territory_name)
        if self.code == "locked_total":
            return (f"the locked accounts hold so much {self.measure} that, with every territory at least at the "
                    f"bottom of its band (-{limit}), the territories would need {self.share:.1%} of the total "
                    f"(territory {territory_name(self.territory)} is the most locked); unlock accounts or raise the "
                    "tolerance")
        if self.code == "granular":
            return (f"territory {territory_name(self.territory)} must carry its target {self.measure} ±{limit}, and no "
                    f"sum of whole accounts falls in that band: every account's {self.measure} is a whole multiple of "
                    f"one step ({_small_percent(self.share)} of that target), and no whole number of steps lies within "
                    f"±{limit}; raise the tolerance to {_small_percent(self.needed, up=True)} or more, or change the "
                    "number of territories or the targets")
        if self.code == "indivisible":
            return (f"no alignment of whole accounts (or building blocks) keeps every territory within "
                    f"±{limit} of its target {self.measure}: an exhaustive search over every account and "
                    "territory found none (balance would need accounts split between territories); raise the "
                    "tolerance or change the number of territories")
        if self.code == "relaxation":
            return (f"the locked accounts leave no way to balance {self.measure}, even with the other accounts split "
                    f"between territories (territory {territory_name(self.territory)}'s locked accounts alone carry "
                    f"{self.share:.0%} of its target; tolerance ±{limit}); unlock accounts or raise the "
                    "tolerance")
        if self.code == "component":
            low, high = self.share / (1 + self.limit), self.share / (1 - self.limit)
            blocks = f"{len(self.accounts)}{'+' if len(self.accounts) >= 20 else ''}"
            return (f"a group of {blocks} building blocks joined to no other block (an island group) carries "
                    f"{self.share:.2f} territories' worth of {self.measure}; with ±{limit} per territory it "
                    f"needs a whole number of territories between {low:.2f} and {high:.2f}, and there is none (or "
                    "the groups' whole numbers cannot add up to the number of territories); raise the tolerance, "
                    "change the number of territories or join the group to the mainland")
        if self.code == "component_targets":
            blocks = f"{len(self.accounts)}{'+' if len(self.accounts) >= 20 else ''}"
            return (f"the map falls into groups of building blocks joined to no other block (island groups; the "
                    f"smallest holds {blocks} blocks and {self.share:.1%} of the {self.measure}), and no choice of "
                    f"territories for each group brings every group's {self.measure} within ±{limit} of its "
                    "territories' targets (with the bases and locks where they are); change the targets, raise the "
                    "tolerance, or join the groups")
        if self.code == "pinned_component":
            most = math.floor(self.share / (1 - self.limit) + 1e-9) if self.limit < 1 else 0
            blocks = f"{len(self.accounts)}{'+' if len(self.accounts) >= 20 else ''}"
            return (f"a group of {blocks} building blocks joined to no other block holds the rep bases or locked "
                    f"blocks of more territories than it can balance: it carries {self.share:.2f} territories' worth "
                    f"of {self.measure}, enough for at most {most} with ±{limit} each, and no territory can reach "
                    "across to another group; move a base or unlock blocks out of it, raise the tolerance, or join "
                    "the group to the rest of the map")
        if self.code == "cut_vertex":
            return (f"one building block joins parts of the map that hold no whole number of territories: every "
                    f"connected alignment is at least {self.share:.1%} from its target {self.measure} somewhere "
                    f"(tolerance ±{limit}); raise the tolerance above {self.share:.1%} or change the "
                    "number of territories")
        if self.code == "locked_join":
            ends = f" ({unit})" if unit else ""
            return (f"territory {territory_name(self.territory)} cannot be one piece within its band: joining its "
                    f"locked or base blocks{ends} takes blocks carrying at least {self.share:.1%} of its target "
                    f"{self.measure}, with its locked blocks, above its band of +{limit}; unlock the blocks of one "
                    "end, raise the tolerance or use fewer territories")
        if self.code == "locked_apart":
            return (f"territory {territory_name(self.territory)} has locked or base blocks in groups of blocks "
                    "that no path of blocks joins, so it cannot be one piece; unlock the blocks of one group")
        if self.code == "no_connected":
            pinned = (" with the locked blocks and rep bases where they are" if self.accounts else "")
            fix = ("unlock blocks or move rep bases so that each territory's fixed blocks can be joined "
                   "without crossing another's, " if self.accounts else "")
            return (f"no alignment keeps every territory in one piece within ±{limit} of its target "
                    f"{self.measure}{pinned}: an exhaustive search (an integer program over every alignment "
                    f"of the {self.share:.0f} building blocks) found none; {fix}raise the tolerance or change "
                    "the number of territories")
        if self.code == "not_connected":
            return (f"territory {territory_name(self.territory)} comes out in {self.share:.0f} pieces: the engine "
                    f"found no alignment keeping every territory in one piece within ±{limit}, but could not prove "
                    "that none exists (locked blocks or rep bases far apart can force it); unlock blocks or move "
                    "bases so that each territory's fixed blocks can be joined, or raise the tolerance")
        exact = (" (a tolerance of 0 asks every territory to hold exactly its target, which whole accounts "
                 "can rarely do)") if self.limit == 0 else ""
        return (f"territory {territory_name(self.territory)} stays {_deviation(self.share)} from its target "
                f"{self.measure} (tolerance ±{limit}) and the engine found no alignment within it, but could not "
                f"prove that none exists (the accounts or building blocks may be too lumpy to round){exact}; raise "
                f"the tolerance to {_percent(_above(abs(self.share)))} or more, use smaller blocks, or change the "
                "number of territories")

    def _cap_sentence(self, territory_name: Callable[[int], str]) -> str:
        """The sentence of a ``move_cap*`` reason (see :meth:`sentence`)."""
        if self.code == "move_cap_shed":
            return (f"balance cannot be reached with at most {cap_text(self.limit)} of the accounts moved: each "
                    "territory over its band must give away its excess, and even giving only its heaviest unlocked "
                    f"accounts that takes {self.share:.1%} of the accounts (territory "
                    f"{territory_name(self.territory)} alone {math.ceil(self.needed - 1e-9)}); raise max_moved_share "
                    f"to at least {raised_share(self.share):.1%} or raise the tolerance")
        if self.code == "move_cap_blocks":
            return (f"a design of whole blocks moves {self.share:.2%} of the accounts here even with every block it "
                    f"could give back returned, more than the cap of {cap_text(self.limit)}: the accounts of a block "
                    "split between territories today, locked accounts or rep bases in another territory's block, and "
                    f"a new territory's blocks move whatever it does; raise max_moved_share to "
                    f"{raised_share(self.share):.1%} or more, or rebalance accounts (--block none)")
        if self.code == "move_cap_split":
            blocks = f"{len(self.accounts)} block(s)" if self.accounts else "blocks"
            return (f"no design of whole blocks keeps the cap of {cap_text(self.limit)} of the accounts moved: "
                    f"{blocks} hold accounts of several of today's territories (or locked "
                    "accounts or a rep base of another territory), the accounts of territories that retire all "
                    f"move, and keeping every block whole moves at least {self.share:.2%} of the accounts, "
                    f"whatever the balance; raise max_moved_share to {raised_share(self.share):.1%} or more, or "
                    "rebalance accounts (--block none)")
        if self.code == "move_cap_exact":
            return (f"no design of whole blocks keeps both the cap of {cap_text(self.limit)} of the accounts moved "
                    f"and the tolerance: an integer program over every assignment of the blocks to the territories "
                    f"finds that each one within the tolerance moves at least {self.share:.2%} of the accounts, "
                    f"whatever the territories' shape; raise max_moved_share to {raised_share(self.share):.1%} or "
                    "more, raise the tolerance, or rebalance accounts (--block none)")
        if self.code == "move_cap_returned":
            return (f"the balanced alignment found moves {self.share:.1%} of the accounts, and at most "
                    f"{cap_text(self.limit)} may; taken back to the cap it moves {self.needed:.1%} and leaves "
                    f"territory {territory_name(self.territory)} (the worst) outside the tolerance; the engine could "
                    "not prove that no balanced alignment keeps the cap; raise max_moved_share or the tolerance")
        if self.code == "move_cap":
            return (f"the alignment found moves {self.share:.1%} of the accounts, and at most "
                    f"{cap_text(self.limit)} may; the engine found none within the cap but could not prove that none "
                    "exists; raise max_moved_share or the tolerance")
        if self.code == "move_cap_proven":
            return (f"balance cannot be reached with at most {cap_text(self.limit)} of the accounts moved: even with "
                    "accounts split between territories, every alignment within the tolerance moves more; "
                    "raise max_moved_share or the tolerance")
        if self.code == "move_cap_whole":
            return (f"balance cannot be reached with at most {cap_text(self.limit)} of the accounts moved: an "
                    "exhaustive search over every account and territory found no alignment of whole accounts within "
                    f"the tolerance that moves so few (accounts cannot be split), while one moving {self.share:.2%} "
                    f"exists; raise max_moved_share to {raised_share(self.share):.1%} or raise the tolerance")
        raise ValueError(f"not a move cap reason: {self.code}")

    def __str__(self) -> str:
        return self.sentence()


class InfeasibleError(TerritoryError):
    """Balance within the tolerance is impossible. Catch a subclass for a typed ``result``.

    Attributes
    ----------
    reasons : list of str
        What prevents balance, in words a user can act on.
    proven : bool
        Every reason is a proof that balance is impossible; False when one only says balance was
        not reached (:data:`UNPROVEN`), so that no message calls it impossible.
    """

    def __init__(self, reasons: list[str], result: Any = None, *, proven: bool = True):
        self.reasons = list(reasons)
        self.result = result
        self.proven = proven
        super().__init__("; ".join(self.reasons))

    @property
    def headline(self) -> str:
        """"balance impossible" with a proof, else "balance not reached"."""
        return "balance impossible" if self.proven else "balance not reached"


UNPROVEN = frozenset({"out_of_band", "workload_unsettled", "move_cap", "move_cap_blocks", "move_cap_returned",
                      "not_connected"})
"""The codes of reasons that are no proof: balance was not reached, and none knows why."""


def proven(facts) -> bool:
    """Whether every reason of ``facts`` (each with a ``code``) is a proof (none is :data:`UNPROVEN`)."""
    return not any(fact.code in UNPROVEN for fact in facts)


class DesignInfeasibleError(InfeasibleError):
    """The engine found no alignment within the tolerance.

    Attributes
    ----------
    result : territory_engine.rebalance.Alignment or territory_engine.contiguous.BlockDesign
        The best alignment found (of accounts, or of building blocks).
    facts : tuple of Reason
        Why, as facts (territories as engine indices); ``reasons`` words them with ``#index``.
    """

    def __init__(self, facts, result):
        self.facts = tuple(facts)
        super().__init__([fact.sentence() for fact in self.facts], result=result, proven=proven(self.facts))


class RebalanceInfeasibleError(InfeasibleError):
    """The rebalance action found no alignment within the tolerance.

    Attributes
    ----------
    result : territory_engine.workflow.RebalanceResult
        The best result found, with every output sheet, so the caller can still write it.
    reasons : list of str
        Why, naming territories by their ids.
    """
