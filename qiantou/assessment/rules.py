"""Who may do what in assessment (django-rules). Follows only from the user's unit and role.

- ``assessment.manage_rules`` (obj: ScoringRules or None): the supervision office (any rules); a
  handler or unit head of a plan's lead unit for that plan's rules (no object: may create some);
- ``assessment.view_scores`` (obj: ScoringRules): the supervision office, auditors, leaders in charge
  and principals; the handlers and unit heads of the rules' plan's lead unit;
- ``assessment.rate`` (obj: ChaseItem): the item's plan's handlers and unit heads (who accept submissions);
- ``assessment.draft_circular``: the supervision office (the leading group office);
- ``assessment.view_report``: auditors, the supervision office, leaders, and handlers/unit heads (for
  what the plan selectors let them see: scope is checked by the selectors);
- ``assessment.import_ledger`` (obj: Plan): a handler or unit head of the plan's lead unit.
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.models import ADMINISTRATOR_ROLES, Role

EDITOR_ROLES = frozenset({Role.HANDLER, Role.UNIT_HEAD})
OVERSEER_ROLES = frozenset({Role.SUPERVISION_OFFICE, Role.AUDITOR})
LEADER_ROLES = frozenset({Role.LEADER_IN_CHARGE, Role.PRINCIPAL})
REPORT_ROLES = OVERSEER_ROLES | LEADER_ROLES | EDITOR_ROLES


def _active(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "role", None) not in ADMINISTRATOR_ROLES
    )


def leads_plan(user: Any, plan: Any) -> bool:
    """Handler or unit head of the plan's lead unit."""
    return bool(
        _active(user)
        and plan is not None
        and user.role in EDITOR_ROLES
        and user.unit_id is not None
        and user.unit_id == plan.lead_unit_id
    )


@rules.predicate
def manages_rules(user: Any, obj: Any) -> bool:
    """Supervision office; or an editor of the lead unit of the rules' plan."""
    if not _active(user):
        return False
    if user.role == Role.SUPERVISION_OFFICE:
        return True
    if obj is None:
        return bool(user.role in EDITOR_ROLES)
    return bool(obj.plan_id and leads_plan(user, obj.plan))


@rules.predicate
def views_scores(user: Any, obj: Any) -> bool:
    """Overseers and leaders see every scorecard; editors of a plan's lead unit see that plan's."""
    if not _active(user):
        return False
    if user.role in OVERSEER_ROLES | LEADER_ROLES:
        return True
    if obj is None:
        return bool(user.role in EDITOR_ROLES)
    return bool(obj.plan_id and leads_plan(user, obj.plan))


@rules.predicate
def rates_item(user: Any, item: Any) -> bool:
    """The item's plan's handlers and unit heads."""
    return item is not None and leads_plan(user, item.plan)


@rules.predicate
def drafts_circular(user: Any) -> bool:
    """The supervision office (leading group office)."""
    return bool(_active(user) and user.role == Role.SUPERVISION_OFFICE)


@rules.predicate
def views_report(user: Any) -> bool:
    """Roles that may read accountability reports (what they cover is scoped by the selectors)."""
    return bool(_active(user) and user.role in REPORT_ROLES)


@rules.predicate
def imports_ledger(user: Any, plan: Any) -> bool:
    """Handler or unit head of the plan's lead unit."""
    return leads_plan(user, plan)


rules.add_perm("assessment.manage_rules", manages_rules)
rules.add_perm("assessment.view_scores", views_scores)
rules.add_perm("assessment.rate", rates_item)
rules.add_perm("assessment.draft_circular", drafts_circular)
rules.add_perm("assessment.view_report", views_report)
rules.add_perm("assessment.import_ledger", imports_ledger)
