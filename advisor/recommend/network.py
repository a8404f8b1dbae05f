"""A cloud offer's network round trip from the users, counted against the latency target.

A request crosses the network to the offer's data centre and back once: over a connection kept open (HTTP
keep-alive, as API clients and browsers do), one round trip; a new connection's TCP and TLS handshakes would add
one or two more, not counted here. So a cloud offer must serve each request within the target less the round trip
from the users' location (the workload's users_region) to the offer's location (profiles/catalog/rtt.csv); for a
language model the round trip comes before the first token, so it adds to the time to first token and to the whole
reply alike. An offer whose round trip alone reaches the target is set aside. Hardware owned or bought runs on
site, next to its users: no round trip. Where the users' region is not given, or an offer's round trip is not
known, nothing is added, and the assumptions and the option say so.
"""

from __future__ import annotations

from dataclasses import replace

from advisor.catalog.catalog import Catalog, Offer
from advisor.catalog.rtt import RoundTrip, RoundTripTable
from advisor.controls import CLI, Controls
from advisor.recommend.context import Context, RecommendError
from advisor.recommend.schema import Exclusion, Option
from advisor.recommend.workload import Workload
from advisor.report.format import number


def users_in(workload: Workload, catalog: Catalog) -> Workload:
    """The workload with its users' region spelled as the catalog's round trips spell it (bundled codes, and those a
    user's rtt.csv adds); RecommendError naming the known ones for a region no round trip starts from."""
    if workload.users_region is None:
        return workload
    try:
        code = catalog.round_trips.users_code(workload.users_region)
    except ValueError as exc:
        raise RecommendError(str(exc)) from None
    return workload.model_copy(update={"users_region": code})


def assumption(workload: Workload, catalog: Catalog, controls: Controls = CLI) -> str:
    """The network assumption the recommendation states, in every case, with how many cloud offers' round trips are
    not known (so a reader sees at once how much of the comparison the round trip could not reach)."""
    if workload.users_region is None:
        return ("users' region not given: no network round trip is counted for cloud offers "
                f"(give {controls('--users-region')}, "
                "e.g. FR, to add each offer's measured round trip to every request)")
    trips = catalog.round_trips
    rented = [o for o in catalog.offers if o.kind != "on_premise"]
    unknown = [o for o in rented if trips.round_trip(workload.users_region, o).rtt_ms is None]
    own = f"; the rows of {' and '.join(trips.sources[1:])} over them" if len(trips.sources) > 1 else ""
    return (f"users in {workload.users_region}: a cloud offer's network round trip from there ({trips.sources[0]}: P95 "
            f"between Azure regions, and to or from Finland, which has none, the physical floor of light in fibre{own}; "
            f"as of {trips.as_of}) is added to each request's latency, one round trip "
            "a request over a connection kept open (a new connection's TCP and TLS handshakes are not counted; "
            "nor is the users' own access network); hardware owned or bought runs on site: round trip 0"
            + (f"; NOT KNOWN for {len(unknown)} of the {len(rented)} cloud offers (their place names several countries "
               "or none, or no round trip to it is published): nothing is added for them and each says so "
               "(gpu-advisor catalog audit lists them; add rows in your catalog folder's rtt.csv)" if unknown else ""))


def round_trip(workload: Workload, offer: Offer, trips: RoundTripTable) -> RoundTrip | None:
    """None: the users' region is not given."""
    return None if workload.users_region is None else trips.round_trip(workload.users_region, offer)


def too_far(label: str, workload: Workload, trip: RoundTrip | None) -> Exclusion | None:
    """The offer set aside when its round trip alone takes the whole latency target."""
    if trip is None or trip.rtt_ms is None or trip.rtt_ms < workload.p95_ms:
        return None
    return Exclusion(label=label, category="latency", best_p95_ms=trip.rtt_ms,
                     reason=f"the network round trip alone from {trip.users} users to {trip.hosting} "
                            f"({trip.rtt_ms:g} ms) reaches the p95 target of {workload.p95_ms:g} ms")


def serving(ctx: Context, trip: RoundTrip | None) -> Context:
    """The context an offer is sized in: its target less the round trip (the same context where none is known)."""
    if trip is None or trip.rtt_ms is None:
        return ctx
    return replace(ctx, workload=ctx.workload.model_copy(update={"p95_ms": ctx.workload.p95_ms - trip.rtt_ms}))


def short_of_target(exclusion: Exclusion, trip: RoundTrip | None) -> Exclusion:
    """An offer that missed its target less the round trip: its reason says so, and how close it came counts the
    round trip (the verdict's nearest option is compared as the users see it)."""
    if trip is None or trip.rtt_ms is None or exclusion.category != "latency":
        return exclusion
    closest = None if exclusion.best_p95_ms is None else exclusion.best_p95_ms + trip.rtt_ms
    return exclusion.model_copy(update={
        "best_p95_ms": closest,
        "reason": f"{exclusion.reason} (the target less the {trip.rtt_ms:g} ms network round trip from {trip.users} "
                  f"users to {trip.hosting})"})


def mark(found: Option | Exclusion, trip: RoundTrip | None) -> Option | Exclusion:
    """A rented option says the round trip added to it (or why none is); one that missed its target, why."""
    if isinstance(found, Exclusion):
        return short_of_target(found, trip)
    if trip is None:
        return found
    found.network_rtt_ms = trip.rtt_ms
    if trip.rtt_ms is None:
        found.network_basis = trip.basis
        found.notes.append(f"network round trip from {trip.users} users not known ({trip.basis}): nothing added, "
                           "its latency here is the serving alone")
    else:
        found.network_basis = f"from {trip.users} users to {trip.hosting} ({trip.basis})"
        found.notes.append(f"network round trip of {trip.rtt_ms:g} ms {found.network_basis} added to each request: "
                           f"{number(found.p95_ms_at_peak)} + {trip.rtt_ms:g} ms at the peak")
    return found


def on_site(found: Option | Exclusion, workload: Workload) -> Option | Exclusion:
    """Hardware owned or bought: next to its users, no round trip (said, where the users' region is given)."""
    if isinstance(found, Option) and workload.users_region is not None:
        found.network_rtt_ms = 0.0
        found.network_basis = "on site, next to its users: no round trip (an assumption)"
    return found
