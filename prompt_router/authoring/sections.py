"""Splitting a monolithic system prompt into sections, by the structure it already has.

Boundaries, strongest first:

- a rule line (`====`, `----`, `***`, 3+ characters) between blank lines: the large sections
  many agent prompts use, titled by their first line;
- Markdown headings, `#` to `######` (and `Title` underlined by `===` / `---`);
- a stand-alone ALL-CAPS line (`RULES`) or a numbered title (`3. Tool use`) between blank lines;
- when none of those exist: top-level XML-ish blocks (`<instructions>` ... `</instructions>`).

Fenced code is never split. The prompt is split at its strongest boundary; a section still
larger than `max_tokens` is split again at the next boundary found inside it, and so on. A
section's text before its first sub-boundary (its heading and intro) goes with the first
sub-section; a section smaller than `min_tokens` joins its neighbour. Nothing is lost or
reordered: the sections' lines, in order, are the prompt's lines (rule lines aside).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE = re.compile(r"^\s*([=\-*_])\1{2,}\s*$")
_ATX = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$")
_CAPS = re.compile(r"^[A-Z][A-Z0-9 &/,.'()\-:]{2,78}$")
_NUMBERED = re.compile(r"^(?:§\s*)?(\d{1,2})[.)]\s+(\S.{0,78})$")
_OPEN_TAG = re.compile(r"^<([A-Za-z_][\w.-]*)(?:\s[^<>]*)?>\s*$")
_RULE_RANK = 0
_CAPS_RANK = 1  # like a top-level Markdown heading
_XML_RANK = 1


@dataclass(frozen=True)
class Section:
    """A piece of the prompt: `lines` are 1-based, inclusive, in the original file."""

    title: str
    path: tuple[str, ...]  # titles from the top, this one last
    text: str
    first_line: int
    last_line: int


@dataclass(frozen=True)
class _Boundary:
    line: int  # 0-based index of the line that starts the section
    rank: int
    title: str
    skip: int = 0  # lines at the start that are structure only (a rule line)


def _blank(lines: Sequence[str], index: int) -> bool:
    return index < 0 or index >= len(lines) or not lines[index].strip()


def _code_lines(lines: Sequence[str]) -> set[int]:
    inside, fenced = False, set()
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced.add(index)
            inside = not inside
        elif inside:
            fenced.add(index)
    return fenced


def _next_text(lines: Sequence[str], index: int) -> int | None:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index if index < len(lines) else None


def _title(text: str) -> str:
    """A heading's words without Markdown emphasis (`**Rules:**` -> `Rules`); `read_file` stays."""
    return re.sub(r"[*`#]+|(?<!\w)_+|_+(?!\w)", "", text).strip().rstrip(":").strip() or "section"


def find_boundaries(lines: Sequence[str]) -> list[_Boundary]:
    """Every boundary of the Markdown-like kinds, in line order."""
    code = _code_lines(lines)
    found: dict[int, _Boundary] = {}
    titled: set[int] = set()  # title lines of rule sections: not boundaries themselves
    numbered: list[tuple[int, int, str]] = []
    for index, line in enumerate(lines):
        if index in code or index in titled:
            continue
        if _RULE.match(line) and _blank(lines, index - 1) and _blank(lines, index + 1):
            title_at = _next_text(lines, index + 1)
            if title_at is not None and title_at not in code and len(lines[title_at]) <= 80:
                titled.add(title_at)
                found[index] = _Boundary(index, _RULE_RANK, _title(lines[title_at]), 1)
            continue
        atx = _ATX.match(line)
        if atx:
            found[index] = _Boundary(index, len(atx.group(1)), _title(atx.group(2)))
            continue
        if (index + 1 < len(lines) and line.strip() and _SETEXT.match(lines[index + 1]) and _blank(lines, index - 1)
                and index + 1 not in code and len(line) <= 80):
            found[index] = _Boundary(index, 1 if lines[index + 1].strip()[0] == "=" else 2, _title(line))
            titled.add(index + 1)
            continue
        if not (_blank(lines, index - 1) and _blank(lines, index + 1)):
            continue
        stripped = line.strip()
        if _CAPS.match(stripped) and sum(c.isalpha() for c in stripped) >= 3:
            found[index] = _Boundary(index, _CAPS_RANK, _title(stripped.title() if stripped.isupper() else stripped))
            continue
        number = _NUMBERED.match(stripped)
        if number and not stripped.endswith((".", ",", ";")) and len(stripped.split()) <= 8:
            numbered.append((index, int(number.group(1)), _title(number.group(2))))
    # Numbered titles count only as a run 1, 2, 3...: one "1. Do this" is a list, not a structure.
    run = [n for i, n in enumerate(numbered) if any(abs(n[1] - m[1]) == 1 for m in numbered[:i] + numbered[i + 1:])]
    for index, _, title in run:
        found.setdefault(index, _Boundary(index, _CAPS_RANK + 1, title))
    return [found[i] for i in sorted(found)]


def _xml_boundaries(lines: Sequence[str]) -> list[_Boundary]:
    """Top-level `<tag>` ... `</tag>` blocks, each line alone."""
    out, index = [], 0
    while index < len(lines):
        opening = _OPEN_TAG.match(lines[index].strip())
        if opening:
            closing = f"</{opening.group(1)}>"
            end = next((j for j in range(index + 1, len(lines)) if lines[j].strip() == closing), None)
            if end is not None:
                out.append(_Boundary(index, _XML_RANK, opening.group(1).replace("_", " ").replace("-", " ")))
                after = _next_text(lines, end + 1)
                if after is not None and not _OPEN_TAG.match(lines[after].strip()):
                    out.append(_Boundary(after, _XML_RANK, "section"))  # loose text between blocks
                index = end + 1
                continue
        index += 1
    return out


@dataclass
class _Piece:
    start: int  # 0-based, inclusive
    end: int  # exclusive
    title: str
    path: tuple[str, ...]
    skip: int = 0
    intro: bool = False


def split_sections(text: str, count_tokens: Callable[[str], int], *, max_tokens: int = 1200,
                   min_tokens: int = 40) -> list[Section]:
    """The prompt's sections, in order (see the module docstring)."""
    lines = text.replace("\r\n", "\n").split("\n")
    boundaries = find_boundaries(lines)
    if len(boundaries) < 2:
        boundaries = _xml_boundaries(lines) or boundaries

    def body(piece: _Piece) -> str:
        return "\n".join(lines[piece.start + piece.skip: piece.end]).strip()

    def split(piece: _Piece) -> list[_Piece]:
        inner = [b for b in boundaries if piece.start < b.line < piece.end]
        if not inner or count_tokens(body(piece)) <= max_tokens:
            return [piece]
        rank = min(b.rank for b in inner)
        cuts = [b for b in inner if b.rank == rank]
        children = [_Piece(piece.start, cuts[0].line, piece.title, piece.path, piece.skip, intro=True)]
        for here, after in zip(cuts, [*cuts[1:], None]):
            end = after.line if after is not None else piece.end
            children.append(_Piece(here.line, end, here.title, (*piece.path, here.title), here.skip))
        return [grand for child in children for grand in split(child)]

    top = _Piece(0, len(lines), "", ())
    first = min((b.rank for b in boundaries), default=None)
    if first is None:
        pieces = [_Piece(0, len(lines), "prompt", ("prompt",))]
    else:
        cuts = [b for b in boundaries if b.rank == first]
        pieces = [_Piece(0, cuts[0].line, "preamble", ("preamble",))]
        for here, after in zip(cuts, [*cuts[1:], None]):
            end = after.line if after is not None else top.end
            pieces.append(_Piece(here.line, end, here.title, (here.title,), here.skip))
        pieces = [grand for piece in pieces for grand in split(piece)]
    pieces = [p for p in pieces if body(p)]
    rules = frozenset(b.line for b in boundaries if b.skip)
    return _merge_small(pieces, lines, rules, body, count_tokens, min_tokens)


def _merge_small(pieces: list[_Piece], lines: Sequence[str], rules: frozenset[int], body: Callable[[_Piece], str],
                 count_tokens: Callable[[str], int], min_tokens: int) -> list[Section]:
    """An intro joins the section after it; any other small piece joins the one before."""
    merged: list[_Piece] = []
    carry: _Piece | None = None
    for piece in pieces:
        if carry is not None:
            piece = _Piece(carry.start, piece.end, piece.title, piece.path, carry.skip)
            carry = None
        small = count_tokens(body(piece)) < min_tokens
        if small and piece.intro:
            carry = piece
        elif small and merged:
            last = merged[-1]
            merged[-1] = _Piece(last.start, piece.end, last.title, last.path, last.skip)
        else:
            merged.append(piece)
    if carry is not None:  # a small intro at the very end
        if merged:
            last = merged[-1]
            merged[-1] = _Piece(last.start, carry.end, last.title, last.path, last.skip)
        else:
            merged.append(carry)
    sections = []
    for piece in merged:
        # rule lines that separated sections are structure, not text
        text = "\n".join(lines[i] for i in range(piece.start + piece.skip, piece.end) if i not in rules)
        first_line = piece.start + piece.skip
        sections.append(Section(piece.title or "preamble", piece.path or ("preamble",), text.strip(), first_line + 1, piece.end))
    return sections
