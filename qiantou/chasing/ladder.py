"""The reminder ladder (催办阶梯): which rung fires when, and to whom.

Default (issue "Chasing", item 4): a notice N working days before the due date to the liaison; on the
due day to the liaison; 1 working day overdue to the liaison and the unit head; 3 working days overdue
to the leader in charge of that unit; 5 working days overdue to the supervision office. A rung never
fires on a holiday: offsets count working days, and a due day that is a holiday moves to the next
working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from qiantou.chasing.calendar import at_local
from qiantou.chasing.models import RecipientRole
from qiantou.errors import QiantouError
from qiantou.workdays import WorkingCalendar

DEFAULT_NOTICE_WORKING_DAYS = 3
DEFAULT_SEND_TIME = dt.time(9, 0)
DEFAULT_WARNING_WORKING_DAYS = 3


class LadderError(QiantouError):
    """A ladder definition is malformed."""


@dataclass(frozen=True)
class Rung:
    """One step: ``offset`` working days from the due date, to ``recipients`` (RecipientRole values)."""

    key: str
    label: str
    offset: int
    recipients: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form stored on :class:`~qiantou.chasing.models.ReminderLadder`."""
        return {
            "key": self.key,
            "label": self.label,
            "offset": self.offset,
            "recipients": list(self.recipients),
        }


def default_rungs(notice_working_days: int = DEFAULT_NOTICE_WORKING_DAYS) -> list[Rung]:
    """The default ladder."""
    return [
        Rung(
            "notice",
            f"到期前{notice_working_days}个工作日提醒",
            -notice_working_days,
            (RecipientRole.LIAISON,),
        ),
        Rung("due", "到期当日提醒", 0, (RecipientRole.LIAISON,)),
        Rung("overdue_1", "逾期1个工作日催办", 1, (RecipientRole.LIAISON, RecipientRole.UNIT_HEAD)),
        Rung("overdue_3", "逾期3个工作日提请分管领导", 3, (RecipientRole.LEADER_IN_CHARGE,)),
        Rung("overdue_5", "逾期5个工作日报督查室", 5, (RecipientRole.SUPERVISION_OFFICE,)),
    ]


def parse_rungs(data: Any) -> list[Rung]:
    """Rungs from JSON; raises :class:`LadderError` naming the bad rung (keys unique, offsets increasing)."""
    if not isinstance(data, list) or not data:
        raise LadderError("催办阶梯至少需要一级")
    rungs: list[Rung] = []
    valid_roles = set(RecipientRole.values)
    for i, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            raise LadderError(f"第{i}级格式错误")
        key = str(raw.get("key") or "").strip()
        if not key or len(key) > 32:
            raise LadderError(f"第{i}级缺少标识（key）")
        try:
            offset = int(raw.get("offset", 0))
        except (TypeError, ValueError) as exc:
            raise LadderError(f"第{i}级的工作日偏移不是整数") from exc
        recipients = tuple(str(r) for r in raw.get("recipients") or [])
        if not recipients or not set(recipients) <= valid_roles:
            raise LadderError(f"第{i}级的接收人无效：{', '.join(recipients) or '（空）'}")
        if rungs and offset <= rungs[-1].offset:
            raise LadderError(f"第{i}级的工作日偏移（{offset}）必须大于上一级（{rungs[-1].offset}）")
        if any(r.key == key for r in rungs):
            raise LadderError(f"第{i}级的标识“{key}”重复")
        rungs.append(Rung(key, str(raw.get("label") or key)[:64], offset, recipients))
    return rungs


def fire_date(rung: Rung, due: dt.date, calendar: WorkingCalendar) -> dt.date:
    """The working day a rung fires for an item due on ``due``.

    Raises :class:`~qiantou.workdays.CalendarYearNotLoaded` when that day's year is not loaded.
    """
    if rung.offset == 0:
        return calendar.next_working_day(due, include_self=True)
    return calendar.add_working_days(due, rung.offset)


def fire_time(rung: Rung, due: dt.date, calendar: WorkingCalendar, send_time: dt.time) -> dt.datetime:
    """The instant a rung fires: :func:`fire_date` at ``send_time``, Asia/Shanghai."""
    return at_local(fire_date(rung, due, calendar), send_time)


def schedule(
    rungs: list[Rung],
    due: dt.date,
    calendar: WorkingCalendar,
    send_time: dt.time,
    start_index: int,
    not_before: dt.datetime | None = None,
) -> tuple[int, dt.datetime | None]:
    """The next rung to fire at or after ``start_index`` and its time; ``(len(rungs), None)`` when none.

    With ``not_before``, rungs that would have fired before it are passed over except the last of them
    (an item created late gets its most recent rung at once, not a burst of stale ones).
    """
    index = start_index
    if not_before is not None:
        while index + 1 < len(rungs) and fire_time(rungs[index + 1], due, calendar, send_time) <= not_before:
            index += 1
    if index >= len(rungs):
        return len(rungs), None
    return index, fire_time(rungs[index], due, calendar, send_time)
