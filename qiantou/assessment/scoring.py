"""Scores from the record (考核计分). Nothing here is typed in: every point comes from an event.

For a :class:`~qiantou.assessment.models.ScoringRules`, a period ``[start, end]`` (due dates) and a
day ``as_of`` (what is known then), each unit gets four criterion scores on 0–100:

- **timeliness** (按时完成): every chase item the unit owes (its part of a task, a material request, a
  progress report) due in the period and either done or already past due by ``as_of``. Done on or
  before the due date: 100; done N working days late: ``max(0, 100 − N × late_penalty_per_working_day)``;
  not done and past due (missing): 0. The criterion's score is the mean over those items.
- **completeness** (报送完整): of the material and report requests due in the period (done, or past
  due), the share answered (handed in), × 100.
- **quality** (质量评价): the mean of the lead unit's 1–5 ratings of the unit's submissions and reports
  for those requests, × 20.
- **cooperation** (配合态度): 100 × the share of reminders sent to the unit (not cancelled) that were
  acknowledged (100 when none was needed), minus ``extension_penalty`` per extension request
  (延期申请) raised, plus ``difficulty_resolved_bonus`` per difficulty (困难反映) raised and resolved;
  kept within 0–100.

A criterion with no events for a unit (nothing due, no ratings) is left out and the remaining weights
are scaled up to 100 % (a unit is neither rewarded nor punished for what was never asked of it);
cooperation always counts. The **total** is ``Σ weightᵢ × scoreᵢ / Σ weightᵢ`` over the criteria that
count, plus the manual bonus/penalty points (加减分) dated in the period. Values are rounded to two
decimals only for display.

A plan's **lead unit** owes items too (its own part of its tasks); those are scored as the lead unit's
own record and kept apart from the cooperating units' ranking (``role == "lead"``): a lead unit is
never blamed for a cooperating unit's lateness, and its own lateness never hides in theirs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from qiantou.assessment.models import (
    CRITERIA,
    DEFAULT_PARAMETERS,
    DEFAULT_WEIGHTS,
    QualityRating,
    ScoreAdjustment,
    ScoringRules,
)
from qiantou.assessment.workindex import WorkdayIndex
from qiantou.chasing.calendar import SHANGHAI, get_calendar
from qiantou.chasing.models import (
    ChaseItem,
    ItemKind,
    ItemState,
    Petition,
    PetitionKind,
    PetitionStatus,
    Reminder,
)
from qiantou.plans.models import Plan, PlanStatus
from qiantou.units.models import Unit, UnitKind

CRITERION_LABELS = {
    "timeliness": "按时完成",
    "completeness": "报送完整",
    "quality": "质量评价",
    "cooperation": "配合态度",
}
ROLE_LEAD, ROLE_COOPERATING = "lead", "cooperating"


@dataclass
class EventRef:
    """One event behind a point: what happened, to which object (``url`` opens it), and its effect."""

    kind: str
    label: str
    url: str
    points: float | None = None
    on: dt.date | None = None


@dataclass
class CriterionScore:
    """One criterion for one unit: the score (None: no events, not counted), its weight, its events."""

    key: str
    weight: float
    score: float | None
    events: list[EventRef] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The criterion's Chinese name."""
        return CRITERION_LABELS[self.key]

    @property
    def counted(self) -> bool:
        """Whether the criterion counts towards the total."""
        return self.score is not None


@dataclass
class UnitScore:
    """A unit's scorecard line for a period and role (``lead`` or ``cooperating``)."""

    unit_id: int
    unit_name: str
    role: str
    criteria: dict[str, CriterionScore]
    adjustments: list[EventRef] = field(default_factory=list)
    adjustment_points: float = 0.0
    weighted: float = 0.0
    total: float = 0.0
    rank: int | None = None
    items_due: int = 0
    items_late: int = 0
    items_missing: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share of counted items done on time (0–1), None when nothing was due."""
        if not self.items_due:
            return None
        return (self.items_due - self.items_late - self.items_missing) / self.items_due


@dataclass
class Scorecard:
    """Every unit's score for one rules set and period; ``cooperating`` ranked, ``lead`` apart."""

    rules_id: int
    rules_version: int
    start: dt.date
    end: dt.date
    as_of: dt.date
    weights: dict[str, float]
    cooperating: list[UnitScore]
    lead: list[UnitScore]

    def unit(self, unit_id: int, role: str = ROLE_COOPERATING) -> UnitScore | None:
        """The line of one unit (None when it has no record in the period)."""
        rows = self.cooperating if role == ROLE_COOPERATING else self.lead
        return next((r for r in rows if r.unit_id == unit_id), None)


def effective_weights(rules: ScoringRules) -> dict[str, float]:
    """The rules' weights for the four criteria (defaults for any not given)."""
    raw = {**DEFAULT_WEIGHTS, **(rules.weights or {})}
    return {k: float(raw[k]) for k in CRITERIA}


def effective_parameters(rules: ScoringRules) -> dict[str, float]:
    """The rules' parameters (defaults for any not given)."""
    raw = {**DEFAULT_PARAMETERS, **(rules.parameters or {})}
    return {k: float(v) for k, v in raw.items()}


def plans_in_scope(rules: ScoringRules) -> Q:
    """A ``Q`` on ``plan`` for the plans the rules assess: its plan, or every issued/closed plan."""
    if rules.plan_id:
        return Q(plan_id=rules.plan_id)
    return Q(plan__status__in=[PlanStatus.ISSUED, PlanStatus.CLOSED])


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(SHANGHAI).date() if moment is not None else None


_URL_ID = 987654321


def _url_templates() -> dict[str, str]:
    """URL patterns with ``{}`` for the id, reversed once per computation (reverse() per event is slow)."""
    names = ("chasing:item", "chasing:material_request", "chasing:report_request")
    return {n: reverse(n, args=[_URL_ID]).replace(str(_URL_ID), "{}") for n in names}


def _item_url(urls: dict[str, str], kind: str, item_id: int, extra: int | None) -> str:
    if kind == ItemKind.MATERIAL_REQUEST and extra:
        return urls["chasing:material_request"].format(extra)
    if kind == ItemKind.REPORT_REQUEST and extra:
        return urls["chasing:report_request"].format(extra)
    return urls["chasing:item"].format(item_id)


class _Acc:
    """Per (unit, role) accumulators while reading the record."""

    def __init__(self) -> None:
        self.timely: list[EventRef] = []
        self.requests: list[EventRef] = []
        self.ratings: list[EventRef] = []
        self.reminders_sent = 0
        self.reminders_acked = 0
        self.reminder_events: list[EventRef] = []
        self.petition_events: list[EventRef] = []
        self.extensions = 0
        self.resolved_difficulties = 0
        self.adjustments: list[EventRef] = []
        self.adjustment_points = 0.0
        self.late = 0
        self.missing = 0


def compute_scorecard(
    rules: ScoringRules,
    *,
    start: dt.date,
    end: dt.date,
    as_of: dt.date | None = None,
    unit_ids: Iterable[int] | None = None,
    with_events: bool = True,
) -> Scorecard:
    """Score every unit with a record under ``rules`` for items due in ``[start, end]``, as known on
    ``as_of`` (default: today in Asia/Shanghai, but never later than the record allows).

    ``unit_ids`` limits the units; ``with_events=False`` skips building the event lists (trends).
    Working days count on the official calendar; an item in an unloaded year counts its lateness in
    calendar days. Returns a :class:`Scorecard`.
    """
    as_of = as_of or timezone.localdate(timezone=SHANGHAI)
    weights = effective_weights(rules)
    params = effective_parameters(rules)
    cal = get_calendar()
    index = WorkdayIndex(cal)
    scope = plans_in_scope(rules)
    # A collective party (各有关单位, kind group) is not a unit and is never scored, whatever it was asked.
    items = (
        ChaseItem.objects.filter(scope, due_date__gte=start, due_date__lte=end)
        .exclude(state=ItemState.CANCELLED)
        .exclude(unit__kind=UnitKind.GROUP)
    )
    if unit_ids is not None:
        items = items.filter(unit_id__in=list(unit_ids))
    rows = list(
        items.values_list(
            "id",
            "kind",
            "unit_id",
            "plan__lead_unit_id",
            "due_date",
            "state",
            "done_at",
            "title",
            "material_request__id",
            "report_request__id",
        )
    )
    urls = _url_templates()
    acc: dict[tuple[int, str], _Acc] = defaultdict(_Acc)
    item_owner: dict[int, tuple[int, str]] = {}
    penalty = params["late_penalty_per_working_day"]
    for pk, kind, unit_id, lead_id, due, state, done_at, title, mr_id, rr_id in rows:
        role = ROLE_LEAD if unit_id == lead_id else ROLE_COOPERATING
        a = acc[(unit_id, role)]
        item_owner[pk] = (unit_id, role)
        done_on = _local_date(done_at) if state == ItemState.DONE else None
        if done_on is None and due >= as_of:
            continue  # not yet due and not done: nothing to score yet
        if done_on is not None:
            if done_on <= due:
                late, points, what = 0, 100.0, "按时完成"
            else:
                try:
                    late = index.between(due, done_on)
                except Exception:  # unloaded year: calendar days
                    late = (done_on - due).days
                points = max(0.0, 100.0 - late * penalty)
                what = f"逾期{late}个工作日完成"
                if late:
                    a.late += 1
        else:
            points, what = 0.0, "逾期未完成"
            a.missing += 1
        url = _item_url(urls, kind, pk, mr_id or rr_id) if with_events else ""
        a.timely.append(EventRef("item", f"{title}（{due:%Y-%m-%d}）：{what}", url, points, due))
        if kind in (ItemKind.MATERIAL_REQUEST, ItemKind.REPORT_REQUEST):
            answered = done_on is not None
            a.requests.append(
                EventRef(
                    "request",
                    f"{title}：{'已报送' if answered else '未报送'}",
                    url,
                    100.0 if answered else 0.0,
                    due,
                )
            )
    item_ids = items.values("id")  # a subquery: no parameter list of tens of thousands of ids
    # Reminders on those items (sent and not cancelled) and their acknowledgement.
    for item_id, label, fired, acked in Reminder.objects.filter(
        item_id__in=item_ids, cancelled=False, dispatched_at__isnull=False
    ).values_list("item_id", "label", "fired_at", "acknowledged_at"):
        a = acc[item_owner[item_id]]
        a.reminders_sent += 1
        if acked is not None:
            a.reminders_acked += 1
        if with_events:
            a.reminder_events.append(
                EventRef(
                    "reminder",
                    f"{label}（{_local_date(fired):%Y-%m-%d}）：{'已确认' if acked else '未确认'}",
                    urls["chasing:item"].format(item_id),
                    None,
                    _local_date(fired),
                )
            )
    for item_id, kind, status, raised_at in Petition.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "kind", "status", "raised_at"
    ):
        a = acc[item_owner[item_id]]
        if kind == PetitionKind.EXTENSION:
            a.extensions += 1
            effect = -params["extension_penalty"]
            text = f"延期申请（{PetitionStatus(status).label}）"
        elif status == PetitionStatus.RESOLVED:
            a.resolved_difficulties += 1
            effect = params["difficulty_resolved_bonus"]
            text = "困难反映（已协调解决）"
        else:
            effect = 0.0
            text = f"困难反映（{PetitionStatus(status).label}）"
        if with_events:
            a.petition_events.append(
                EventRef(
                    "petition", text, urls["chasing:item"].format(item_id), effect, _local_date(raised_at)
                )
            )
    # Quality ratings of submissions and reports on those items.
    for rating, comment, sub_item, rep_item, sub_request, rep_request in QualityRating.objects.filter(
        Q(submission__request__item_id__in=item_ids) | Q(report__request__item_id__in=item_ids)
    ).values_list(
        "rating",
        "comment",
        "submission__request__item_id",
        "report__request__item_id",
        "submission__request_id",
        "report__request_id",
    ):
        item_id = sub_item or rep_item
        a = acc[item_owner[item_id]]
        url = ""
        if with_events:
            url = (
                urls["chasing:material_request"].format(sub_request)
                if sub_request
                else urls["chasing:report_request"].format(rep_request)
            )
        a.ratings.append(EventRef("rating", f"质量评分{rating}分：{comment}", url, rating * 20.0))
    # Manual bonus / penalty items of these rules dated in the period (cooperating side by default;
    # on the lead side when the unit is the lead unit of the rules' plan).
    adj = ScoreAdjustment.objects.filter(rules=rules, on_date__gte=start, on_date__lte=end).exclude(
        unit__kind=UnitKind.GROUP
    )
    if unit_ids is not None:
        adj = adj.filter(unit_id__in=list(unit_ids))
    lead_of_plan = rules.plan.lead_unit_id if rules.plan_id and rules.plan else None
    for unit_id, adj_points, reason, on in adj.values_list("unit_id", "points", "reason", "on_date"):
        role = ROLE_LEAD if unit_id == lead_of_plan else ROLE_COOPERATING
        a = acc[(unit_id, role)]
        value = float(Decimal(str(adj_points)))
        a.adjustment_points += value
        a.adjustments.append(
            EventRef(
                "adjustment",
                f"{'加分' if value >= 0 else '减分'}：{reason}",
                reverse("assessment:rules", args=[rules.pk]) if with_events else "",
                value,
                on,
            )
        )
    names = dict(Unit.objects.filter(pk__in={u for u, _ in acc}).values_list("id", "name"))
    lines: list[UnitScore] = []
    for (unit_id, role), a in acc.items():
        lines.append(_line(unit_id, names.get(unit_id, str(unit_id)), role, a, weights, params))
    cooperating = sorted(
        (x for x in lines if x.role == ROLE_COOPERATING), key=lambda x: (-x.total, x.unit_name)
    )
    lead = sorted((x for x in lines if x.role == ROLE_LEAD), key=lambda x: (-x.total, x.unit_name))
    _rank(cooperating)
    _rank(lead)
    return Scorecard(rules.pk, rules.version, start, end, as_of, weights, cooperating, lead)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _line(
    unit_id: int, name: str, role: str, a: _Acc, weights: dict[str, float], params: dict[str, float]
) -> UnitScore:
    timely = [e.points or 0.0 for e in a.timely]
    requests = [e.points or 0.0 for e in a.requests]
    ratings = [e.points or 0.0 for e in a.ratings]
    ack = 100.0 * a.reminders_acked / a.reminders_sent if a.reminders_sent else 100.0
    coop = ack - params["extension_penalty"] * a.extensions
    coop += params["difficulty_resolved_bonus"] * a.resolved_difficulties
    coop = min(100.0, max(0.0, coop))
    criteria = {
        "timeliness": CriterionScore(
            "timeliness", weights["timeliness"], _mean(timely) if timely else None, a.timely
        ),
        "completeness": CriterionScore(
            "completeness", weights["completeness"], _mean(requests) if requests else None, a.requests
        ),
        "quality": CriterionScore(
            "quality", weights["quality"], _mean(ratings) if ratings else None, a.ratings
        ),
        "cooperation": CriterionScore(
            "cooperation", weights["cooperation"], coop, a.reminder_events + a.petition_events
        ),
    }
    counted = [c for c in criteria.values() if c.counted]
    wsum = sum(c.weight for c in counted)
    weighted = sum(c.weight * (c.score or 0.0) for c in counted) / wsum if wsum else 0.0
    return UnitScore(
        unit_id=unit_id,
        unit_name=name,
        role=role,
        criteria=criteria,
        adjustments=a.adjustments,
        adjustment_points=a.adjustment_points,
        weighted=weighted,
        total=weighted + a.adjustment_points,
        items_due=len(a.timely),
        items_late=a.late,
        items_missing=a.missing,
    )


def _rank(lines: list[UnitScore]) -> None:
    """Competition ranking (1, 2, 2, 4) by total, compared at two decimals."""
    previous: float | None = None
    for i, line in enumerate(lines, start=1):
        value = round(line.total, 2)
        if previous is None or value != previous:
            line.rank = i
            previous = value
        else:
            line.rank = lines[i - 2].rank


def month_periods(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The calendar months overlapping ``[start, end]``, clipped: ``[(label "2024-03", first, last)]``."""
    out = []
    cur = dt.date(start.year, start.month, 1)
    while cur <= end:
        nxt = dt.date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        out.append((f"{cur:%Y-%m}", max(cur, start), min(nxt - dt.timedelta(days=1), end)))
        cur = nxt
    return out


def quarter_periods(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The quarters overlapping ``[start, end]``, clipped: ``[("2024Q1", first, last)]``."""
    out = []
    q = (start.month - 1) // 3
    cur = dt.date(start.year, 3 * q + 1, 1)
    while cur <= end:
        nq = dt.date(cur.year + (cur.month == 10), (cur.month + 2) % 12 + 1, 1)
        out.append(
            (f"{cur.year}Q{(cur.month - 1) // 3 + 1}", max(cur, start), min(nq - dt.timedelta(days=1), end))
        )
        cur = nq
    return out


def score_trend(
    rules: ScoringRules,
    *,
    start: dt.date,
    end: dt.date,
    as_of: dt.date | None = None,
    by: str = "month",
    unit_ids: Iterable[int] | None = None,
) -> list[tuple[str, dict[int, float]]]:
    """Totals of the cooperating units per sub-period: ``[(label, {unit_id: total})]``."""
    periods = month_periods(start, end) if by == "month" else quarter_periods(start, end)
    ids = list(unit_ids) if unit_ids is not None else None
    out = []
    for label, a, b in periods:
        card = compute_scorecard(rules, start=a, end=b, as_of=as_of, unit_ids=ids, with_events=False)
        out.append((label, {line.unit_id: line.total for line in card.cooperating}))
    return out


def plans_for_rules(rules: ScoringRules) -> list[Plan]:
    """The plans a rules set assesses."""
    if rules.plan_id:
        return [rules.plan] if rules.plan else []
    return list(Plan.objects.filter(status__in=[PlanStatus.ISSUED, PlanStatus.CLOSED]))
