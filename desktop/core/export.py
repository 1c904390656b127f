"""Exporting a conversation to Markdown or to a Word document (.docx).

Markdown keeps every message's text as written. The .docx is built with python-docx from the
same Markdown parse the window uses: headings, paragraphs with bold/italic/code/links, bullet and
numbered lists (numbering restarts per list), tables with a header row, block quotes, and code
blocks in a shaded monospace "Code Block" style; Chinese text gets an East Asian font. The
sources of answers from notes are listed under them, linked to the files. A reply that was stopped,
cut off or failed says so in a line under it (a failed request with no text: under the question),
and the .docx carries the conversation's title and the app as its author.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from desktop.core.ask import Source, no_notes_message
from desktop.core.errors import MESSAGES, ErrorKind
from desktop.core.history import Conversation, Message, Status
from desktop.core.i18n import QT_TRANSLATE_NOOP, fill
from desktop.core.websearch import cited_markdown

# Labels of an export, in English; the window passes a translator so they follow the UI language.
Translate = Callable[[str], str]
YOU = QT_TRANSLATE_NOOP("Export", "You")
QWEN = QT_TRANSLATE_NOOP("Export", "Qwen")
CONVERSATION = QT_TRANSLATE_NOOP("Export", "Conversation")
EXPORTED = QT_TRANSLATE_NOOP("Export", "Exported from %1 on %2 · %3 messages")
SOURCES = QT_TRANSLATE_NOOP("Export", "Sources")
LINE = QT_TRANSLATE_NOOP("Export", "line %1")
LINES = QT_TRANSLATE_NOOP("Export", "lines %1–%2")
STOPPED = QT_TRANSLATE_NOOP("Export", "(stopped)")
CUT_OFF = QT_TRANSLATE_NOOP("Export", "(cut off)")
EDITED = QT_TRANSLATE_NOOP("Export", "edited %1")
WEB_SOURCES = QT_TRANSLATE_NOOP("Export", "Web sources")
FAILED = QT_TRANSLATE_NOOP("Export", "(failed: %1)")
UNKNOWN_REASON = QT_TRANSLATE_NOOP("Export", "unknown error")


def _english(text: str) -> str:
    return text



APP = "Qwen Desktop"
CODE_FONT = "Consolas"
EAST_ASIAN_FONT = "Microsoft YaHei"


_FORBIDDEN_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
NAME_LIMIT = 60


def export_file_name(title: str, fmt: str, today: datetime.date | None = None) -> str:
    """A clean default file name: the title without the characters Windows forbids in names or
    control characters, trimmed to at most NAME_LIMIT characters, then the date and the suffix,
    e.g. "Quarterly budget 2026-12-02.md"; "conversation 2026-12-02.md" without a title."""
    name = " ".join(_FORBIDDEN_IN_NAMES.sub(" ", title).split())[:NAME_LIMIT].strip(" .")
    day = (today or datetime.date.today()).isoformat()
    return f"{name or 'conversation'} {day}.{fmt}"


def status_mark(message: Message, tr: Translate = _english) -> str:
    """The line under a reply that did not end normally ("(stopped)", "(cut off)", "(failed: …)");
    "" for one that did."""
    if message.role != "assistant":
        return ""
    if message.status is Status.STOPPED:
        return tr(STOPPED)
    if message.status in (Status.CUT_OFF, Status.LENGTH):
        return tr(CUT_OFF)
    if message.status is Status.ERROR:
        try:
            reason = tr(MESSAGES[ErrorKind(message.error_kind)])
        except (ValueError, KeyError):
            reason = tr(UNKNOWN_REASON)
        return fill(tr(FAILED), reason)
    return ""


def _marks(messages: Sequence[Message], tr: Translate) -> dict[int, str]:
    """Message id -> the status mark under it. A failed reply with no text is not exported: its
    mark goes under the question it answered."""
    shown = {m.id for m in exported_messages(messages)}
    marks: dict[int, str] = {}
    question: Message | None = None
    for message in messages:
        if message.role == "user":
            question = message
        mark = status_mark(message, tr)
        if not mark:
            continue
        target = message if message.id in shown else question
        if target is not None:
            marks[target.id] = "\n".join(filter(None, (marks.get(target.id), mark)))
    return marks


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def exported_messages(messages: Sequence[Message]) -> list[Message]:
    """The messages worth exporting: questions, and answers with text (failed requests are not)."""
    return [m for m in messages
            if m.role == "user" or m.content.strip() or m.status is Status.NO_NOTES]


def _label(message: Message, tr: Translate) -> str:
    who = tr(YOU) if message.role == "user" else tr(QWEN)
    model = f" · {message.model}" if message.role == "assistant" and message.model else ""
    edited = f" ({fill(tr(EDITED), _when(message.edited))})" if message.edited is not None else ""
    return f"{who}{model} · {_when(message.created)}{edited}"


def _source_line(source: Source, tr: Translate) -> str:
    where = source.heading
    if source.line_start:
        lines = (fill(tr(LINE), source.line_start) if source.line_start == source.line_end
                 else fill(tr(LINES), source.line_start, source.line_end))
        where = f"{where}, {lines}" if where else lines
    return where


def _question_before(messages: Sequence[Message], index: int) -> str:
    for m in reversed(messages[:index]):
        if m.role == "user":
            return m.content
    return ""


def _body(messages: Sequence[Message], index: int, tr: Translate = _english) -> str:
    message = messages[index]
    if message.status is Status.NO_NOTES:
        return f"*{no_notes_message(_question_before(messages, index))}*"
    if message.web_sources:  # the markers become links, the pages are listed under the answer
        return cited_markdown(message.content, message.web_sources, tr(WEB_SOURCES),
                              prefix="W" if message.sources else "")
    return message.content


# ---- JSON -----------------------------------------------------------------------------------


def conversation_json(conversation: Conversation, messages: Sequence[Message]) -> dict[str, Any]:
    """The conversation as data (``history export --json``): every message with its sources."""
    def one(m: Message) -> dict[str, Any]:
        usage = None if m.usage is None else {
            "prompt_tokens": m.usage.prompt_tokens, "completion_tokens": m.usage.completion_tokens,
            "reasoning_tokens": m.usage.reasoning_tokens, "cached_tokens": m.usage.cached_tokens,
            "searches": m.usage.searches}
        return {"id": m.id, "role": m.role, "content": m.content, "reasoning": m.reasoning,
                "status": m.status.value, "model": m.model, "created": m.created, "edited": m.edited,
                "usage": usage, "error_kind": m.error_kind,
                "sources": None if m.sources is None else [s.to_json() for s in m.sources],
                "web_sources": None if m.web_sources is None else [s.to_json() for s in m.web_sources]}

    return {"id": conversation.id, "title": conversation.title, "created": conversation.created,
            "updated": conversation.updated, "messages": [one(m) for m in messages]}


# ---- Markdown -------------------------------------------------------------------------------


def conversation_markdown(conversation: Conversation, messages: Sequence[Message],
                          tr: Translate = _english) -> str:
    shown = exported_messages(messages)
    marks = _marks(messages, tr)
    title = conversation.title or tr(CONVERSATION)
    out = [f"# {title}", "", f"_{fill(tr(EXPORTED), APP, _when(time.time()), len(shown))}_", ""]
    for i, message in enumerate(shown):
        if i:
            out += ["---", ""]
        out += [f"## {_label(message, tr)}", "", _body(shown, i, tr).rstrip(), ""]
        if message.id in marks:
            out += [f"*{line}*  " for line in marks[message.id].split("\n")] + [""]
        if message.sources:
            out += [f"**{tr(SOURCES)}**", ""]
            for source in message.sources:
                uri = Path(source.path).as_uri() if Path(source.path).is_absolute() else source.path
                detail = _source_line(source, tr)
                out.append(f"{source.number}. [{source.file_name}](<{uri}>)" + (f" — {detail}" if detail else ""))
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ---- Word -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def write_docx(conversation: Conversation, messages: Sequence[Message], path: Path,
               tr: Translate = _english) -> None:
    import docx

    document = docx.Document()
    _setup_styles(document)
    shown = exported_messages(messages)
    marks = _marks(messages, tr)
    document.core_properties.title = conversation.title or tr(CONVERSATION)
    document.core_properties.author = APP
    document.core_properties.last_modified_by = APP
    document.add_heading(conversation.title or tr(CONVERSATION), level=0)
    meta = document.add_paragraph()
    run = meta.add_run(fill(tr(EXPORTED), APP, _when(time.time()), len(shown)))
    run.italic = True
    for i, message in enumerate(shown):
        document.add_heading(_label(message, tr), level=1)
        if message.role == "user":
            for block in message.content.split("\n\n"):
                paragraph = document.add_paragraph()
                for j, line in enumerate(block.split("\n")):
                    if j:
                        paragraph.add_run().add_break()
                    paragraph.add_run(line)
        else:
            add_markdown(document, _body(shown, i, tr), heading_offset=1)
        for line in marks.get(message.id, "").split("\n") if message.id in marks else ():
            document.add_paragraph().add_run(line).italic = True
        if message.sources:
            label = document.add_paragraph()
            label.add_run(tr(SOURCES)).bold = True
            for source in message.sources:
                paragraph = document.add_paragraph()
                paragraph.add_run(f"[{source.number}] ")
                target = Path(source.path).as_uri() if Path(source.path).is_absolute() else source.path
                _add_hyperlink(paragraph, source.file_name, target)
                detail = _source_line(source, tr)
                if detail:
                    paragraph.add_run(f" — {detail}")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))


def _setup_styles(document: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = document.styles["Normal"]
    _set_east_asian_font(normal.element, EAST_ASIAN_FONT)
    code = document.styles.add_style("Code Block", WD_STYLE_TYPE.PARAGRAPH)
    code.base_style = normal
    code.font.name = CODE_FONT
    code.font.size = Pt(9.5)
    code.paragraph_format.space_before = Pt(4)
    code.paragraph_format.space_after = Pt(4)
    _set_east_asian_font(code.element, EAST_ASIAN_FONT)
    shading = code.element.get_or_add_pPr().makeelement(qn("w:shd"), {
        qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): "F6F8FA"})
    code.element.get_or_add_pPr().append(shading)


def _set_east_asian_font(element: Any, font: str) -> None:
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), font)


def _add_hyperlink(paragraph: Any, text: str, url: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    style = OxmlElement("w:color")
    style.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.append(style)
    rpr.append(underline)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def add_markdown(document: Any, text: str, *, heading_offset: int = 0) -> None:
    """Append Markdown ``text`` to a python-docx document as native Word structure."""
    tokens = _parser().parse(text)
    lists: list[dict[str, Any]] = []  # open lists: kind, and the numbering id of ordered ones
    quote = 0
    first_in_item = False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        kind = t.type
        if kind == "heading_open":
            level = min(9, int(t.tag[1]) + heading_offset)
            _add_inline(document.add_heading("", level=level), tokens[i + 1])
            i += 3
            continue
        if kind == "paragraph_open":
            if lists:
                style = _list_style(lists) if first_in_item else _continue_style(lists)
                paragraph = document.add_paragraph(style=style)
                if first_in_item and lists[-1]["kind"] == "number":
                    _set_numbering(paragraph, lists[-1]["num_id"], 0)
                first_in_item = False
            else:
                paragraph = document.add_paragraph(style="Quote" if quote else None)
            _add_inline(paragraph, tokens[i + 1])
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            entry: dict[str, Any] = {"kind": "bullet" if kind == "bullet_list_open" else "number"}
            if entry["kind"] == "number":
                start = int(t.attrGet("start") or 1)
                entry["num_id"] = _new_numbering(document, _list_style(lists + [entry]), start)
            lists.append(entry)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            first_in_item = True
        elif kind in ("fence", "code_block"):
            _add_code(document, t.content.rstrip("\n"))
        elif kind == "table_open":
            i = _add_table(document, tokens, i)
            continue
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "hr":
            document.add_paragraph("―" * 12).alignment = 1  # centred rule
        i += 1


def _list_style(lists: list[dict[str, Any]]) -> str:
    depth = min(3, len(lists))
    base = "List Bullet" if lists[-1]["kind"] == "bullet" else "List Number"
    return base if depth == 1 else f"{base} {depth}"


def _continue_style(lists: list[dict[str, Any]]) -> str:
    depth = min(3, len(lists))
    return "List Continue" if depth == 1 else f"List Continue {depth}"


def _new_numbering(document: Any, style_name: str, start: int) -> int | None:
    """A numbering instance that restarts at ``start`` (Word continues "List Number" otherwise)."""
    from docx.oxml.ns import qn

    style = document.styles[style_name]
    num_pr = style.element.pPr.find(qn("w:numPr")) if style.element.pPr is not None else None
    if num_pr is None:
        return None
    style_num = int(num_pr.find(qn("w:numId")).get(qn("w:val")))
    numbering = document.part.numbering_part.element
    abstract = None
    for num in numbering.findall(qn("w:num")):
        if int(num.get(qn("w:numId"))) == style_num:
            abstract = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    if abstract is None:
        return None
    num_id = max(int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))) + 1
    num = numbering.makeelement(qn("w:num"), {qn("w:numId"): str(num_id)})
    abstract_ref = num.makeelement(qn("w:abstractNumId"), {qn("w:val"): abstract})
    override = num.makeelement(qn("w:lvlOverride"), {qn("w:ilvl"): "0"})
    override.append(override.makeelement(qn("w:startOverride"), {qn("w:val"): str(start)}))
    num.append(abstract_ref)
    num.append(override)
    numbering.append(num)
    return num_id


def _set_numbering(paragraph: Any, num_id: int | None, level: int) -> None:
    if num_id is None:
        return
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id


def _add_code(document: Any, code: str) -> None:
    paragraph = document.add_paragraph(style="Code Block")
    for j, line in enumerate(code.split("\n")):
        if j:
            paragraph.add_run().add_break()
        paragraph.add_run(line)


def _add_inline(paragraph: Any, inline: Token) -> None:
    bold = italic = strike = False
    link: str | None = None
    link_text: list[str] = []
    for child in inline.children or []:
        kind = child.type
        if kind == "strong_open":
            bold = True
        elif kind == "strong_close":
            bold = False
        elif kind == "em_open":
            italic = True
        elif kind == "em_close":
            italic = False
        elif kind == "s_open":
            strike = True
        elif kind == "s_close":
            strike = False
        elif kind == "link_open":
            link = str(child.attrGet("href") or "")
            link_text = []
        elif kind == "link_close":
            if link and link.startswith(("http://", "https://", "mailto:", "file:")):
                _add_hyperlink(paragraph, "".join(link_text), link)
            else:
                paragraph.add_run("".join(link_text))
            link = None
        elif link is not None and kind in ("text", "code_inline"):
            link_text.append(child.content)
        elif kind == "text":
            run = paragraph.add_run(child.content)
            run.bold, run.italic, run.font.strike = bold or None, italic or None, strike or None
        elif kind == "code_inline":
            run = paragraph.add_run(child.content)
            run.font.name = CODE_FONT
            run.bold = bold or None
        elif kind == "softbreak":
            paragraph.add_run(" ")
        elif kind == "hardbreak":
            paragraph.add_run().add_break()
        elif kind == "image":
            paragraph.add_run(child.content or str(child.attrGet("alt") or ""))


def _add_table(document: Any, tokens: list[Token], i: int) -> int:
    """Add the table starting at tokens[i]; returns the index after its table_close."""
    rows: list[list[tuple[Token, bool]]] = []
    i += 1
    while tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "tr_open":
            rows.append([])
        elif t.type in ("th_open", "td_open"):
            rows[-1].append((tokens[i + 1], t.type == "th_open"))
        i += 1
    columns = max((len(r) for r in rows), default=0)
    if rows and columns:
        table = document.add_table(rows=len(rows), cols=columns)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, (inline, header) in enumerate(row):
                paragraph = table.cell(r, c).paragraphs[0]
                _add_inline(paragraph, inline)
                if header:
                    for run in paragraph.runs:
                        run.bold = True
        document.add_paragraph()
    return i + 1
