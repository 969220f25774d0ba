import pytest

from qiantou.chasing.tests.factories import City, ensure_calendar, make_city


@pytest.fixture(autouse=True)
def _official_calendar(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        transactional = "transactional_db" in request.fixturenames
        request.getfixturevalue("transactional_db" if transactional else "db")
        ensure_calendar()


@pytest.fixture
def city(db: None) -> City:
    return make_city()
