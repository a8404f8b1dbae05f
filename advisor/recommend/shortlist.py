"""Which options a table shows, in which order: the best of each action first, then the ranked rest.

Ranked by total cost alone, a table's first ten rows can all be purchases: the rental the break-even is measured
against (rank 23, say) and the hardware already owned then never show. So the command line, the documents and the
app all show the rows this module picks: the chosen option, then the best keep, buy and rent in rank order, each
once, then the ranked rest up to the table's limit; and for an action with no option, one line saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import get_args

from advisor.controls import CLI, Controls
from advisor.recommend.renting import breakeven_reference
from advisor.recommend.schema import Action, Exclusion, Option, Recommendation

WORD: dict[str, str] = {"keep": "keep", "upgrade": "buy", "cloud": "rent"}  # an action as a reader says it
# An exclusion's category as the cause of "N excluded ...".
BECAUSE: dict[str, str] = {
    "does_not_fit": "the model does not fit", "unsupported": "unsupported", "latency": "by the latency target",
    "data": "by the data rules", "budget": "by the budget", "no_spec": "no specification in the catalog",
    "no_price": "no price in the catalog", "quality": "by the quality floor", "breakeven": "by the break-even",
    "marketplace": "by the marketplace rule", "cooling": "by the cooling rule", "licence": "by the licence",
    "no_host": "no host for the card", "redundancy": "by the redundancy",
}


@dataclass(frozen=True)
class Row:
    option: Option
    rank: int  # 1 is the cheapest, as in ``Recommendation.ranked``
    best: bool = False  # the best (first ranked) of its action
    chosen: bool = False  # the verdict's choice

    @property
    def tag(self) -> str:
        """'chosen, best buy', 'best rent' or '' (a row of the ranked rest)."""
        parts = (["chosen"] if self.chosen else []) + ([f"best {WORD[self.option.action]}"] if self.best else [])
        return ", ".join(parts)


@dataclass(frozen=True)
class Shortlist:
    rows: list[Row]
    missing: list[str] = field(default_factory=list)  # "rent: all 17 excluded: 14 by the latency target, 3 by ..."
    reference: Row | None = None  # the rental every purchase's break-even is measured against, when one is shown
    more: int = 0  # options left out of the rows
    purchases: bool = False  # some purchase is ranked, so its break-even is measured against ``reference``

    def notes(self) -> list[str]:
        """The lines a table prints under it: each action with no option and why, and the break-even's reference."""
        lines = list(self.missing)
        far = [r.option for r in self.rows if r.option.network_rtt_ms]
        if far:  # the p95 column is what the users see: a far region must not look faster than a near one
            trips = ", ".join(sorted({f"{o.network_rtt_ms:g} ms" for o in far}, key=lambda t: float(t.split()[0])))
            lines.append(f"p95 at the peak as the users see it: a rented option's includes its network round trip ({trips})")
        if self.reference is not None and self.purchases:
            lines.append(f"break-even: each purchase against renting {self.reference.option.label} (#{self.reference.rank}), "
                         "the cheapest rental allowed")
        return lines


def shortlist(rec: Recommendation, limit: int | None, options: list[Option] | None = None,
              controls: Controls = CLI) -> Shortlist:
    """The rows to show, at most ``limit`` (None: all) unless the best of each action needs more. ``options``: a
    subset of ``rec.ranked`` (an app's filters); each row keeps its rank in the whole recommendation. ``controls``:
    the front end's names for the controls its notes point to."""
    listed = rec.ranked if options is None else options
    rank = {id(o): i for i, o in enumerate(rec.ranked, 1)}
    by_rank = sorted(listed, key=lambda o: rank[id(o)])
    first_of: dict[str, Option] = {}
    for o in by_rank:
        first_of.setdefault(o.action, o)
    bests = {id(o) for o in first_of.values()}  # the best of each action: the first ranked
    chosen = next((o for o in by_rank if o == rec.verdict.choice), None) if rec.verdict.choice else None
    first = ([chosen] if chosen is not None else []) + [o for o in by_rank if id(o) in bests and o is not chosen]
    rest = [o for o in by_rank if o is not chosen and id(o) not in bests]
    room = len(rest) if limit is None else max(0, limit - len(first))
    rows = [Row(o, rank[id(o)], best=id(o) in bests, chosen=o is chosen) for o in first + rest[:room]]
    reference = breakeven_reference(rec.ranked)
    shown_reference = next((r for r in rows if r.option is reference), None)
    return Shortlist(rows, _missing(rec, by_rank, options is not None, controls), shown_reference, len(by_rank) - len(rows),
                     any(o.action == "upgrade" for o in rec.ranked))


def _missing(rec: Recommendation, listed: list[Option], filtered: bool, controls: Controls) -> list[str]:
    """One line for each action with no option listed, saying why."""
    lines = []
    for action in get_args(Action):
        if any(o.action == action for o in listed):
            continue
        word = WORD[action]
        if filtered and any(o.action == action for o in rec.ranked):
            lines.append(f"{word}: none passes the filters")
            continue
        excluded = [e for e in rec.excluded if _action_of(e) == action]
        topped_up = next((o for o in rec.ranked if o.action != "keep" and o.label.startswith("keep ")), None)
        if action == "keep" and topped_up is not None:  # costs.keep_option: the cards owned, and more bought
            lines.append(f"keep: what is owned does not serve alone; with more bought it ranks as a purchase "
                         f"({topped_up.label})")
        elif excluded:
            lines.append(f"{word}: {_excluded_text(excluded)}")
        elif action == "keep":
            owned = rec.assumptions.get("owned", "")
            why = owned.removeprefix("none").lstrip(": ") if owned.startswith("none") else ""  # "none: ...", "none (...)"
            lines.append("keep: nothing owned" + (" " if why.startswith("(") else ": ") + why if why
                         else f"keep: nothing owned (name what you own with {controls('--owned-card')})")
        else:
            lines.append(f"{word}: the catalog has no {'card or server to buy' if action == 'upgrade' else 'cloud offer'}")
    return lines


def _action_of(exclusion: Exclusion) -> str:
    """An exclusion carries no action: its label says it ('keep ... (owned)', 'buy ...', a cloud offer's name)."""
    return "keep" if exclusion.label.startswith("keep ") else "upgrade" if exclusion.label.startswith("buy ") else "cloud"


def _excluded_text(excluded: list[Exclusion]) -> str:
    counts: dict[str, int] = {}
    for e in excluded:
        counts[e.category] = counts.get(e.category, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    causes = ", ".join(f"{n} {BECAUSE.get(c, c.replace('_', ' '))}" for c, n in ordered)
    if len(excluded) == 1:
        return f"{excluded[0].label} excluded: {excluded[0].reason}"
    return f"all {len(excluded)} excluded: {causes}"
