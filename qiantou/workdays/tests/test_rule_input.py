"""A stored or submitted recurrence rule with bad numbers or names is refused with a Chinese message naming
the field (never OverflowError, never a silently truncated day)."""

from __future__ import annotations

from typing import Any

import pytest

from qiantou.workdays.recurrence import RecurrenceRule, RuleError


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "monthly", "day": float("inf")}, "day"),
        ({"kind": "monthly", "day": float("-inf")}, "day"),
        ({"kind": "monthly", "day": float("nan")}, "day"),
        ({"kind": "monthly", "day": 1.5}, "day"),
        ({"kind": "monthly", "day": True}, "day"),
        ({"kind": "monthly", "day": "x"}, "day"),
        ({"kind": "monthly", "day": [1]}, "day"),
        ({"kind": "every_n_working_days", "n": 10**30}, "n"),
        ({"kind": "weekly", "weekday": "9" * 5000}, "weekday"),
        ({"kind": "bogus"}, "kind"),
        ({"kind": ["monthly"]}, "kind"),
        ({"kind": "monthly", "day": 5, "policy": "later"}, "policy"),
    ],
)
def test_bad_rule_is_refused_naming_the_field(rule: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleError) as raised:
        RecurrenceRule.from_dict(rule)
    message = str(raised.value)
    assert field in message and "报送规则无效" in message
    assert "is not a valid" not in message


def test_kind_and_policy_errors_list_the_allowed_values() -> None:
    with pytest.raises(RuleError, match="monthly / quarterly / yearly / weekly / every_n_working_days"):
        RecurrenceRule.from_dict({"kind": "bogus"})
    with pytest.raises(RuleError, match="previous / next / skip"):
        RecurrenceRule.from_dict({"kind": "monthly", "day": 5, "policy": "later"})


def test_whole_numbers_in_other_spellings_still_read() -> None:
    assert RecurrenceRule.from_dict({"kind": "monthly", "day": 28.0}).day == 28
    assert RecurrenceRule.from_dict({"kind": "monthly", "day": " 28 "}).day == 28
    assert RecurrenceRule.from_dict({"kind": "monthly", "day": -1}).day == -1
