"""Markdown to the HTML subset Qt's rich-text engine renders, with highlighted code blocks.

markdown-it-py parses (CommonMark + GitHub tables and strikethrough); Pygments colours fenced code
with inline styles (Qt has no CSS classes for spans). Code blocks and tables get Qt-friendly
attributes (a one-cell table gives a code block its background and padding reliably).

For streaming, :func:`stable_prefix_end` finds where the text can be cut into blocks that will
never change again, so the window renders each finished block once and only re-renders the short
unfinished tail — never the whole reply per token.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from collections.abc import Iterator, Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, guess_lexer
from pygments.util import ClassNotFound

from desktop.core.websearch import MARKER as WEB_MARKER


@dataclass(frozen=True, slots=True)
class Palette:
    code_bg: str
    code_border: str
    inline_code_bg: str
    table_border: str
    table_header_bg: str
    quote_fg: str
    pygments_style: str


LIGHT = Palette("#f6f8fa", "#d0d7de", "#eff1f3", "#d0d7de", "#f0f3f6", "#57606a", "default")
DARK = Palette("#161b22", "#30363d", "#2d333b", "#444c56", "#22272e", "#9da7b3", "monokai")

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@lru_cache(maxsize=4)
def _formatter(style: str) -> HtmlFormatter:
    return HtmlFormatter(style=style, noclasses=True, nowrap=True)


def _highlight(code: str, lang: str, palette: Palette) -> str:
    lexer = None
    if lang:
        try:
            lexer = get_lexer_by_name(lang.lower())
        except ClassNotFound:
            lexer = None
    if lexer is None and len(code) < 2_000:
        try:
            lexer = guess_lexer(code)
            if lexer.name == "Text only" or getattr(lexer, "analyse_text", None) is None:
                lexer = None
        except ClassNotFound:
            lexer = None
    if lexer is None:
        return html.escape(code)
    # Pygments ships no type hints: say what highlight() gives (str, since no outfile is passed).
    coloured: str = highlight(code, lexer, _formatter(palette.pygments_style))
    return coloured.rstrip("\n")


class _QtRenderer(RendererHTML):
    """Emit markup Qt's QTextDocument renders well."""

    palette: Palette = LIGHT
    highlight: bool = True

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        lang = token.info.strip().split()[0] if token.info.strip() else ""
        code = token.content.rstrip("\n")
        if self.highlight:
            body = _highlight(code, lang, self.palette)
        else:  # a block still streaming: colour it once its fence closes
            body = html.escape(code)
        body = body.replace("\n", "<br/>")
        # Keep leading spaces: Qt collapses them outside <pre>, and <pre> inside a cell is fine.
        p = self.palette
        label = (f'<div style="color:{p.quote_fg}; font-size:small;">{html.escape(lang)}</div>'
                 if lang else "")
        return (
            f'<table width="100%" cellspacing="0" cellpadding="8" border="0" '
            f'style="background-color:{p.code_bg}; border: 1px solid {p.code_border}; margin: 6px 0;">'
            f'<tr><td>{label}<pre style="margin:0; white-space:pre-wrap;">{body}</pre></td></tr></table>\n'
        )

    code_block = fence

    def code_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return (f'<code style="background-color:{self.palette.inline_code_bg};">&nbsp;'
                f'{html.escape(tokens[idx].content)}&nbsp;</code>')

    def table_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return (f'<table border="1" cellspacing="0" cellpadding="6" '
                f'style="border-collapse: collapse; border-color:{self.palette.table_border}; '
                f'margin: 6px 0;">\n')

    def th_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        align = str(tokens[idx].attrGet("style") or "")
        align = align.replace("text-align:", "").strip()
        attr = f' align="{align}"' if align else ""
        return f'<th{attr} style="background-color:{self.palette.table_header_bg};">'

    def td_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        align = str(tokens[idx].attrGet("style") or "")
        align = align.replace("text-align:", "").strip()
        return f'<td align="{align}">' if align else "<td>"

    def blockquote_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f'<blockquote style="color:{self.palette.quote_fg};">'

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Never an <img>: Qt would load its source (a local path such as /dev/zero or a FIFO eats
        # memory or blocks the UI thread) and a remote one would leak that the reply was read. The
        # alt text stays, as a link when the source is on the web.
        token = tokens[idx]
        alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env)) or "image"
        src = token.attrGet("src") or ""
        if is_web_url(str(src)):
            return f'[<a href="{escapeHtml(str(src))}">{alt}</a>]'
        return f"[{alt}]"

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Only web and mail links stay clickable: a file:, a relative path or any other scheme in a
        # reply could make the system open a local program.
        href = str(tokens[idx].attrGet("href") or "")
        if is_web_url(href) or href.lower().startswith("mailto:"):
            return f'<a href="{escapeHtml(href)}">'
        return "<a>"

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        escaped = escapeHtml(tokens[idx].content)
        if env and env.get("web"):
            escaped = link_web_citations(escaped, env["web"], env.get("web_prefix", ""))
        count = env.get("citations", 0) if env else 0
        return link_citations(escaped, count) if count else escaped


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) address, the only kind a reply may open."""
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://")) and len(lowered) > len("https://")


_CITATION = re.compile(r"([\[【])(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)([\]】])")


def link_citations(escaped_text: str, count: int) -> str:
    """Turn "[2]", "[1, 3]" and "【2】" in already escaped text into ``cite:N`` links, for N in 1..count."""

    def one(number: str) -> str:
        n = int(number)
        return f'<a href="{CITE_SCHEME}:{n}">{n}</a>' if 1 <= n <= count else number

    def replace(match: re.Match[str]) -> str:
        numbers = re.split(r"(\s*[,，、]\s*)", match.group(2))
        if not any(1 <= int(n) <= count for n in numbers[::2]):
            return match.group(0)
        if len(numbers) == 1:  # the whole "[2]" is the link: a bigger target to click
            return f'<a href="{CITE_SCHEME}:{int(numbers[0])}">{match.group(0)}</a>'
        linked = "".join(one(part) if i % 2 == 0 else part for i, part in enumerate(numbers))
        return match.group(1) + linked + match.group(3)

    return _CITATION.sub(replace, escaped_text)


CITE_SCHEME = "cite"
WEB_SCHEME = "web"  # web:N names the answer's web source N; the message opens its page


def link_web_citations(escaped_text: str, indexes: tuple[int, ...], prefix: str = "") -> str:
    """Turn the web search's markers ("[ref_2]") in already escaped text into ``web:N`` links shown
    as "[2]" (or "[W2]" with ``prefix``), for the indexes a source has; others stay as they are."""

    def one(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f'<a href="{WEB_SCHEME}:{n}">[{prefix}{n}]</a>' if n in indexes else match.group(0)

    return WEB_MARKER.sub(one, escaped_text)


@lru_cache(maxsize=4)
def _parser(dark: bool, highlight: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    renderer = _QtRenderer(md)
    renderer.palette = DARK if dark else LIGHT
    renderer.highlight = highlight
    md.renderer = renderer
    return md


@dataclass(frozen=True, slots=True)
class Fold:
    """How much of a huge block the screen shows (copies and exports always get everything).

    Laying out a 3,000-row table or an 8,000-line code block takes Qt seconds, and a reply is
    laid out again as it streams: beyond these bounds the rest of the block is summed up in a
    note, so no block costs more than a few pages. The notes come from the face, translated;
    ``%1`` is the count left out."""

    code_lines: int = 200
    table_rows: int = 50
    line_chars: int = 10_000
    more_lines: str = "%1 more lines are not shown here; Copy copies them all."
    more_rows: str = "%1 more rows are not shown here; Copy copies them all."
    more_chars: str = "… (%1 more characters; Copy copies them all)"


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"^ {0,3}\|")


def fold_source(text: str, fold: Fold) -> str:
    """The Markdown with huge blocks cut down for the screen, before it is parsed: parsing and
    laying out what is cut would cost the time the fold saves. Code blocks keep their first
    ``code_lines`` lines and say how many follow; tables their first ``table_rows`` rows; a line
    longer than ``line_chars`` is cut with a note. Text within the bounds is returned unchanged."""
    if len(text) <= fold.line_chars and text.count("\n") <= min(fold.code_lines, fold.table_rows):
        return text
    out: list[str] = []
    fence = ""  # the fence of the code block we are in
    shown = hidden = 0  # lines of the current code block or table shown and left out
    in_table = False

    def close_table() -> None:
        nonlocal in_table, hidden
        if not in_table:
            return
        if hidden:
            out.extend(["", fold.more_rows.replace("%1", f"{hidden:,}"), ""])
        in_table, hidden = False, 0

    lines = text.split("\n")
    ends_with_newline = lines[-1] == ""
    for line in lines[:-1] if ends_with_newline else lines:
        if len(line) > fold.line_chars:
            line = line[:fold.line_chars] + " " + fold.more_chars.replace("%1", f"{len(line) - fold.line_chars:,}")
        if fence:
            if line.lstrip().startswith(fence):
                if hidden:
                    out.append(fold.more_lines.replace("%1", f"{hidden:,}"))
                fence, hidden = "", 0
                out.append(line)
            elif shown < fold.code_lines:
                shown += 1
                out.append(line)
            else:
                hidden += 1
            continue
        if (match := _FENCE.match(line)) is not None:
            close_table()
            fence, shown, hidden = match.group(1), 0, 0
            out.append(line)
            continue
        if _TABLE_ROW.match(line):
            if not in_table:
                in_table, shown, hidden = True, 0, 0
            shown += 1
            if shown > fold.table_rows + 2:  # the header and its separator line are not rows
                hidden += 1
                continue
        else:
            close_table()
        out.append(line)
    close_table()
    if fence and hidden:  # a block still streaming: say how much is already left out
        out.append(fold.more_lines.replace("%1", f"{hidden:,}"))
    return "\n".join(out) + ("\n" if ends_with_newline else "")


def render(text: str, *, dark: bool = False, highlight: bool = True, citations: int = 0,
           fold: Fold | None = None, web: tuple[int, ...] = (), web_prefix: str = "") -> str:
    """Markdown source to HTML for ``QTextDocument.setHtml`` / ``QTextBrowser``.

    With ``citations=N``, the markers [1]…[N] in the text (not in code) become ``cite:n`` links.
    With ``fold``, huge blocks are shortened for the screen (see :class:`Fold`). With ``web`` (the
    indexes of the answer's web sources), the markers "[ref_n]" become ``web:n`` links.
    """
    if not text:
        return ""
    md = _parser(dark, highlight)
    env: EnvType = {"citations": citations} if citations else {}
    if web:  # beside notes' [n], the web's are [Wn]: told apart, and never linked twice
        env.update(web=web, web_prefix=web_prefix or ("W" if citations else ""))
    if fold is None:
        rendered: str = md.render(text, env)
        return rendered
    shown: str = md.render(fold_source(text, fold), env)
    return shown


# Single quotes: these go inside double-quoted style attributes.
DOCUMENT_FONTS = ("'Calibri', 'Microsoft YaHei', '微软雅黑', 'PingFang SC', 'Noto Sans CJK SC', "
                  "'SimSun', sans-serif")
CODE_FONTS = "'Consolas', 'Courier New', 'Noto Sans Mono', monospace"


def document_html(text: str) -> str:
    """A complete HTML document of the Markdown, for the clipboard ("Copy for Word") and files.

    Word and WPS take HTML from the clipboard with inline styles only: headings, lists, bordered
    tables and shaded monospace code blocks keep their form; colours are the light palette's.
    """
    code_style = f"font-family:{CODE_FONTS}; font-size:10pt;"
    body = render(text, dark=False)
    body = body.replace('<pre style="margin:0; white-space:pre-wrap;">',
                        f'<pre style="margin:0; white-space:pre-wrap; {code_style}">')
    body = body.replace('<code style="', f'<code style="{code_style} ')
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
            f'<body style="font-family:{DOCUMENT_FONTS}; font-size:11pt;">\n{body}</body></html>\n')


def plain_text(text: str) -> str:
    """The Markdown as text that reads well where Markdown is not rendered (chat apps, e-mail,
    Notepad): headings are their text, emphasis loses its markers, list items start with "• " or
    their number, table rows are tab-separated cells (they paste into Excel as a table), code
    blocks are their code and links read "text (address)". Blocks are a blank line apart."""
    if not text:
        return ""
    return _plain_blocks(SyntaxTreeNode(_parser(False, False).parse(text)))


def _plain_blocks(node: SyntaxTreeNode, tight: bool = False) -> str:
    blocks = [block for child in node.children if (block := _plain_block(child))]
    return ("\n" if tight else "\n\n").join(blocks)


def _plain_block(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in ("paragraph", "heading", "th", "td"):
        return "".join(_plain_inline(child) for child in node.children)
    if kind == "inline":
        return "".join(_plain_inline(child) for child in node.children)
    if kind in ("fence", "code_block"):
        return node.content.rstrip("\n")
    if kind == "hr":
        return "\u2500" * 20
    if kind == "blockquote":
        return "\n".join(("> " + line).rstrip() for line in _plain_blocks(node).split("\n"))
    if kind in ("bullet_list", "ordered_list"):
        return _plain_list(node)
    if kind == "table":
        rows = [row for section in node.children for row in section.children]
        return "\n".join("\t".join(_plain_block(cell).replace("\t", " ") for cell in row.children)
                         for row in rows)
    if kind in ("html_block", "html_inline"):
        return node.content.rstrip("\n")
    return _plain_blocks(node)


def _plain_list(node: SyntaxTreeNode) -> str:
    # A tight list's paragraphs are hidden: its items sit on consecutive lines.
    tight = any(child.type == "paragraph" and child.hidden
                for item in node.children for child in item.children)
    start = node.attrs.get("start", 1) if node.type == "ordered_list" else None
    items = []
    for number, item in enumerate(node.children, start=int(start) if start is not None else 1):
        marker = f"{number}. " if start is not None else "\u2022 "
        lines = _plain_blocks(item, tight).split("\n")
        indent = " " * len(marker)
        items.append("\n".join([marker + lines[0]] + [indent + line if line else line
                                                        for line in lines[1:]]))
    return ("\n" if tight else "\n\n").join(items)


def _plain_inline(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in ("text", "code_inline", "html_inline"):
        return node.content
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    label = "".join(_plain_inline(child) for child in node.children)
    if kind in ("link", "image"):
        address = str(node.attrs.get("href" if kind == "link" else "src", "") or "")
        if not address or address in (label, "mailto:" + label):
            return label or address
        return f"{label} ({address})" if label else address
    return label


def stable_prefix_end(text: str) -> int:
    """Index where the text splits into finished blocks and an unfinished tail.

    A block is finished once a blank line follows it outside a code fence: later text cannot
    change how it renders (CommonMark blocks end at blank lines; lists and quotes may continue,
    which at worst starts a new list with the right number). Returns 0 when nothing is finished.
    """
    end = 0
    for boundary in block_boundaries(text):
        end = boundary
    return end


def block_boundaries(text: str) -> Iterator[int]:
    """Offsets, in increasing order, where the text can be cut between blocks that render the
    same apart as together (see :func:`stable_prefix_end`)."""
    pending = 0  # a blank line after a block: a boundary once the next block starts unindented
    fence: str | None = None
    fence_top = False
    pos = 0
    previous_blank = True
    for line in text.splitlines(keepends=True):
        line_end = pos + len(line)
        if not line.endswith("\n"):
            break
        stripped = line.strip()
        match = _FENCE.match(line)
        if fence is None:
            if stripped and pending and not line[0].isspace():
                yield pending  # the next block starts at column 0: it cannot continue the last one
            if stripped:
                pending = 0
            if match:
                fence = match.group(1)
                fence_top = not line[0].isspace()
            elif not stripped and not previous_blank:
                pending = line_end
        elif match and stripped.startswith(fence[0] * len(fence)) and set(stripped) <= {fence[0]}:
            fence = None
            if fence_top:  # a closed top-level fence is a finished block by itself; an indented
                yield line_end  # one may sit inside a list item that goes on after it
        previous_blank = not stripped and fence is None
        pos = line_end


def split_blocks(text: str, chars: int) -> list[int]:
    """Start offsets of pieces of about ``chars`` characters or more, cut between blocks
    (``[0]`` when the text is short or cannot be cut)."""
    starts = [0]
    for boundary in block_boundaries(text):
        if boundary - starts[-1] >= chars and len(text) - boundary >= chars // 4:
            starts.append(boundary)
    return starts


COMMON_LANGUAGES = ("python", "javascript", "typescript", "bash", "json", "sql", "java", "c", "cpp",
                    "go", "rust", "html", "css", "yaml", "markdown")


def warm_up() -> None:
    """Import the Pygments lexers and style that replies use most, off the UI thread at start-up,
    so the first highlighted block of a streaming reply does not stall the window."""
    for palette in (LIGHT, DARK):
        _formatter(palette.pygments_style)
    for name in COMMON_LANGUAGES:
        try:
            lexer = get_lexer_by_name(name)
        except ClassNotFound:
            continue
        highlight("x = 1\n", lexer, _formatter(LIGHT.pygments_style))
