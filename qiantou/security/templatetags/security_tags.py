"""Template filters: ``{{ row.id_number|mask_id }}`` and ``{{ row.name|mask_name }}``."""

from __future__ import annotations

from django import template

from qiantou.security import masking

register = template.Library()


@register.filter
def mask_id(value: str | None) -> str:
    """A resident identity number, masked (110***********123X)."""
    return masking.mask_id_number(value)


@register.filter
def mask_name(value: str | None) -> str:
    """A person's name, masked (张**)."""
    return masking.mask_name(value)
