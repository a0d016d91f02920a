"""The page's tree, built by lxml directly, and the few readings of it extractors share.

BeautifulSoup over lxml cost 44% of extraction: it builds a Python object for every node
libxml2 has already built in C. The extractors now read libxml2's tree itself. The
helpers here give the readings BeautifulSoup used to (its `get_text`, `find_all(string=
True)`, `str(tag)`), to the letter, so every fact and its evidence stays what it was:

- whitespace-only strings outside <pre>/<textarea> read as one "\\n" (if they hold a
  newline) or one " ", as BeautifulSoup stores them;
- `text()` skips comments and the strings of <script>, <style>, <template> and ruby
  annotations below the element it is asked about, as `get_text` does;
- `outer_html()` writes attributes sorted, `&`, `<`, `>` escaped and void elements as
  `<br/>`, as `str(tag)` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

from lxml import etree

# An lxml `etree._Element`; lxml is untyped for mypy here (pyproject's overrides).
Element: TypeAlias = Any
_ASCII_SPACE = " \n\t\x0c\r"
_PRESERVE = frozenset({"pre", "textarea"})
# Elements whose strings BeautifulSoup types apart (Script, Stylesheet, TemplateString,
# RubyText...): `get_text` on the element itself reads them, on an ancestor it does not.
_OWN_STRINGS = frozenset({"script", "style", "template", "rt", "rp"})
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "menuitem",
        "meta",
        "param",
        "source",
        "spacer",
        "track",
        "wbr",
        "basefont",
        "bgsound",
        "command",
        "frame",
        "image",
        "isindex",
        "nextid",
    }
)
_RAW_TEXT = frozenset({"script", "style"})


def parse(html: str) -> Element:
    """The page's <html> element. Fed in one piece to a recovering push parser, as
    BeautifulSoup feeds lxml, so broken markup is repaired the same way."""
    parser = etree.HTMLParser(recover=True, huge_tree=False)
    try:
        parser.feed(html)
        root = parser.close()
    except etree.LxmlError:  # nothing parseable: an empty page, or only a doctype
        root = None
    return root if root is not None else etree.Element("html")


def is_element(node: object) -> bool:
    """An element, not a comment or processing instruction (their tag is a function)."""
    return isinstance(getattr(node, "tag", None), str)


def squash(text: str, preserve: bool) -> str:
    """A string as BeautifulSoup stores it: all-whitespace runs become one character."""
    if preserve or text.strip(_ASCII_SPACE):
        return text
    return "\n" if "\n" in text else " "


def preserved(element: Element) -> bool:
    """Whether whitespace inside `element` is kept as written (<pre>, <textarea>)."""
    return element.tag in _PRESERVE or any(a.tag in _PRESERVE for a in element.iterancestors())


def strings(element: Element, *, comments: bool = True) -> Iterator[tuple[str, Element, bool]]:
    """Every string under `element` in document order, as (text, its parent element,
    whether it is a comment): BeautifulSoup's `find_all(string=True)`."""
    keep = preserved(element)
    yield from _strings(element, keep, comments)


def _strings(element: Element, keep: bool, comments: bool) -> Iterator[tuple[str, Element, bool]]:
    if element.text:
        yield squash(element.text, keep), element, False
    for child in element:
        if is_element(child):
            yield from _strings(child, keep or child.tag in _PRESERVE, comments)
        elif comments and isinstance(child, etree._Comment) and child.text:
            yield child.text, element, True
        if child.tail:
            yield squash(child.tail, keep), element, False


def own_strings(element: Element) -> list[str]:
    """The strings directly inside `element`, comments too (`find_all(string=True,
    recursive=False)`)."""
    keep = preserved(element)
    found = [squash(element.text, keep)] if element.text else []
    for child in element:
        if isinstance(child, etree._Comment) and child.text:
            found.append(child.text)
        if child.tail:
            found.append(squash(child.tail, keep))
    return found


def text(element: Element, separator: str = "") -> str:
    """BeautifulSoup's `get_text(separator)`."""
    if element.tag in _OWN_STRINGS:
        return separator.join(s for s, _, comment in strings(element) if not comment)
    above = {a.tag for a in element.iterancestors()}
    if not _OWN_STRINGS.isdisjoint(above):
        # Inside a <template> (or script, ruby text) every string is typed after it, so an
        # inner element's get_text was "".
        return ""
    keep = element.tag in _PRESERVE or not _PRESERVE.isdisjoint(above)
    return separator.join(_text_parts(element, keep))


def _text_parts(element: Element, keep: bool) -> Iterator[str]:
    if element.text:
        yield squash(element.text, keep)
    for child in element:
        if is_element(child) and child.tag not in _OWN_STRINGS:
            yield from _text_parts(child, keep or child.tag in _PRESERVE)
        if child.tail:
            yield squash(child.tail, keep)


def classes(element: Element) -> str:
    """The class attribute's words, one space apart."""
    return " ".join((element.get("class") or "").split())


def outer_html(element: Element, limit: int = 3_000) -> str:
    """BeautifulSoup's `str(tag)`, cut near `limit` characters (callers keep 300)."""
    out: list[str] = []
    _write(element, out, [0], limit, preserved(element))
    return "".join(out)


def _write(element: Element, out: list[str], size: list[int], limit: int, keep: bool) -> None:
    if size[0] > limit:
        return
    name = element.tag
    attrs = "".join(f" {k}={_quoted(_attribute(element, k))}" for k in sorted(element.attrib))
    _put(
        out,
        size,
        f"<{name}{attrs}/>"
        if name in _VOID and not len(element) and not element.text
        else f"<{name}{attrs}>",
    )
    if name in _VOID and not len(element) and not element.text:
        return
    raw = name in _RAW_TEXT
    if element.text:
        _put(out, size, _escaped(squash(element.text, keep), raw))
    for child in element:
        if is_element(child):
            _write(child, out, size, limit, keep or child.tag in _PRESERVE)
        elif isinstance(child, etree._Comment):
            _put(out, size, f"<!--{child.text or ''}-->")
        if child.tail:
            _put(out, size, _escaped(squash(child.tail, keep), raw))
    _put(out, size, f"</{name}>")


def _put(out: list[str], size: list[int], piece: str) -> None:
    out.append(piece)
    size[0] += len(piece)


def _attribute(element: Element, key: str) -> str:
    value = element.get(key) or ""
    # BeautifulSoup splits class (and a few others) into words and joins them back.
    return " ".join(value.split()) if key == "class" else value


def _escaped(value: str, raw: bool) -> str:
    if raw:
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(value: str) -> str:
    value = _escaped(value, False)
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace('"', "&quot;") + '"'


def following(element: Element) -> Iterator[Element]:
    """The elements after `element`'s start tag in document order, its own descendants
    first: BeautifulSoup's `find_all_next(True)`."""
    yield from (e for e in element.iterdescendants() if is_element(e))
    node: Element | None = element
    while node is not None:
        for sibling in node.itersiblings():
            if is_element(sibling):
                yield sibling
                yield from (e for e in sibling.iterdescendants() if is_element(e))
        node = node.getparent()
