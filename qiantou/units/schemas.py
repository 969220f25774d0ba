"""Shapes of the unit API (django-ninja schemas); kept apart from the models."""

from __future__ import annotations

from ninja import Field, Schema

from qiantou.units.models import Unit


class UnitOut(Schema):
    """A directory unit as the API shows it."""

    id: int
    code: str
    name: str
    short_names: list[str]
    former_names: list[str]
    parent_id: int | None
    parent_code: str | None
    kind: str
    mandate: str
    active: bool

    @staticmethod
    def resolve_parent_code(obj: Unit) -> str | None:
        return obj.parent.code if obj.parent_id and obj.parent else None


class UnitCreateIn(Schema):
    """A new unit. ``parent_code`` names an existing unit."""

    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=128)
    kind: str = "bureau"
    short_names: list[str] = Field(default_factory=list)
    former_names: list[str] = Field(default_factory=list)
    parent_code: str | None = None
    mandate: str = ""
    active: bool = True


class UnitUpdateIn(Schema):
    """A partial update: only the fields given change. ``parent_code`` "" (or null) removes the parent.

    Every other field refuses null, and a field not listed here (``code`` never changes) is refused:
    the handler answers 422 naming them rather than ignoring them (``api.py:update_unit``).
    """

    name: str | None = Field(None, min_length=1, max_length=128)
    kind: str | None = None
    short_names: list[str] | None = None
    former_names: list[str] | None = None
    parent_code: str | None = None
    mandate: str | None = None
    active: bool | None = None


class ErrorOut(Schema):
    """A refused write: ``detail`` for people, ``errors`` field → message."""

    detail: str
    errors: dict[str, str] = Field(default_factory=dict)


class ResolveIn(Schema):
    """Printed unit names to resolve (at most 5,000 per call, each at most 500 characters)."""

    names: list[str] = Field(..., max_length=5000)


class CandidateOut(Schema):
    """A directory entry offered for a printed name; ``score`` 0–1."""

    code: str
    name: str
    score: float


class ResolutionOut(Schema):
    """The resolver's answer for one name (see ``qiantou.units.resolver.Resolution``)."""

    printed: str
    normalized: str
    kind: str
    method: str
    confidence: float
    unit_code: str | None
    unit_id: int | None
    unit_name: str | None
    candidates: list[CandidateOut]


class ResolveOut(Schema):
    """One result per input name, in the same order."""

    results: list[ResolutionOut]
