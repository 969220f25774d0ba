"""Who may run, see and answer a consultation round (django-rules). Mirrors ``selectors.py``.

- Open or close a round, dispose of comments, revise the plan: a handler or unit head of the plan's
  lead unit (``plans.rules.plan_editor_``).
- See a round, its comments and its disposition statement: members of the lead unit, members of every
  consulted unit (so a unit whose comment was rejected sees why), the supervision office and auditors.
- Comment or answer "no objection": a liaison or unit head of a consulted unit, for that unit only,
  while the round is open.

Permissions: ``consultation.view_round``, ``consultation.manage_round``, ``consultation.comment``.
"""

from __future__ import annotations

from typing import Any

import rules

from qiantou.accounts.models import Role
from qiantou.accounts.rules import is_business_user_, is_overseer_, role_of
from qiantou.consultation.models import ConsultationRound, RoundStatus
from qiantou.plans.rules import plan_editor_

#: Roles that answer a consultation for their unit.
RESPONDER_ROLES = frozenset({Role.LIAISON, Role.UNIT_HEAD})


def consulted_unit_member_(user: Any, round_: ConsultationRound) -> bool:
    """True when the user belongs to one of the round's consulted units."""
    unit_id = getattr(user, "unit_id", None)
    return (
        is_business_user_(user) and unit_id is not None and round_.consulted.filter(unit_id=unit_id).exists()
    )


def round_visible_(user: Any, round_: ConsultationRound) -> bool:
    """True when the user may see the round, its comments and its statement."""
    if not is_business_user_(user):
        return False
    if is_overseer_(user):
        return True
    if getattr(user, "unit_id", None) == round_.plan.lead_unit_id:
        return True
    return consulted_unit_member_(user, round_)


def round_manager_(user: Any, round_: ConsultationRound) -> bool:
    """True for a handler or unit head of the plan's lead unit."""
    return plan_editor_(user, round_.plan)


def may_comment_(user: Any, round_: ConsultationRound) -> bool:
    """True for a liaison or unit head of a consulted unit while the round is open."""
    return (
        round_.status == RoundStatus.OPEN
        and role_of(user) in RESPONDER_ROLES
        and consulted_unit_member_(user, round_)
    )


@rules.predicate
def can_view_round(user: Any, round_: ConsultationRound | None) -> bool:
    """See the round; with no round, may list rounds at all."""
    return is_business_user_(user) if round_ is None else round_visible_(user, round_)


@rules.predicate
def can_manage_round(user: Any, round_: ConsultationRound | None) -> bool:
    """Close the round and dispose of its comments."""
    return round_ is not None and round_manager_(user, round_)


@rules.predicate
def can_comment(user: Any, round_: ConsultationRound | None) -> bool:
    """Comment or answer "no objection" for one's own unit."""
    return round_ is not None and may_comment_(user, round_)


rules.add_perm("consultation.view_round", can_view_round)
rules.add_perm("consultation.manage_round", can_manage_round)
rules.add_perm("consultation.comment", can_comment)
