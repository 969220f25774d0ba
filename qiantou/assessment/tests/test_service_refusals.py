"""Refusals of the assessment services say in Chinese what the role may not do (they reach users as the
API's 403 body and the pages' error text), and bad numbers are refused."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied

from qiantou.assessment import services
from qiantou.chasing.tests.factories import City, ensure_calendar, make_city, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None) -> City:
    ensure_calendar()
    return make_city()


def _chinese_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert not re.search(r"[a-z_]+\.[a-z_]+", text), text
    assert re.search(r"[\u4e00-\u9fff]", text), text
    return text


def test_forbidden_writes_say_who_may(city: City) -> None:
    plan = make_plan(city)
    with pytest.raises(PermissionDenied) as rules:
        services.rules_create(actor=city.liaison_a, name="细则", plan=plan)
    assert "考核细则" in _chinese_sentence(rules.value)
    with pytest.raises(PermissionDenied) as everywhere:
        services.rules_create(actor=city.handler, name="细则", plan=None)
    _chinese_sentence(everywhere.value)
