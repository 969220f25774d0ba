"""Concurrent writers never fork the chain (PostgreSQL: the advisory lock serialises appends)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from qiantou.audit.models import AuditEvent
from qiantou.audit.services import audit_record
from qiantou.audit.verification import verify_chain

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a real server (PostgreSQL)"),
]

WRITERS = 6
EVENTS_EACH = 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_dense_chain() -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                with transaction.atomic():
                    audit_record(
                        actor=None,
                        action="task.assign",
                        object_type="plans.task",
                        object_id=n,
                        payload={"writer": n, "i": i},
                    )
                    time.sleep(0.001)  # hold the transaction open so the writers overlap
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = WRITERS * EVENTS_EACH
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    result = verify_chain()
    assert result.ok and result.count == total
    # Every writer's events are all there, each exactly once.
    for n in range(WRITERS):
        assert AuditEvent.objects.filter(object_id=str(n)).count() == EVENTS_EACH
