"""Small template helpers for the dashboard."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ colors|get_item:name }}``: a dict lookup with a variable key."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def ms(value) -> str:
    """Milliseconds for humans: ``12.3 ms`` or ``1.2 s``; ``–`` when unknown."""
    if value is None or value == "":
        return "–"
    value = float(value)
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.1f} ms"


@register.filter
def seconds_until(start, end) -> str:
    """The time from ``start`` to ``end`` for humans: ``350 ms`` or ``2.4 s``; ``–`` when unknown."""
    if not start or not end:
        return "–"
    return ms((end - start).total_seconds() * 1000)
