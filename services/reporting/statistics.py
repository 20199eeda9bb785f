"""The steering group's statistics, by year and municipality: aggregates only.

Each function reads the steering partition (or, for the subsidy cost, which grows every
day a relationship is open, the centre partition's facts) and returns a model the API
answers with and the dashboard draws. The arithmetic is in :mod:`services.reporting.figures`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

import asyncpg
from pydantic import BaseModel, Field

from contracts.guidance import Outcome
from contracts.intake import ReferralSource
from runtime.field_docs import MUNICIPALITY_FILTER, PERSON_ID, YEAR_FILTER
from runtime.sql import SqlStatements
from services.reporting import figures
from services.reporting.config import ReportingConfig
from services.reporting.disclosure_control import TOTAL, ProtectedTable, protect, protect_linked
from services.reporting.facts import TRANSFER_STATES, CaseFacts
from services.reporting.partitions import NOT_BY_YEAR, Metric
from services.rules import RULE_SETS, RuleSet, caseload


class StatisticsSql(SqlStatements):
    """The steering group's statistics' reads (ohjausryhmän tilastot), formatted once."""

    counts = """
        SELECT year, municipality, bucket, n FROM {schema}.steering_counts
        WHERE metric = $1 AND ($2::int IS NULL OR year = $2) AND ($3::text IS NULL OR municipality = $3)
    """
    referral_cells = """
        SELECT year, municipality, source AS bucket, sum(referred)::int AS n FROM {schema}.referrals_by_source
        GROUP BY year, municipality, source
    """
    metric_cells = "SELECT year, municipality, bucket, n FROM {schema}.steering_counts WHERE metric = $1"
    targets = """
        SELECT set_on, stream_version, target, municipalities::text FROM {schema}.intake_targets
        WHERE year = $1
    """
    referral_years = "SELECT DISTINCT year FROM {schema}.referrals_by_source ORDER BY year"
    metric_years = (
        "SELECT DISTINCT year FROM {schema}.steering_counts WHERE metric = $1 AND year <> 0 ORDER BY year"
    )
    cases = """
        SELECT facts::text FROM {schema}.centre_cases
        WHERE ($1::text IS NULL OR municipality = $1)
          AND facts ->> 'referral_date' IS NOT NULL AND facts ->> 'subsidy_days' IS NOT NULL
        ORDER BY client_id
    """


#: A count, or None where statistical disclosure control hides it (docs/adr/0023).
HIDDEN_NOTE = (
    "null where hidden: fewer clients than the threshold (REITTI_MIN_CELL, default 3), or a "
    "figure that would give such a cell back by subtraction; only for roles without client access"
)
Count = int | None
#: the two buckets of a table of a subset and the rest of its whole
PART, REST = "part", "rest"


SHARE_OF_TARGET = (
    "New clients as a fraction of the target, four decimals; null where hidden or with no target"
)
YEAR = Field(description=YEAR_FILTER)
MUNICIPALITY_OR_ALL = Field(description=MUNICIPALITY_FILTER)


class IntakeRow(BaseModel):
    municipality: str = Field(description="One of the centre's municipalities")
    new_clients: Count = Field(description=f"New clients; {HIDDEN_NOTE}")
    target: int | None = Field(
        description="The municipality's part of the year's target: as set, or apportioned by population"
    )
    share_of_target: float | None = Field(ge=0, description=SHARE_OF_TARGET)


class IntakeAgainstTarget(BaseModel):
    year: int = Field(description="The calendar year")
    new_clients: Count = Field(description=f"New clients; {HIDDEN_NOTE}")
    target: int | None = Field(
        description="The steering group's intake target for the year in force on as_of; null: none set"
    )
    target_set_on: date | None = Field(description="When the target shown was set (IntakeTargetSet)")
    target_apportioned: bool | None = Field(
        description="true: the municipalities' targets are apportioned by population; false: set "
        "per municipality by the steering group; null: no target"
    )
    share_of_target: float | None = Field(ge=0, description=SHARE_OF_TARGET)
    municipalities: list[IntakeRow] = Field(description="The same per municipality")


class Shares(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    total: Count = Field(description=f"The total; {HIDDEN_NOTE}")
    counts: dict[str, Count] = Field(description=f"Counts per category; {HIDDEN_NOTE}")
    shares: dict[str, float | None] = Field(
        description="Fractions of the total, four decimals; null where the count or the total is hidden"
    )

    @classmethod
    def of(
        cls, counts: dict[str, Count], total: Count, *, year: int | None, municipality: str | None
    ) -> Shares:
        """The counts with their total and shares; a share only where both are shown."""
        fractions = {
            k: None if n is None or total is None else figures.share(n, total) or 0.0
            for k, n in counts.items()
        }
        return cls(year=year, municipality=municipality, total=total, counts=counts, shares=fractions)


class SubsidyDays(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    clients_with_known_days: Count = Field(
        description=f"Referred clients whose subsidy days are known; {HIDDEN_NOTE}"
    )
    over_500_days: Count = Field(description=f"Of those, clients with over 500 days; {HIDDEN_NOTE}")
    share_over_500_days: float | None = Field(
        ge=0, le=1, description="over_500_days of clients_with_known_days, four decimals; null where hidden"
    )


class GuideCaseload(BaseModel):
    guide_person_id: str = Field(description=f"The guide: {PERSON_ID}")
    active_clients: int = Field(ge=0, description="The guide's active clients")
    over_limit: bool = Field(description="More active clients than the limit")


class CaseloadBand(BaseModel):
    band: str = Field(description="Active clients per guide, for example `40-60`, or `over limit`")
    guides: int = Field(ge=0, description="How many guides have a caseload in the band")


class Caseloads(BaseModel):
    municipality: str | None = MUNICIPALITY_OR_ALL
    limit: int = Field(description="The caseload limit per guide")
    staff_shown: bool = Field(
        description="Whether guides are named: only for roles with access to client data; "
        "the others see the bands alone"
    )
    guides: list[GuideCaseload] = Field(description="Each guide's caseload; empty unless staff_shown")
    bands: list[CaseloadBand] = Field(
        description="How many guides in each band of the limit (services/rules/caseload.py), anonymous"
    )
    guides_over_limit: int = Field(ge=0, description="How many guides are over the limit")


class WaitingForGuide(BaseModel):
    year: int | None = Field(description="Year the relationship was opened; null for all years")
    municipality: str | None = MUNICIPALITY_OR_ALL
    clients: Count = Field(
        description="Relationships open now and waiting for a named guide (not with social "
        f"services); {HIDDEN_NOTE}"
    )


class Waiting(BaseModel):
    clients: Count = Field(description=HIDDEN_NOTE)
    median_days: float | None = Field(description="null also where the count of clients is hidden")
    mean_days: float | None = Field(description="null also where the count of clients is hidden")


class WaitingTimes(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    referral_to_assessment: Waiting = Field(description="Days from the referral to the assessment")
    assessment_to_named_guide: Waiting = Field(description="Days from the assessment to a named guide")


class Durations(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    closed: Count = Field(description=f"Client relationships closed; {HIDDEN_NOTE}")
    over_three_years: Count = Field(
        description=f"Of those, relationships that lasted over three years; {HIDDEN_NOTE}"
    )
    share_over_three_years: float | None = Field(
        ge=0, le=1, description="over_three_years of closed, four decimals; null where hidden"
    )


class Transfers(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    transferred_to_social_services: Count = Field(
        description=f"Transfers made in the year (municipality: the receiving one); {HIDDEN_NOTE}"
    )
    returned_from_social_services: Count = Field(description=f"Returns made in the year; {HIDDEN_NOTE}")
    by_state: dict[str, Count] = Field(
        description="Where the year's transfers stand now: returned, at_social_services, "
        "closed_while_there (the centre's relationship closed while the client was there), "
        f"declined. They add up to transferred_to_social_services; {HIDDEN_NOTE}"
    )


class DeadlineStatus(BaseModel):
    due: Count = Field(description=f"Deadlines due; {HIDDEN_NOTE}")
    met_on_time: Count = Field(description=f"Met on or before the last day; {HIDDEN_NOTE}")
    met_late: Count = Field(description=f"Met after the last day; {HIDDEN_NOTE}")
    overdue: Count = Field(description="Not met and past due on the as-of day")
    pending: Count = Field(description="Not met and not yet due on the as-of day")


class Deadlines(BaseModel):
    year: int | None = Field(description="Year of the due dates; null for all years")
    municipality: str | None = MUNICIPALITY_OR_ALL
    as_of: date = Field(description="The day counted as of")
    assessment: DeadlineStatus = Field(description="Assessment deadline under the rules of the referral date")
    plan: DeadlineStatus = Field(description="Plan deadline under the rules of the opening date")


class MunicipalCostRow(BaseModel):
    municipality: str = Field(description="One of the centre's municipalities")
    clients: Count = Field(description=HIDDEN_NOTE)
    paid_days: int | None = Field(description="null where the count of clients is hidden")
    municipal_cost: Decimal | None = Field(
        description="Euros, estimated; null where the count of clients is hidden"
    )


class CostBasis(BaseModel):
    rule_set: str = Field(description="The rule set in force for part of the year")
    statute: str = Field(description="Its act")
    in_force_from: date = Field(description="First day of the year it applies to")
    in_force_until: date = Field(description="Last day of the year (up to as_of) it applies to")
    municipal_share: str = Field(description="The municipality's share of the subsidy under it, in words")


class MunicipalCost(BaseModel):
    year: int = Field(description="The calendar year")
    as_of: date = Field(description="The day counted as of")
    daily_amount: Decimal = Field(ge=0, description="The labour-market subsidy per day assumed, in euros")
    assumption: str = Field(description="What the estimate assumes, in words")
    basis: list[CostBasis] = Field(description="The rule sets the year's days were costed by, in order")
    municipalities: list[MunicipalCostRow] = Field(description="The cost per municipality")
    total: Decimal | None = Field(description="null where the total count of clients is hidden")


class ServicesUsed(BaseModel):
    year: int | None = YEAR
    municipality: str = Field(description="One of the centre's municipalities")
    measures_by_kind: dict[str, Count] = Field(description=f"Plan measures per kind; {HIDDEN_NOTE}")


COST_ASSUMPTION = (
    "Subsidy days at referral are the paid days so far; from the day after the referral until "
    "the closure (or the as-of day) every weekday is a paid day at the daily amount; each day's "
    "municipal share is that of the rules in force on that day; activated days (plan measures, "
    "rehabilitative work activity) are exempt where those rules say so."
)


def share_in_words(rules: RuleSet) -> str:
    """The municipality's share of the labour-market subsidy under ``rules``, in words."""
    scheme = rules.municipal_share
    tiers = "; ".join(
        f"paid days {t.first_day}{'+' if t.last_day is None else f'-{t.last_day}'}: {t.share * 100:g} %"
        for t in scheme.tiers
    )
    exempt = "activated days exempt" if scheme.activation_exempts else "no exemption for activation"
    return f"{tiers}; {exempt}"


def cost_basis(year: int, as_of: date) -> list[CostBasis]:
    """The rule sets in force during ``year`` up to ``as_of``, each with its days."""
    first, last = date(year, 1, 1), min(date(year, 12, 31), as_of)
    out = []
    for rules in RULE_SETS:
        start = max(first, rules.effective_from)
        end = last if rules.effective_until is None else min(last, rules.effective_until)
        if start <= end:
            out.append(
                CostBasis(
                    rule_set=rules.name,
                    statute=rules.statute,
                    in_force_from=start,
                    in_force_until=end,
                    municipal_share=share_in_words(rules),
                )
            )
    return out


class Cells:
    """One table's published cells for one caller: every value for a role with client
    access, the protected ones otherwise (services/reporting/disclosure_control.py)."""

    def __init__(self, table: ProtectedTable, *, hide_small: bool) -> None:
        self.table = table
        self.hide_small = hide_small

    def __call__(self, *cell: object) -> Count:
        return self.table.value(*cell) if self.hide_small else self.table.exact(*cell)


class Statistics:
    """The statistics queries against one reporting schema.

    ``hide_small`` (each query's keyword) is for callers without access to any client's
    data: their figures are protected by statistical disclosure control. Each figure comes
    from the one table it belongs to, read whole, so every query of it hides the same
    cells and no two answers can be subtracted into a hidden one."""

    def __init__(self, schema: str, config: ReportingConfig) -> None:
        self.config = config
        self.sql = StatisticsSql(schema)

    # --- tables ------------------------------------------------------------------------

    def _municipalities(self, seen: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.config.municipalities) + tuple(sorted(set(seen) - set(self.config.municipalities)))

    def _table(
        self, rows: Iterable[tuple[int, str, str, int]], buckets: Sequence[str] | None
    ) -> tuple[list[Sequence[int | str]], dict[tuple[int | str, ...], int]]:
        """The dimensions and inner cells of (year, municipality[, bucket]) from ``rows``;
        without ``buckets`` the bucket is summed away."""
        inner: dict[tuple[int | str, ...], int] = defaultdict(int)
        years: set[int] = set()
        municipalities: set[str] = set()
        seen_buckets: set[str] = set()
        for year, municipality, bucket, n in rows:
            years.add(year)
            municipalities.add(municipality)
            seen_buckets.add(bucket)
            inner[(year, municipality) if buckets is None else (year, municipality, bucket)] += n
        dims: list[Sequence[int | str]] = [sorted(years), self._municipalities(municipalities)]
        if buckets is not None:
            dims.append(tuple(buckets) + tuple(sorted(seen_buckets - set(buckets))))
        return dims, inner

    def _cells(
        self,
        rows: Iterable[tuple[int, str, str, int]],
        buckets: Sequence[str] | None,
        *,
        hide_small: bool,
    ) -> Cells:
        dims, inner = self._table(rows, buckets)
        return Cells(protect(dims, inner, self.config.min_cell), hide_small=hide_small)

    async def _part_of(
        self, conn: asyncpg.Connection, whole: Sequence[tuple[int, str, int]], part: Metric
    ) -> list[tuple[int, str, str, int]]:
        """Rows of a {part, rest} table: ``part`` (a subset of ``whole``, for example the
        clients over 500 days among those whose days are known) and the rest of the whole.
        One table, so that the whole minus the part is protected like any other cell."""
        parts: dict[tuple[int, str], int] = defaultdict(int)
        for r in await conn.fetch(self.sql.metric_cells, part.value):
            parts[(r["year"], r["municipality"])] += r["n"]
        wholes: dict[tuple[int, str], int] = defaultdict(int)
        for year, municipality, n in whole:
            wholes[(year, municipality)] += n
        return [
            row
            for key in sorted(wholes.keys() | parts.keys())
            for row in ((*key, PART, parts[key]), (*key, REST, wholes[key] - parts[key]))
        ]

    async def _closures(self, conn: asyncpg.Connection, *, hide_small: bool) -> tuple[Cells, Cells]:
        """The outcome table and the {over three years, rest} table of closures. Both
        publish the closures per year and municipality, so they are protected together
        (:func:`protect_linked`): a total hidden in one is hidden in the other."""
        closed = [
            (r["year"], r["municipality"], r["bucket"], r["n"])
            for r in await conn.fetch(self.sql.metric_cells, Metric.CLOSED.value)
        ]
        durations = await self._part_of(
            conn, [(y, m, n) for y, m, _, n in closed], Metric.CLOSED_OVER_THREE_YEARS
        )
        outcome_dims, outcome_inner = self._table(closed, [o.value for o in Outcome])
        duration_dims, duration_inner = self._table(durations, [PART, REST])
        # the same years and municipalities in both, so a shared total sits at one position
        years = sorted({*outcome_dims[0], *duration_dims[0]})
        municipalities = self._municipalities([str(m) for m in (*outcome_dims[1], *duration_dims[1])])
        outcomes, split = protect_linked(
            ([years, municipalities, outcome_dims[2]], outcome_inner),
            ([years, municipalities, duration_dims[2]], duration_inner),
            self.config.min_cell,
            shared=lambda cell: cell[2] is TOTAL,
        )
        return Cells(outcomes, hide_small=hide_small), Cells(split, hide_small=hide_small)

    async def _metric(
        self,
        conn: asyncpg.Connection,
        metric: Metric,
        buckets: Sequence[str] | None = None,
        *,
        hide_small: bool,
    ) -> Cells:
        rows = await conn.fetch(self.sql.metric_cells, metric.value)
        return self._cells(
            ((r["year"], r["municipality"], r["bucket"], r["n"]) for r in rows),
            buckets,
            hide_small=hide_small,
        )

    async def _referrals(self, conn: asyncpg.Connection, *, hide_small: bool) -> Cells:
        rows = await conn.fetch(self.sql.referral_cells)
        return self._cells(
            ((r["year"], r["municipality"], r["bucket"], r["n"]) for r in rows),
            [s.value for s in ReferralSource],
            hide_small=hide_small,
        )

    async def _buckets(
        self, conn: asyncpg.Connection, metric: Metric, year: int | None, municipality: str | None
    ) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in await conn.fetch(self.sql.counts, metric.value, year, municipality):
            out[r["bucket"]] += r["n"]
        return dict(out)

    # --- figures -----------------------------------------------------------------------

    async def referral_years(self, conn: asyncpg.Connection) -> list[int]:
        return [r["year"] for r in await conn.fetch(self.sql.referral_years)]

    async def years(self, conn: asyncpg.Connection, metric: Metric) -> list[int]:
        """The years that have counts of ``metric``."""
        return [r["year"] for r in await conn.fetch(self.sql.metric_years, metric.value)]

    async def target(
        self, conn: asyncpg.Connection, *, year: int, as_of: date | None
    ) -> figures.TargetSetting | None:
        """The steering group's intake target for ``year`` in force on ``as_of`` (the
        latest setting when None), from the settings reporting holds (IntakeTargetSet)."""
        rows = await conn.fetch(self.sql.targets, year)
        return figures.target_in_force(
            (
                figures.TargetSetting(
                    set_on=r["set_on"],
                    order=r["stream_version"],
                    target=r["target"],
                    municipalities=None if r["municipalities"] is None else json.loads(r["municipalities"]),
                )
                for r in rows
            ),
            as_of,
        )

    async def intake(
        self, conn: asyncpg.Connection, *, year: int, as_of: date | None = None, hide_small: bool = False
    ) -> IntakeAgainstTarget:
        cells = await self._referrals(conn, hide_small=hide_small)
        setting = await self.target(conn, year=year, as_of=as_of)
        target = None if setting is None else setting.target
        targets = (
            {}
            if setting is None
            else figures.municipal_targets(setting, self.config.populations, self.config.municipalities)
        )
        seen = [str(m) for m in cells.table.dims[1] if cells.table.exact(year, m, TOTAL)]
        rows = []
        for m in self._municipalities([*seen, *targets]):
            n = cells(year, m, TOTAL)
            rows.append(
                IntakeRow(
                    municipality=m,
                    new_clients=n,
                    target=targets.get(m),
                    share_of_target=None if n is None else figures.share(n, targets.get(m) or 0),
                )
            )
        total = cells(year, TOTAL, TOTAL)
        return IntakeAgainstTarget(
            year=year,
            new_clients=total,
            target=target,
            target_set_on=None if setting is None else setting.set_on,
            target_apportioned=None if setting is None else setting.municipalities is None,
            share_of_target=None if total is None else figures.share(total, target or 0),
            municipalities=rows,
        )

    async def referral_sources(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Shares:
        cells = await self._referrals(conn, hide_small=hide_small)
        counts = {s.value: cells(year, municipality, s.value) for s in ReferralSource}
        return Shares.of(counts, cells(year, municipality, TOTAL), year=year, municipality=municipality)

    async def outcomes(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Shares:
        cells, _ = await self._closures(conn, hide_small=hide_small)
        counts = {o.value: cells(year, municipality, o.value) for o in Outcome}
        return Shares.of(counts, cells(year, municipality, TOTAL), year=year, municipality=municipality)

    async def subsidy_days(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> SubsidyDays:
        known_rows = [
            (r["year"], r["municipality"], r["n"])
            for r in await conn.fetch(self.sql.metric_cells, Metric.SUBSIDY_DAYS_KNOWN.value)
        ]
        cells = self._cells(
            await self._part_of(conn, known_rows, Metric.OVER_500_DAYS), [PART, REST], hide_small=hide_small
        )
        known, over = cells(year, municipality, TOTAL), cells(year, municipality, PART)
        return SubsidyDays(
            year=year,
            municipality=municipality,
            clients_with_known_days=known,
            over_500_days=over,
            share_over_500_days=None if known is None or over is None else figures.share(over, known),
        )

    async def caseloads(
        self, conn: asyncpg.Connection, *, municipality: str | None, show_staff: bool = True
    ) -> Caseloads:
        """A guide's workload, not a client's figure: never hidden. Guides are named only
        with ``show_staff``; the bands (services/rules/caseload.py) are anonymous."""
        active = await self._buckets(conn, Metric.ACTIVE_CASELOAD, NOT_BY_YEAR, municipality)
        limit = self.config.caseload_limit
        guides = [
            GuideCaseload(guide_person_id=g, active_clients=n, over_limit=caseload.over_limit(n, limit))
            for g, n in sorted(active.items(), key=lambda item: (-item[1], item[0]))
        ]
        in_band = Counter(caseload.caseload_band(g.active_clients, limit) for g in guides)
        return Caseloads(
            municipality=municipality,
            limit=limit,
            staff_shown=show_staff,
            guides=guides if show_staff else [],
            bands=[CaseloadBand(band=b, guides=in_band[b]) for b in caseload.caseload_bands(limit)],
            guides_over_limit=sum(g.over_limit for g in guides),
        )

    async def waiting_for_guide(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> WaitingForGuide:
        cells = await self._metric(conn, Metric.WAITING_FOR_GUIDE, hide_small=hide_small)
        return WaitingForGuide(year=year, municipality=municipality, clients=cells(year, municipality))

    async def waiting_times(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> WaitingTimes:
        async def waiting(metric: Metric) -> Waiting:
            clients = (await self._metric(conn, metric, hide_small=hide_small))(year, municipality)
            if clients is None:
                return Waiting(clients=None, median_days=None, mean_days=None)
            buckets = await self._buckets(conn, metric, year, municipality)
            found = figures.spread({int(days): n for days, n in buckets.items()})
            return Waiting(clients=found.clients, median_days=found.median_days, mean_days=found.mean_days)

        return WaitingTimes(
            year=year,
            municipality=municipality,
            referral_to_assessment=await waiting(Metric.WAIT_REFERRAL_TO_ASSESSMENT),
            assessment_to_named_guide=await waiting(Metric.WAIT_ASSESSMENT_TO_GUIDE),
        )

    async def durations(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Durations:
        # The closed count is the outcome table's total too: the two are protected together.
        _, split = await self._closures(conn, hide_small=hide_small)
        closed, over = split(year, municipality, TOTAL), split(year, municipality, PART)
        return Durations(
            year=year,
            municipality=municipality,
            closed=closed,
            over_three_years=over,
            share_over_three_years=None if closed is None or over is None else figures.share(over, closed),
        )

    async def transfers(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Transfers:
        # One table of the transfers by where they stand: its total is the transfers made.
        states = await self._metric(conn, Metric.TRANSFER_STATE, TRANSFER_STATES, hide_small=hide_small)
        back = await self._metric(conn, Metric.RETURNED, hide_small=hide_small)
        return Transfers(
            year=year,
            municipality=municipality,
            transferred_to_social_services=states(year, municipality, TOTAL),
            returned_from_social_services=back(year, municipality),
            by_state={state: states(year, municipality, state) for state in TRANSFER_STATES},
        )

    async def deadlines(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        as_of: date,
        hide_small: bool = False,
    ) -> Deadlines:
        async def status(metric: Metric) -> DeadlineStatus:
            rows = await conn.fetch(self.sql.metric_cells, metric.value)
            cells = self._cells(
                (
                    (r["year"], r["municipality"], figures.deadline_state(r["bucket"], as_of), r["n"])
                    for r in rows
                ),
                figures.DEADLINE_STATES,
                hide_small=hide_small,
            )
            counts = {state: cells(year, municipality, state) for state in figures.DEADLINE_STATES}
            return DeadlineStatus(due=cells(year, municipality, TOTAL), **counts)

        return Deadlines(
            year=year,
            municipality=municipality,
            as_of=as_of,
            assessment=await status(Metric.ASSESSMENT_DEADLINE),
            plan=await status(Metric.PLAN_DEADLINE),
        )

    async def services_used(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str, hide_small: bool = False
    ) -> ServicesUsed:
        cells = await self._metric(conn, Metric.MEASURES, [], hide_small=hide_small)
        kinds = sorted(str(k) for k in cells.table.dims[2] if cells.table.exact(year, municipality, k))
        return ServicesUsed(
            year=year,
            municipality=municipality,
            measures_by_kind={k: cells(year, municipality, k) for k in kinds},
        )

    async def municipal_cost(
        self,
        conn: asyncpg.Connection,
        *,
        year: int,
        municipality: str | None,
        as_of: date,
        daily_amount: Decimal | None = None,
        hide_small: bool = False,
    ) -> MunicipalCost:
        amount = self.config.subsidy_daily_amount if daily_amount is None else daily_amount
        # Every municipality's row is computed, so the hidden ones are the same whichever is asked.
        cases = [CaseFacts.model_validate_json(r[0]) for r in await conn.fetch(self.sql.cases, None)]
        costs = figures.municipal_costs(cases, year=year, as_of=as_of, daily_amount=amount)
        table = protect(
            [[c.municipality for c in costs]],
            {(c.municipality,): c.clients for c in costs},
            self.config.min_cell,
        )
        cells = Cells(table, hide_small=hide_small)
        rows = [
            MunicipalCostRow(
                municipality=c.municipality,
                clients=cells(c.municipality),
                paid_days=None if cells(c.municipality) is None else c.paid_days,
                municipal_cost=None if cells(c.municipality) is None else c.municipal_cost,
            )
            for c in costs
            if municipality is None or c.municipality == municipality
        ]
        if municipality is None:
            total = None if cells(TOTAL) is None else sum((c.municipal_cost for c in costs), Decimal("0.00"))
        else:
            total = rows[0].municipal_cost if rows else Decimal("0.00")
        return MunicipalCost(
            year=year,
            as_of=as_of,
            daily_amount=amount,
            assumption=COST_ASSUMPTION,
            basis=cost_basis(year, as_of),
            municipalities=rows,
            total=total,
        )
