"""The notification service: write a message once, fan it out, deliver it with retries and backoff.

Writes: :func:`notify` (inside the caller's transaction), :func:`inbox_mark_read`. Scheduler side:
:func:`deliveries_claim_due` claims due deliveries with compare-and-set updates; worker side:
:func:`deliveries_send` sends a batch of claims and records every attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import socket
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, models, transaction
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from qiantou.audit.services import audit_record
from qiantou.notifications import channels
from qiantou.notifications.cas import compare_and_set
from qiantou.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    GroupBot,
    InboxItem,
    Message,
)

logger = logging.getLogger("qiantou.notifications")

#: Attempts before a delivery is given up (marked ``dead`` and shown to the handler).
MAX_ATTEMPTS = 6
#: How long a claimed delivery may wait for a worker, and how long a worker may take to send it,
#: before the scheduler considers the claim lost (a worker killed mid-send) and retries.
QUEUE_LEASE = dt.timedelta(minutes=10)
SEND_LEASE = dt.timedelta(minutes=2)


def _setting(name: str, default: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name, default))


def base_url() -> str:
    """Absolute origin for links in pushed messages (``QIANTOU_BASE_URL``, default http://127.0.0.1:8000)."""
    return _setting("QIANTOU_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def absolute(link: str) -> str:
    """``link`` made absolute against :func:`base_url` (already absolute links pass through)."""
    if not link or link.startswith(("http://", "https://")):
        return link
    return base_url() + (link if link.startswith("/") else "/" + link)


def sms_enabled() -> bool:
    """SMS is pushed only when ``QIANTOU_NOTIFY_SMS`` is on (the gateway costs money in real life)."""
    return _setting("QIANTOU_NOTIFY_SMS", "0").lower() in {"1", "true", "yes", "on"}


def backoff(attempts: int) -> dt.timedelta:
    """Wait before retry number ``attempts`` + 1: 1, 2, 4, 8 … minutes, at most one hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def notify(
    *,
    recipients: Iterable[Any],
    subject: str,
    body: str = "",
    link: str = "",
    restricted: bool = False,
    obj: models.Model | None = None,
    dedupe_key: str | None = None,
    group_units: Iterable[Any] = (),
    ack_links: dict[int, str] | None = None,
    group_ack_link: str = "",
    as_of: dt.datetime | None = None,
) -> Message:
    """Write one message to each recipient's inbox and queue its pushes (e-mail, SMS, group bots).

    Runs in the caller's transaction. With ``dedupe_key`` a second call returns the first message and
    queues nothing (so a retried job never notifies twice). ``ack_links`` maps a user id to that user's
    acknowledgement link; ``group_units`` are the units whose group bots receive the message.
    Deliveries become due at ``as_of`` (default now) and are sent by the workers.
    """
    now = as_of or timezone.now()
    if dedupe_key:
        existing = Message.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    message = Message(
        subject=subject[:255],
        body=body,
        link=link,
        restricted=restricted,
        dedupe_key=dedupe_key,
        created_at=now,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # A concurrent writer stored the same dedupe_key first: theirs is the message.
        return Message.objects.get(dedupe_key=dedupe_key)
    ack_links = ack_links or {}
    users = {u.pk: u for u in recipients if u is not None and getattr(u, "is_active", True)}
    InboxItem.objects.bulk_create(
        [InboxItem(message=message, user_id=uid, ack_link=ack_links.get(uid, "")) for uid in users]
    )
    deliveries: list[Delivery] = []
    seen: set[tuple[str, str]] = set()

    def add(channel: str, address: str, **extra: Any) -> None:
        if address and (channel, address) not in seen:
            seen.add((channel, address))
            deliveries.append(
                Delivery(message=message, channel=channel, address=address, next_attempt_at=now, **extra)
            )

    for uid, user in users.items():
        if user.email:
            add(Channel.EMAIL, user.email, user_id=uid, ack_link=ack_links.get(uid, ""))
        if sms_enabled() and str(getattr(user, "phone", "") or ""):
            add(Channel.SMS, user.phone, user_id=uid, ack_link=ack_links.get(uid, ""))
    unit_ids = [getattr(u, "pk", u) for u in group_units]
    if unit_ids:
        for bot in GroupBot.objects.filter(unit_id__in=unit_ids, active=True):
            add(bot.kind, f"bot:{bot.pk}", bot=bot, ack_link=group_ack_link)
    Delivery.objects.bulk_create(deliveries)
    return message


def inbox_mark_read(*, user: Any, item_ids: Sequence[int] | None = None) -> int:
    """Mark the user's inbox items read (all unread when ``item_ids`` is None); returns how many."""
    qs = InboxItem.objects.filter(user=user, read_at__isnull=True)
    if item_ids is not None:
        qs = qs.filter(pk__in=item_ids)
    return qs.update(read_at=timezone.now())


# --- Scheduler side -------------------------------------------------------------------------------


def deliveries_claim_due(*, now: dt.datetime, limit: int = 5000) -> list[tuple[int, str]]:
    """Claim deliveries whose time has come; returns ``(id, claimed_at_iso)`` pairs for the workers.

    A row is due when pending and ``next_attempt_at <= now``, or when a previous claim's lease ran out
    (``queued``/``sending`` with ``next_attempt_at <= now``: the worker died). Each claim is a
    compare-and-set ``UPDATE … SET next_attempt_at = now + lease WHERE id = … AND next_attempt_at = old``,
    so of several schedulers exactly one wins each row.
    """
    due = list(
        Delivery.objects.filter(next_attempt_at__lte=now)
        .exclude(state__in=[DeliveryState.SENT, DeliveryState.DEAD])
        .order_by("next_attempt_at")
        .values_list("id", "next_attempt_at", "state")[:limit]
    )
    lease_until = now + QUEUE_LEASE
    stale = {pk: state for pk, _old, state in due if state != DeliveryState.PENDING}
    with transaction.atomic():
        won = compare_and_set(
            Delivery,
            "next_attempt_at",
            [(pk, old, lease_until, DeliveryState.QUEUED) for pk, old, _state in due],
            extra_fields=["state"],
        )
    for pk in won:
        if pk in stale:
            logger.warning("delivery %s: claim expired while %s (worker lost?); retrying", pk, stale[pk])
    claims = [(pk, lease_until.isoformat()) for pk in sorted(won)]
    return claims


# --- Worker side ------------------------------------------------------------------------------------


def _outgoing(delivery: Delivery) -> channels.Outgoing:
    message = delivery.message
    return channels.Outgoing(
        subject=message.subject,
        body=message.body,
        link=absolute(message.link),
        ack_link=absolute(delivery.ack_link),
        restricted=message.restricted,
        message_id=f"<qiantou-delivery-{delivery.pk}@{socket.getfqdn() or 'qiantou'}>",
    )


def _mime(delivery: Delivery, out: channels.Outgoing) -> bytes:
    """The e-mail as bytes: UTF-8 plain text, RFC 2047 subject, one Message-ID per delivery."""
    msg = MIMEText(channels.email_text(out), "plain", "utf-8")
    msg["Subject"] = Header(out.push_subject, "utf-8", header_name="Subject")  # type: ignore[assignment]
    msg["From"] = settings.DEFAULT_FROM_EMAIL
    msg["To"] = delivery.address
    msg["Date"] = formatdate(localtime=True)
    # One Message-ID per delivery: a retry after an interrupted send carries the same id, so a mail
    # system sees a duplicate as the same message.
    msg["Message-ID"] = f"<qiantou-delivery-{delivery.pk}@qiantou>"
    msg["X-Qiantou-Delivery"] = str(delivery.pk)
    # CRLF line ends: smtplib passes bytes through as they are, and SMTP lines end in CRLF (RFC 5321).
    return msg.as_bytes(policy=compat32.clone(linesep="\r\n"))


def _email(delivery: Delivery, out: channels.Outgoing, connection: Any) -> None:
    smtp = getattr(connection, "connection", None)
    if isinstance(smtp, smtplib.SMTP):
        # Django's SMTP backend is open: hand it the bytes (Django's own message building costs ~1.5 ms).
        refused = smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [delivery.address], _mime(delivery, out))
        if refused:
            raise channels.DeliveryError(f"the mail server refused {delivery.address}: {refused}")
        return
    email = EmailMessage(
        subject=out.push_subject,
        body=channels.email_text(out),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={
            "Message-ID": f"<qiantou-delivery-{delivery.pk}@qiantou>",
            "X-Qiantou-Delivery": str(delivery.pk),
        },
    )
    if connection.send_messages([email]) != 1:
        raise channels.DeliveryError("the mail server did not accept the message")


def _send_one(delivery: Delivery, connection: Any) -> None:
    out = _outgoing(delivery)
    if delivery.channel == Channel.EMAIL:
        _email(delivery, out, connection)
    elif delivery.channel == Channel.SMS:
        channels.sms_gateway().send(delivery.address, channels.sms_text(out))
    elif delivery.channel in (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU):
        bot = delivery.bot
        if bot is None or not bot.active:
            raise channels.DeliveryError("群机器人已删除或停用")
        if delivery.channel == Channel.WECOM:
            channels.send_wecom(bot.webhook_url, out)
        elif delivery.channel == Channel.DINGTALK:
            channels.send_dingtalk(bot.webhook_url, bot.secret, out)
        else:
            channels.send_feishu(bot.webhook_url, bot.secret, out)
    else:
        raise channels.DeliveryError(f"unknown channel {delivery.channel}")


def _audit_action(message: Message, suffix: str) -> str:
    return f"reminder.{suffix}" if message.object_type == "chasing.reminder" else f"notification.{suffix}"


#: Outcomes are written every this many sends: few commits per batch, and a worker killed mid-batch
#: leaves at most this many sent-but-unrecorded messages to be retried (same Message-ID).
RECORD_EVERY = 20
#: SMTP connections (and webhook requests) a worker keeps in flight at once.
SEND_THREADS = 4


def _take(claims: Sequence[Sequence[str | int]], as_of: dt.datetime) -> list[int]:
    """Compare-and-set ``queued`` → ``sending`` for the claims still held as claimed; returns those ids."""
    by_lease: dict[dt.datetime, list[int]] = {}
    for pk_raw, claimed_raw in claims:
        by_lease.setdefault(dt.datetime.fromisoformat(str(claimed_raw)), []).append(int(pk_raw))
    ops = db_connection.ops
    table = ops.quote_name(Delivery._meta.db_table)
    taken: list[int] = []
    with transaction.atomic(), db_connection.cursor() as cursor:
        for claimed, ids in by_lease.items():
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"UPDATE {table} SET state = %s, next_attempt_at = %s, attempts = attempts + 1 "
                f"WHERE id IN ({marks}) AND next_attempt_at = %s AND state = %s RETURNING id",
                [
                    DeliveryState.SENDING,
                    ops.adapt_datetimefield_value(as_of + SEND_LEASE),
                    *ids,
                    ops.adapt_datetimefield_value(claimed),
                    DeliveryState.QUEUED,
                ],
            )
            taken.extend(int(r[0]) for r in cursor.fetchall())
    return sorted(taken)


def deliveries_send(
    *, claims: Sequence[Sequence[str | int]], as_of: dt.datetime, worker: str = ""
) -> dict[str, int]:
    """Send the claimed deliveries; returns counts ``{"sent", "failed", "skipped"}``.

    The claims are taken over with a compare-and-set (``next_attempt_at`` still equal to the claimed
    lease, state ``queued``); a claim another worker already took, or one that expired and was re-issued,
    is skipped. Each try is logged as a :class:`DeliveryAttempt` before sending. A success marks the
    delivery sent and records ``reminder.delivered`` (or ``notification.delivered``) in the audit record;
    a failure schedules a retry with exponential backoff, up to ``MAX_ATTEMPTS``. E-mails of a batch share
    one SMTP connection.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    taken = _take(claims, as_of)
    counts = {"sent": 0, "failed": 0, "skipped": len(claims) - len(taken)}
    if not taken:
        return counts
    deliveries = Delivery.objects.select_related("message", "bot").in_bulk(taken)
    with transaction.atomic():
        interrupted = set(
            DeliveryAttempt.objects.filter(delivery_id__in=taken, finished_at__isnull=True).values_list(
                "delivery_id", flat=True
            )
        )
        started = timezone.now()
        attempts = {
            a.delivery_id: a
            for a in DeliveryAttempt.objects.bulk_create(
                [
                    DeliveryAttempt(
                        delivery_id=pk,
                        number=deliveries[pk].attempts,
                        started_at=started,
                        worker=worker[:128],
                        retry_of_interrupted=pk in interrupted,
                    )
                    for pk in taken
                ]
            )
        }
    for pk in interrupted:
        logger.warning(
            "delivery %s: attempt %s retries an interrupted send (same Message-ID)",
            pk,
            deliveries[pk].attempts,
        )
    local = threading.local()
    opened: list[Any] = []
    opened_lock = threading.Lock()

    def send(delivery: Delivery) -> str | None:
        """Send one delivery on this thread's SMTP connection; the error text, or None on success."""
        try:
            connection = getattr(local, "connection", None)
            if delivery.channel == Channel.EMAIL and connection is None:
                connection = local.connection = mailers.default
                connection.open()
                with opened_lock:
                    opened.append(connection)
            _send_one(delivery, connection)
        except Exception as exc:  # any channel failure is recorded and retried, never lost
            if delivery.channel == Channel.EMAIL and getattr(local, "connection", None) is not None:
                local.connection.close()
                local.connection = None
            return f"{type(exc).__name__}: {exc}"[:2000]
        return None

    # Network round trips dominate (SMTP takes four per message): a few connections in parallel, while
    # this thread alone touches the database.
    with ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="deliver") as pool:
        try:
            for start in range(0, len(taken), RECORD_EVERY):
                group = [deliveries[pk] for pk in taken[start : start + RECORD_EVERY]]
                errors = list(pool.map(send, group))
                _record([(d, attempts[d.pk], e) for d, e in zip(group, errors, strict=True)], as_of, counts)
        finally:
            for connection in opened:
                connection.close()
    return counts


def _record(
    outcomes: list[tuple[Delivery, DeliveryAttempt, str | None]], as_of: dt.datetime, counts: dict[str, int]
) -> None:
    """Write a group of send outcomes in one transaction."""
    if not outcomes:
        return
    now = timezone.now()
    with transaction.atomic():
        ok = [(d, a) for d, a, error in outcomes if error is None]
        if ok:
            Delivery.objects.filter(pk__in=[d.pk for d, _ in ok]).update(
                state=DeliveryState.SENT, sent_at=now, next_attempt_at=None, last_error=""
            )
            DeliveryAttempt.objects.filter(pk__in=[a.pk for _, a in ok]).update(ok=True, finished_at=now)
            for delivery, _ in ok:
                message = delivery.message
                audit_record(
                    actor=None,
                    action=_audit_action(message, "delivered"),
                    object_type=message.object_type or "notifications.message",
                    object_id=message.object_id or message.pk,
                    payload={
                        "delivery": delivery.pk,
                        "channel": delivery.channel,
                        "attempt": delivery.attempts,
                        "recipient_user": delivery.user_id,
                        "bot": delivery.bot_id,
                    },
                )
        for delivery, attempt, error in outcomes:
            if error is not None:
                _record_failure(delivery, attempt, error, as_of)
    counts["sent"] += len(ok)
    counts["failed"] += len(outcomes) - len(ok)


def _record_failure(delivery: Delivery, attempt: DeliveryAttempt, error: str, as_of: dt.datetime) -> None:
    now = timezone.now()
    dead = delivery.attempts >= MAX_ATTEMPTS
    logger.warning(
        "delivery %s (%s) attempt %s failed: %s", delivery.pk, delivery.channel, delivery.attempts, error
    )
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.DEAD if dead else DeliveryState.PENDING,
            next_attempt_at=None if dead else as_of + backoff(delivery.attempts),
            last_error=error,
        )
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(ok=False, finished_at=now, error=error)
        if dead:
            message = delivery.message
            audit_record(
                actor=None,
                action=_audit_action(message, "delivery_failed"),
                object_type=message.object_type or "notifications.message",
                object_id=message.object_id or message.pk,
                payload={
                    "delivery": delivery.pk,
                    "channel": delivery.channel,
                    "attempts": delivery.attempts,
                    "error": error,
                },
            )


def deliveries_retry(*, actor: Any, delivery_ids: Sequence[int], as_of: dt.datetime | None = None) -> int:
    """Put given-up (``dead``) deliveries back in the queue at once; returns how many."""
    now = as_of or timezone.now()
    with transaction.atomic():
        n = Delivery.objects.filter(pk__in=delivery_ids, state=DeliveryState.DEAD).update(
            state=DeliveryState.PENDING, next_attempt_at=now, attempts=0
        )
        if n:
            audit_record(
                actor=actor,
                action="notification.retry",
                object_type="notifications.delivery",
                object_id=",".join(str(i) for i in delivery_ids)[:64],
                payload={"count": n},
            )
    return n


def unresolved_q() -> Q:
    """Deliveries that failed at least once and are not yet sent (retrying or given up)."""
    return Q(state=DeliveryState.DEAD) | (Q(state=DeliveryState.PENDING) & Q(attempts__gt=0))
