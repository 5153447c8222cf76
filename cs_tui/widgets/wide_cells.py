"""Keep Chinese characters whole where the edges of widgets cross them.

Textual draws a screen line in "chops": the line is cut at the left and right edge of every
widget on it, *including widgets hidden under others* (a toast, a docked key, a panel), and each
piece is taken from the topmost widget there. When such an edge falls between the two cells of
a double-width character (天, 给, 以 ...) of the widget on top, Rich's split turns both halves
into spaces: the character vanished even though nothing covered it. Seen at 80 columns in the
footer ("^p 命  面板": the palette key sits on top of the scrolled footer keys, and one of their
edges cut 令), and in panels and previews under a toast's edge. Partial updates had the same
fault at the right edge of the rectangle they redraw, and a terminal told to write half a
double-width character wipes all of it, so the character stayed lost after the toast left.

`install()` changes two of Textual's compositor steps (the same loops as Textual 8.2's, which
pyproject.toml pins; `install` refuses a Textual whose compositor no longer looks like it):

- when the topmost widget owns the pieces on both sides of an edge that cuts one of its wide
  characters, the pieces are joined into one (the second becomes empty), so the character is
  drawn whole, from where the first piece starts;
- a partial update that ends inside a wide character ends after it instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

_original_chops = Compositor._render_chops
_original_segments = ChopsUpdate.render_segments
_EMPTY = Strip([], 0)


def whole_cells(strip: Strip, stop: int) -> int:
    """`stop`, or the end of the double-width character it would cut in half."""
    position = 0
    for segment in strip:
        for char in segment.text:
            if position >= stop:
                return stop
            position += cell_len(char)
            if position > stop:
                return position
    return stop


def straddled(strip: Strip, cuts: Sequence[int]) -> set[int]:
    """The cuts (cells from the strip's start) that fall inside a double-width character.

    Walks segments, and characters only in a segment that a cut falls inside: this runs for
    every strip of every frame."""
    length = strip.cell_length
    wanted = [cut for cut in cuts if 0 < cut < length]  # most strips end at their only cut
    found: set[int] = set()
    if not wanted:
        return found
    last = max(wanted)
    position = 0
    for segment in strip:
        text = segment.text
        if text.isascii():  # the usual case: spaces, borders drawn in ASCII, English
            position += len(text)
            if position >= last:
                break
            continue
        end = position + cell_len(text)
        inside = [cut for cut in wanted if position < cut < end]
        if inside:
            at = position
            for char in text:
                width = cell_len(char)
                if width > 1 and at + 1 in inside:
                    found.add(at + 1)
                at += width
                if at >= inside[-1]:
                    break
        position = end
        if position >= last:
            break
    return found


def _render_chops(
    self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    """Textual's Compositor._render_chops, joining pieces that would split a wide character."""
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    renders = self._get_renders(crop)
    intersection = Region.intersection
    for region, clip, strips in renders:
        render_region = intersection(region, clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips, strict=False):
            if not is_rendered_line(y):
                continue
            chops_line = chops[y]
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            relative = [cut - render_x for cut in final_cuts[1:]]
            won: list[int] = []
            for cut, piece in zip(final_cuts, strip.divide(relative), strict=False):
                if chops_line.get(cut) is None:  # painted front to back: the first one wins
                    chops_line[cut] = piece
                    won.append(cut)
            if len(relative) > 1:  # a cut inside the strip, not only its end
                split = straddled(strip, relative)
                if split:
                    _join_split(chops_line, final_cuts, won, split, strip, render_x)
    return chops  # type: ignore[return-value]


def _join_split(
    chops_line: dict[int, Strip | None],
    final_cuts: list[int],
    won: list[int],
    split: set[int],
    strip: Strip,
    render_x: int,
) -> None:
    """Where this strip owns both pieces around a cut inside one of its wide characters, the
    left piece takes both and the right one is left empty."""
    owned = set(won)
    index = 0
    while index < len(final_cuts) - 1:
        start = final_cuts[index]
        stop_index = index + 1
        while (
            stop_index < len(final_cuts)
            and final_cuts[stop_index] - render_x in split
            and final_cuts[stop_index] in owned
            and final_cuts[stop_index - 1] in owned
        ):
            stop_index += 1
        if stop_index > index + 1:
            end = final_cuts[stop_index] if stop_index < len(final_cuts) else None
            chops_line[start] = strip.crop(
                start - render_x, None if end is None else end - render_x
            )
            for cut in final_cuts[index + 1 : stop_index]:
                chops_line[cut] = _EMPTY
        index = stop_index


def _render_segments(self: ChopsUpdate, console: Any) -> str:
    """Textual's ChopsUpdate.render_segments, ending a cut after a wide character, not in it."""
    from rich.control import Control

    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            strip = strip.crop(0, whole_cells(strip, min(end, x2) - x))
            append(move_to(x, y).segment.text)
            append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    """Draw wide characters whole from now on, in every app of this process (idempotent)."""
    if Compositor._render_chops is _render_chops:
        return
    if (
        Compositor._render_chops is not _original_chops
        or ChopsUpdate.render_segments is not _original_segments
        or not {"chops", "spans", "chop_ends"} <= set(ChopsUpdate.__init__.__code__.co_varnames)
    ):
        raise RuntimeError("textual's compositor changed: review cs_tui.widgets.wide_cells")
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]
    ChopsUpdate.render_segments = _render_segments  # type: ignore[method-assign]
