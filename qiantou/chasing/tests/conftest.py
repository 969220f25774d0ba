import pytest

from qiantou.chasing.tests.factories import City, make_city


@pytest.fixture
def city(db: None) -> City:
    return make_city()
