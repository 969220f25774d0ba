import pytest

from qiantou.chasing.tests.factories import ensure_calendar


@pytest.fixture(autouse=True)
def _official_calendar(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db"):
        ensure_calendar()
