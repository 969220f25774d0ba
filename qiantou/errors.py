"""Errors shared by the services of every app."""

from __future__ import annotations


class QiantouError(Exception):
    """Base class: ``str(error)`` is a message fit to show the user (Chinese)."""


class ConflictError(QiantouError):
    """Optimistic locking: the object changed since the caller read it (``lock_version`` moved)."""


class StateError(QiantouError):
    """The action is not allowed in the object's current state (e.g. editing a frozen version)."""
