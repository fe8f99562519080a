"""``HTMLRewriter``: Cloudflare's streaming HTML rewriter, on Python's HTML tokenizer.

``HTMLRewriter.new().on(selector, handler).onDocument(handler).transform(response)`` returns
a new ``Response`` whose body is rewritten as it streams. Handlers are objects (or
``create_proxy`` wrappers) with optional ``element``, ``comments`` and ``text`` methods
(``onDocument``: ``doctype``, ``comments``, ``text``, ``end``); a method may be a coroutine
function, awaited before the stream goes on.

Selectors (Cloudflare's list): ``*``, ``E``, ``E:nth-child(n)``, ``E:first-child``,
``E:nth-of-type(n)``, ``E:first-of-type``, ``E:not(s)``, ``E.class``, ``E#id``, ``E[attr]``,
``E[attr="v"]``, ``E[attr="v" i]``/``s``, ``E[attr~="v"]``, ``E[attr^="v"]``,
``E[attr$="v"]``, ``E[attr*="v"]``, ``E[attr|="v"]``, ``E F`` and ``E > F``.

Element methods: ``tagName`` (settable), ``attributes``, ``getAttribute``, ``hasAttribute``,
``setAttribute``, ``removeAttribute``, ``before``/``after``/``prepend``/``append``/
``replace``/``setInnerContent`` (``content, html=False`` or ``{"html": True}``), ``remove``,
``removeAndKeepContent``, ``removed``, ``selfClosing``, ``canHaveContent``, ``onEndTag``.
Text chunks and comments: ``text``, ``before``/``after``/``replace``/``remove``, ``removed``
(text also ``lastInTextNode``). Content is HTML-escaped unless ``html`` is true.

Tokenizing is ``html.parser.HTMLParser`` fed chunk by chunk; unchanged markup is copied
through as written (start tags verbatim, character references unexpanded). Each text node
reaches ``text`` handlers as one chunk with ``lastInTextNode = True``.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from edgekv.runtime.web.headers import Headers
from edgekv.runtime.web.response import Response

__all__ = ["HTMLRewriter", "parse_selector"]

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr"})
RAW_TEXT = frozenset({"script", "style"})


# -- selectors -----------------------------------------------------------------------------------


@dataclass
class _Compound:
    tag: str | None = None
    ids: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    attrs: list[tuple[str, str | None, str | None, bool]] = field(default_factory=list)
    nth_child: list[tuple[int, int]] = field(default_factory=list)
    nth_type: list[tuple[int, int]] = field(default_factory=list)
    negations: list[_Compound] = field(default_factory=list)


@dataclass
class _Selector:
    parts: list[tuple[str, _Compound]]  # (combinator to the previous part, compound)


_TOKEN = re.compile(
    r"""\s*(>)\s*|\s+|([A-Za-z_*][-\w]*|\*)|(\.|\#)([-\w]+)|(\[[^\]]*\])"""
    r"""|(:[-\w]+(?:\([^)]*\))?)""")
_ATTR = re.compile(
    r"""^\[\s*([-\w:]+)\s*(?:([~^$*|]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\s\]]+))\s*"""
    r"""([is])?\s*)?\]$""")


def _nth(expr: str) -> tuple[int, int]:
    text = expr.replace(" ", "").lower()
    if text == "odd":
        return 2, 1
    if text == "even":
        return 2, 0
    found = re.fullmatch(r"([+-]?\d*)n([+-]\d+)?|([+-]?\d+)", text)
    if not found:
        raise ValueError(f"Unsupported pseudo-class argument: {expr!r}")
    if found.group(3) is not None:
        return 0, int(found.group(3))
    a_text = found.group(1)
    a = -1 if a_text == "-" else 1 if a_text in ("", "+") else int(a_text)
    return a, int(found.group(2) or 0)


def _nth_matches(a: int, b: int, index: int) -> bool:
    if a == 0:
        return index == b
    n, rem = divmod(index - b, a)
    return rem == 0 and n >= 0


def parse_selector(text: str) -> _Selector:
    """Parse a selector (see the module docstring); raises ``ValueError`` naming it."""
    parts: list[tuple[str, _Compound]] = []
    current: _Compound | None = None
    combinator = " "
    pos = 0
    source = text.strip()
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"Unsupported selector: {text!r}")
        pos = match.end()
        if match.group(1):  # child combinator
            if current is not None:
                parts.append((combinator, current))
                current = None
            combinator = ">"
            continue
        if not match.group(0).strip():  # whitespace: descendant combinator (unless ">")
            if current is not None:
                parts.append((combinator, current))
                current = None
                combinator = " "
            continue
        if current is None:
            current = _Compound()
        if match.group(2):
            current.tag = None if match.group(2) == "*" else match.group(2).lower()
        elif match.group(3):
            (current.ids if match.group(3) == "#" else current.classes).append(match.group(4))
        elif match.group(5):
            attr = _ATTR.match(match.group(5))
            if attr is None:
                raise ValueError(f"Unsupported selector: {text!r}")
            value = next((v for v in attr.group(3, 4, 5) if v is not None), None)
            current.attrs.append((attr.group(1).lower(), attr.group(2), value,
                                  attr.group(6) == "i"))
        else:
            _pseudo(current, match.group(6), text)
    if current is not None:
        parts.append((combinator, current))
    if not parts:
        raise ValueError(f"Unsupported selector: {text!r}")
    return _Selector(parts)


def _pseudo(compound: _Compound, pseudo: str, text: str) -> None:
    name, _, arg = pseudo[1:].partition("(")
    arg = arg.removesuffix(")")
    if name == "first-child":
        compound.nth_child.append((0, 1))
    elif name == "nth-child":
        compound.nth_child.append(_nth(arg))
    elif name == "first-of-type":
        compound.nth_type.append((0, 1))
    elif name == "nth-of-type":
        compound.nth_type.append(_nth(arg))
    elif name == "not":
        compound.negations.append(parse_selector(arg).parts[-1][1])
    else:
        raise ValueError(f"Unsupported pseudo-class in selector {text!r}: :{name}")


@dataclass
class _Frame:
    tag: str
    attrs: dict[str, str]
    index: int = 0  # 1-based among element siblings
    type_index: int = 0
    children: int = 0
    types: dict[str, int] = field(default_factory=dict)
    element: Element | None = None
    suppress_content: bool = False
    removed: bool = False
    raw_text: bool = False


def _compound_matches(c: _Compound, frame: _Frame) -> bool:
    if c.tag is not None and c.tag != frame.tag:
        return False
    if any(frame.attrs.get("id") != i for i in c.ids):
        return False
    classes = frame.attrs.get("class", "").split()
    if any(cls not in classes for cls in c.classes):
        return False
    for name, op, value, fold in c.attrs:
        actual = frame.attrs.get(name)
        if actual is None:
            return False
        if op is None:
            continue
        assert value is not None
        a, v = (actual.lower(), value.lower()) if fold else (actual, value)
        ok = {
            "=": a == v, "~=": v in a.split(), "^=": bool(v) and a.startswith(v),
            "$=": bool(v) and a.endswith(v), "*=": bool(v) and v in a,
            "|=": a == v or a.startswith(v + "-"),
        }[op]
        if not ok:
            return False
    if any(not _nth_matches(a, b, frame.index) for a, b in c.nth_child):
        return False
    if any(not _nth_matches(a, b, frame.type_index) for a, b in c.nth_type):
        return False
    return not any(_compound_matches(n, frame) for n in c.negations)


def _matches(selector: _Selector, stack: list[_Frame]) -> bool:
    parts = selector.parts

    def walk(part: int, depth: int) -> bool:
        combinator, compound = parts[part]
        if not _compound_matches(compound, stack[depth]):
            return False
        if part == 0:
            return True
        if combinator == ">":
            return depth > 0 and walk(part - 1, depth - 1)
        return any(walk(part - 1, d) for d in range(depth - 1, -1, -1))

    return bool(stack) and walk(len(parts) - 1, len(stack) - 1)


# -- content handles -------------------------------------------------------------------------------


def _content(content: Any, options: Any, kwargs: dict[str, Any]) -> str:
    as_html = bool(kwargs.get("html"))
    if isinstance(options, dict):
        as_html = bool(options.get("html", as_html))
    elif options is not None:
        as_html = bool(getattr(options, "html", as_html))
    text = str(content)
    return text if as_html else html.escape(text, quote=False)


class _Mutable:
    def __init__(self) -> None:
        self._before: list[str] = []
        self._after: list[str] = []
        self._replacement: str | None = None
        self.removed = False

    def before(self, content: Any, options: Any = None, **kwargs: Any) -> _Mutable:
        self._before.append(_content(content, options, kwargs))
        return self

    def after(self, content: Any, options: Any = None, **kwargs: Any) -> _Mutable:
        self._after.insert(0, _content(content, options, kwargs))
        return self

    def replace(self, content: Any, options: Any = None, **kwargs: Any) -> _Mutable:
        self._replacement = _content(content, options, kwargs)
        self.removed = True
        return self

    def remove(self) -> _Mutable:
        self._replacement = ""
        self.removed = True
        return self


class TextChunk(_Mutable):
    """A text node (``text``, ``lastInTextNode``)."""

    def __init__(self, text: str, last: bool) -> None:
        super().__init__()
        self.text = text
        self.lastInTextNode = last

    def render(self, raw: str) -> str:
        body = raw if self._replacement is None else self._replacement
        return "".join(self._before) + body + "".join(self._after)


class Comment(TextChunk):
    """A comment (``text`` settable)."""

    def __init__(self, text: str) -> None:
        super().__init__(text, True)
        self._original = text

    def render(self, raw: str) -> str:
        body = f"<!--{self.text}-->" if self.text != self._original else raw
        if self._replacement is not None:
            body = self._replacement
        return "".join(self._before) + body + "".join(self._after)


class Doctype:
    def __init__(self, raw: str) -> None:
        parts = raw.split()
        self.name = parts[1].lower() if len(parts) > 1 else None
        self.publicId = None
        self.systemId = None


class DocumentEnd:
    def __init__(self) -> None:
        self._appended: list[str] = []

    def append(self, content: Any, options: Any = None, **kwargs: Any) -> DocumentEnd:
        self._appended.append(_content(content, options, kwargs))
        return self


class EndTag:
    def __init__(self, name: str) -> None:
        self.name = name
        self._before: list[str] = []
        self._after: list[str] = []
        self._removed = False

    def before(self, content: Any, options: Any = None, **kwargs: Any) -> EndTag:
        self._before.append(_content(content, options, kwargs))
        return self

    def after(self, content: Any, options: Any = None, **kwargs: Any) -> EndTag:
        self._after.insert(0, _content(content, options, kwargs))
        return self

    def remove(self) -> EndTag:
        self._removed = True
        return self


class Element(_Mutable):
    """A start tag being rewritten (see the module docstring)."""

    def __init__(self, frame: _Frame, raw: str, self_closing: bool) -> None:
        super().__init__()
        self._raw = raw
        self._dirty = False
        self._tag = frame.tag
        self._attrs: list[tuple[str, str]] = list(frame.attrs.items())
        self._prepend: list[str] = []
        self._append: list[str] = []
        self._inner: str | None = None
        self._keep_content = False
        self._end_handlers: list[Callable[..., Any]] = []
        self.selfClosing = self_closing
        self.canHaveContent = frame.tag not in VOID and not self_closing
        self.namespaceURI = "http://www.w3.org/1999/xhtml"

    @property
    def tagName(self) -> str:
        return self._tag

    @tagName.setter
    def tagName(self, value: str) -> None:
        self._tag = str(value).lower()
        self._dirty = True

    @property
    def attributes(self) -> list[list[str]]:
        return [[name, value] for name, value in self._attrs]

    def getAttribute(self, name: str) -> str | None:
        name = name.lower()
        return next((v for n, v in self._attrs if n == name), None)

    def hasAttribute(self, name: str) -> bool:
        return self.getAttribute(name) is not None

    def setAttribute(self, name: str, value: Any) -> Element:
        name = name.lower()
        for i, (n, _) in enumerate(self._attrs):
            if n == name:
                self._attrs[i] = (name, str(value))
                break
        else:
            self._attrs.append((name, str(value)))
        self._dirty = True
        return self

    def removeAttribute(self, name: str) -> Element:
        self._attrs = [(n, v) for n, v in self._attrs if n != name.lower()]
        self._dirty = True
        return self

    def prepend(self, content: Any, options: Any = None, **kwargs: Any) -> Element:
        self._prepend.insert(0, _content(content, options, kwargs))
        return self

    def append(self, content: Any, options: Any = None, **kwargs: Any) -> Element:
        self._append.append(_content(content, options, kwargs))
        return self

    def setInnerContent(self, content: Any, options: Any = None, **kwargs: Any) -> Element:
        self._inner = _content(content, options, kwargs)
        self._prepend, self._append = [], []
        return self

    def removeAndKeepContent(self) -> Element:
        self._keep_content = True
        self.removed = True
        return self

    def onEndTag(self, handler: Callable[..., Any]) -> None:
        self._end_handlers.append(handler)

    get_attribute = getAttribute
    has_attribute = hasAttribute
    set_attribute = setAttribute
    remove_attribute = removeAttribute
    set_inner_content = setInnerContent
    remove_and_keep_content = removeAndKeepContent
    on_end_tag = onEndTag

    def start_markup(self) -> str:
        if not self._dirty:
            return self._raw
        attrs = "".join(
            f' {n}="{html.escape(v, quote=True)}"' if v is not None else f" {n}"
            for n, v in self._attrs)
        return f"<{self._tag}{attrs}{' /' if self.selfClosing else ''}>"


# -- the rewriter ----------------------------------------------------------------------------------


async def _call(handler: Any, name: str, arg: Any) -> None:
    method = getattr(handler, name, None)
    if method is None:
        return
    result = method(arg)
    if inspect.isawaitable(result):
        await result


class _Tokens(HTMLParser):
    """Collects tokens (kind, raw, data) from fed chunks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[tuple[str, str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", self.get_starttag_text() or f"<{tag}>", (tag, attrs, False)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", self.get_starttag_text() or f"<{tag}/>", (tag, attrs, True)))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", f"</{tag}>", tag))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", data, data))

    def handle_entityref(self, name: str) -> None:
        self.tokens.append(("text", f"&{name};", html.unescape(f"&{name};")))

    def handle_charref(self, name: str) -> None:
        self.tokens.append(("text", f"&#{name};", html.unescape(f"&#{name};")))

    def handle_comment(self, data: str) -> None:
        self.tokens.append(("comment", f"<!--{data}-->", data))

    def handle_decl(self, decl: str) -> None:
        self.tokens.append(("doctype", f"<!{decl}>", decl))

    def handle_pi(self, data: str) -> None:
        self.tokens.append(("text", f"<?{data}>", f"<?{data}>"))

    def unknown_decl(self, data: str) -> None:
        self.tokens.append(("text", f"<![{data}]>", data))


class _Run:
    """One transformation: a tokenizer, the open-element stack and the handlers."""

    def __init__(self, rewriter: HTMLRewriter) -> None:
        self.rewriter = rewriter
        self.parser = _Tokens()
        self.stack: list[_Frame] = []
        self.root = _Frame("#document", {})
        self.text_raw: list[str] = []
        self.text_value: list[str] = []
        self.out: list[str] = []

    def _suppressed(self) -> bool:
        return any(f.suppress_content for f in self.stack)

    def _emit(self, text: str) -> None:
        if text and not self._suppressed():
            self.out.append(text)

    async def feed(self, chunk: str, final: bool = False) -> str:
        self.parser.feed(chunk)
        if final:
            self.parser.close()
        tokens, self.parser.tokens = self.parser.tokens, []
        for kind, raw, data in tokens:
            if kind == "text":
                self.text_raw.append(raw)
                self.text_value.append(data)
                continue
            await self._flush_text()
            await self._token(kind, raw, data)
        if final:
            await self._flush_text()
            end = DocumentEnd()
            for handler in self.rewriter._document:
                await _call(handler, "end", end)
            self.out.extend(end._appended)
        result, self.out = "".join(self.out), []
        return result

    async def _flush_text(self) -> None:
        if not self.text_raw:
            return
        raw, value = "".join(self.text_raw), "".join(self.text_value)
        self.text_raw, self.text_value = [], []
        if self._suppressed():
            return
        chunk = TextChunk(value, True)
        handlers = [h for sel, h in self.rewriter._elements if "text" in _names(h)
                    and self.stack and _matches(sel, self.stack)]
        handlers += [h for h in self.rewriter._document if "text" in _names(h)]
        for handler in handlers:
            await _call(handler, "text", chunk)
        self._emit(chunk.render(raw))

    async def _token(self, kind: str, raw: str, data: Any) -> None:
        if kind == "start":
            await self._start(raw, *data)
        elif kind == "end":
            await self._end(data)
        elif kind == "comment":
            comment = Comment(data)
            if not self._suppressed():
                handlers = [h for sel, h in self.rewriter._elements if "comments" in _names(h)
                            and self.stack and _matches(sel, self.stack)]
                handlers += [h for h in self.rewriter._document if "comments" in _names(h)]
                for handler in handlers:
                    await _call(handler, "comments", comment)
            self._emit(comment.render(raw))
        elif kind == "doctype":
            if data.lower().startswith("doctype"):
                for handler in self.rewriter._document:
                    await _call(handler, "doctype", Doctype(data))
            self._emit(raw)

    async def _start(self, raw: str, tag: str, attrs: list[tuple[str, str | None]],
                     self_closing: bool) -> None:
        parent = self.stack[-1] if self.stack else self.root
        parent.children += 1
        parent.types[tag] = parent.types.get(tag, 0) + 1
        frame = _Frame(tag, {n: (v if v is not None else "") for n, v in attrs},
                       index=parent.children, type_index=parent.types[tag],
                       raw_text=tag in RAW_TEXT)
        void = tag in VOID or self_closing
        self.stack.append(frame)
        element: Element | None = None
        if not any(f.suppress_content for f in self.stack[:-1]):
            for selector, handler in self.rewriter._elements:
                if "element" in _names(handler) and _matches(selector, self.stack):
                    if element is None:
                        element = Element(frame, raw, self_closing)
                    await _call(handler, "element", element)
        if element is None:
            self._emit(raw)
        else:
            frame.element = element
            self._emit("".join(element._before))
            if element._replacement is not None:
                self._emit(element._replacement)
                frame.suppress_content = True
                frame.removed = True
            else:
                if not element._keep_content:
                    self._emit(element.start_markup())
                if element._inner is not None:
                    self._emit(element._inner)
                    frame.suppress_content = True
                else:
                    self._emit("".join(element._prepend))
        if void:
            self.stack.pop()
            if element is not None:
                if element._replacement is None and element._inner is None:
                    self._emit("".join(element._append))
                self._emit("".join(element._after))
                for handler in element._end_handlers:
                    result = handler(EndTag(element.tagName))
                    if inspect.isawaitable(result):
                        await result

    async def _end(self, tag: str) -> None:
        if not any(f.tag == tag for f in self.stack):
            self._emit(f"</{tag}>")  # a stray end tag is copied through
            return
        while self.stack:
            frame = self.stack.pop()
            element = frame.element
            closing = f"</{frame.tag}>" if frame.tag == tag else ""
            if element is None:
                self._emit(closing if frame.tag == tag else "")
            else:
                if element._replacement is None:
                    if element._inner is None:
                        self._emit("".join(element._append))
                    end = EndTag(element.tagName)
                    for handler in element._end_handlers:
                        result = handler(end)
                        if inspect.isawaitable(result):
                            await result
                    self._emit("".join(end._before))
                    if not element._keep_content and not end._removed and frame.tag == tag:
                        self._emit(f"</{end.name}>")
                    self._emit("".join(end._after))
                self._emit("".join(element._after))
            if frame.tag == tag:
                return


def _names(handler: Any) -> set[str]:
    return {n for n in ("element", "comments", "text", "doctype", "end")
            if callable(getattr(handler, n, None))}


class HTMLRewriter:
    """``HTMLRewriter.new()`` / ``HTMLRewriter()`` (see the module docstring)."""

    def __init__(self) -> None:
        self._elements: list[tuple[_Selector, Any]] = []
        self._document: list[Any] = []

    @classmethod
    def new(cls) -> HTMLRewriter:
        return cls()

    def on(self, selector: str, handler: Any) -> HTMLRewriter:
        """Call ``handler``'s ``element``/``comments``/``text`` for matching content."""
        self._elements.append((parse_selector(selector), _unwrap(handler)))
        return self

    def onDocument(self, handler: Any) -> HTMLRewriter:
        """Call ``handler``'s ``doctype``/``comments``/``text``/``end`` for the document."""
        self._document.append(_unwrap(handler))
        return self

    on_document = onDocument

    def transform(self, response: Any) -> Response:
        """A new ``Response`` with the same status and headers and a rewritten body."""
        source = getattr(response, "js_object", response)
        if not isinstance(source, Response):
            raise TypeError("HTMLRewriter.transform() takes a Response")
        content, stream = source.take_body()
        headers = Headers(source.headers)
        headers.delete("content-length")
        return Response.from_parts(source.status, headers, None, self._rewrite(content, stream),
                                   status_text=source.status_text)

    async def _rewrite(self, content: bytes | None,
                       stream: AsyncIterator[bytes] | None) -> AsyncIterator[bytes]:
        import codecs

        run = _Run(self)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        if content is not None:
            chunks: Any = _once(content)
        elif stream is not None:
            chunks = stream
        else:
            chunks = _once(b"")
        async for chunk in chunks:
            text = decoder.decode(bytes(chunk))
            out = await run.feed(text)
            if out:
                yield out.encode("utf-8")
        out = await run.feed(decoder.decode(b"", final=True), final=True)
        if out:
            yield out.encode("utf-8")


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _unwrap(handler: Any) -> Any:
    unwrap = getattr(handler, "unwrap", None)
    return unwrap() if callable(unwrap) else handler
