"""Task-level differences between two plan versions (pure: works on ``PlanVersion.snapshot`` dicts).

Tasks are matched by their id (a revision keeps the ids of the tasks it edits), then the unmatched
ones by number and text. A change lists which of text, lead units, cooperating units and deadline
differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The aspects compared, in display order, with their Chinese labels.
ASPECTS: dict[str, str] = {
    "text": "任务内容",
    "lead_units": "牵头单位",
    "cooperating_units": "配合单位",
    "deadline": "完成时限",
}


@dataclass(frozen=True)
class TaskChange:
    """One task's difference: ``kind`` is "added", "removed" or "changed"; ``fields`` names what changed.

    ``before``/``after`` map each aspect to its text in the older / newer version ("" when absent).
    """

    kind: str
    no: str
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        """The change in Chinese (新增 / 删除 / 修改)."""
        return {"added": "新增", "removed": "删除", "changed": "修改"}[self.kind]

    @property
    def field_labels(self) -> list[str]:
        """The changed aspects in Chinese."""
        return [ASPECTS[f] for f in self.fields]


def _names(units: list[dict[str, Any]]) -> str:
    return "、".join(u.get("name") or u.get("printed_name") or "" for u in units)


def _deadline(task: dict[str, Any]) -> str:
    text = task.get("deadline_text") or ""
    date = task.get("deadline") or ""
    if text and date and date not in text:
        return f"{text}（{date}）"
    return text or date


def task_aspects(task: dict[str, Any]) -> dict[str, str]:
    """The compared aspects of a snapshot task as display strings."""
    return {
        "text": (task.get("text") or "").strip(),
        "lead_units": _names(task.get("lead_units") or []),
        "cooperating_units": _names(task.get("cooperating_units") or []),
        "deadline": _deadline(task),
    }


def _comparable(task: dict[str, Any]) -> dict[str, Any]:
    """What counts as a change: unit ids where resolved (names otherwise), the resolved date and text."""

    def ids(units: list[dict[str, Any]]) -> list[Any]:
        return [u.get("unit_id") or u.get("printed_name") or u.get("name") for u in units]

    return {
        "text": (task.get("text") or "").strip(),
        "lead_units": ids(task.get("lead_units") or []),
        "cooperating_units": ids(task.get("cooperating_units") or []),
        "deadline": (task.get("deadline_text") or "", task.get("deadline"), task.get("deadline_end")),
    }


def version_diff(older: dict[str, Any], newer: dict[str, Any]) -> list[TaskChange]:
    """Changes from ``older`` to ``newer`` (snapshots), in the newer version's printed order.

    Removed tasks follow at the place they had. Unchanged tasks are left out.
    """
    old_tasks: list[dict[str, Any]] = list(older.get("tasks") or [])
    new_tasks: list[dict[str, Any]] = list(newer.get("tasks") or [])
    old_by_id = {t.get("id"): t for t in old_tasks if t.get("id") is not None}
    matched: dict[int, dict[str, Any]] = {}  # index in new_tasks -> old task
    used: set[int] = set()
    for i, task in enumerate(new_tasks):
        old = old_by_id.get(task.get("id"))
        if old is not None and id(old) not in used:
            matched[i] = old
            used.add(id(old))
    leftovers = [t for t in old_tasks if id(t) not in used]
    for i, task in enumerate(new_tasks):
        if i in matched:
            continue
        for old in leftovers:
            if id(old) in used:
                continue
            if (
                old.get("no") == task.get("no")
                and (old.get("text") or "").strip() == (task.get("text") or "").strip()
            ):
                matched[i] = old
                used.add(id(old))
                break
    changes: list[TaskChange] = []
    for i, task in enumerate(new_tasks):
        old = matched.get(i)
        if old is None:
            changes.append(
                TaskChange(
                    kind="added", no=task.get("no") or "", after=task_aspects(task), fields=tuple(ASPECTS)
                )
            )
            continue
        a, b = _comparable(old), _comparable(task)
        changed = tuple(k for k in ASPECTS if a[k] != b[k])
        if changed:
            changes.append(
                TaskChange(
                    kind="changed",
                    no=task.get("no") or old.get("no") or "",
                    before=task_aspects(old),
                    after=task_aspects(task),
                    fields=changed,
                )
            )
    for old in old_tasks:
        if id(old) not in used:
            changes.append(
                TaskChange(
                    kind="removed", no=old.get("no") or "", before=task_aspects(old), fields=tuple(ASPECTS)
                )
            )
    return changes


def snapshots_differ(older: dict[str, Any], newer: dict[str, Any]) -> bool:
    """True when the plan's title or any task differs between the two snapshots."""
    if (older.get("plan") or {}).get("title") != (newer.get("plan") or {}).get("title"):
        return True
    return bool(version_diff(older, newer))
