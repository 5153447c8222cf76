"""Let go of the drawn lines of widgets that are gone.

Textual 8.2 caches `StylesCache.get_inner_outer` with `functools.lru_cache` on a method meant to
be a class method (its first parameter is named `cls`), so the cache's keys hold on to up to
1,024 widgets' `StylesCache` objects, and with them every line those widgets last drew, long
after the widgets were removed. In the workstation that was tens of thousands of cached lines
(each a `Strip` with its own small caches) that every full pass of the garbage collector walked
while the screen stood still. The two background styles depend only on the two colours, so the
cache here is keyed on them alone.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style

_original = StylesCache.__dict__["get_inner_outer"]
_PARAMETERS = ("cls", "base_background", "background")
"""The method's parameters in the Textual this was written against."""


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """Textual's get_inner_outer, keyed on the colours only."""
    return (
        Style(background=base_background + background),
        Style(background=base_background),
    )


def install() -> None:
    """Key the background styles on their colours alone, in every app of this process
    (idempotent); refuses a Textual whose method no longer looks like the one described above."""
    current = StylesCache.__dict__["get_inner_outer"]
    if isinstance(current, staticmethod):
        return
    wrapped = getattr(current, "__wrapped__", None)
    parameters = wrapped.__code__.co_varnames[:3] if wrapped is not None else ()
    if current is not _original or parameters != _PARAMETERS:
        raise RuntimeError("textual's StylesCache changed: review cs_tui.widgets.styles_cache_fix")
    StylesCache.get_inner_outer = staticmethod(_inner_outer)  # type: ignore[method-assign,assignment]
