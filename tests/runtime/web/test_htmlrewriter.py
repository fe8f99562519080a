"""``js.HTMLRewriter`` (edgekv.runtime.web.htmlrewriter).

Stands for python-workers-examples ``11-opengraph`` (remove ``meta[property^="og:"]``,
prepend tags to ``head`` with ``html=True``, handlers wrapped in ``create_proxy``) and for
the selector list and element methods of Cloudflare's HTMLRewriter documentation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from edgekv.runtime.web.htmlrewriter import HTMLRewriter, parse_selector
from edgekv.runtime.web.response import Response

PAGE = (
    '<!DOCTYPE html><html><head><meta property="og:title" content="old">'
    '<meta name="twitter:card" content="x"><title>T</title></head>'
    '<body><div id="main" class="a b"><p>one</p><p lang="en-US">two &amp; more</p>'
    '<ul><li>1</li><li>2</li><li>3</li><li>4</li></ul><!-- note --><img src="a.png">'
    '<a href="https://x.test/page" data-x="Yes">link</a></div></body></html>'
)


async def rewrite(rewriter: HTMLRewriter, body: Any = PAGE) -> str:
    return await rewriter.transform(Response(body, headers={"content-type": "text/html"})).text()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def element(self, element: Any) -> None:
        self.seen.append(element.tagName + (f"#{element.getAttribute('id')}"
                                            if element.hasAttribute("id") else ""))


async def matches(selector: str, page: str = PAGE) -> list[str]:
    recorder = Recorder()
    await rewrite(HTMLRewriter.new().on(selector, recorder), page)
    return recorder.seen


async def test_unchanged_markup_is_copied_through() -> None:
    assert await rewrite(HTMLRewriter()) == PAGE


@pytest.mark.parametrize(("selector", "expected"), [
    ("*", 16),
    ("p", ["p", "p"]),
    ("li:nth-child(2)", ["li"]),
    ("li:nth-child(odd)", ["li", "li"]),
    ("li:nth-child(2n+1)", ["li", "li"]),
    ("li:first-child", ["li"]),
    ("p:nth-of-type(2)", ["p"]),
    ("p:first-of-type", ["p"]),
    ("li:not(:first-child)", ["li", "li", "li"]),
    ("div.a.b", ["div#main"]),
    ("#main", ["div#main"]),
    ("[lang]", ["p"]),
    ('a[data-x="yes" i]', ["a"]),
    ('a[data-x="yes" s]', []),
    ('div[class~="b"]', ["div#main"]),
    ('a[href^="https://"]', ["a"]),
    ('img[src$=".png"]', ["img"]),
    ('a[href*="x.test"]', ["a"]),
    ('p[lang|="en"]', ["p"]),
    ("div li", ["li"] * 4),
    ("div > li", []),
    ("ul > li", ["li"] * 4),
    ("body > div > p", ["p", "p"]),
])
async def test_selectors(selector: str, expected: Any) -> None:
    seen = await matches(selector)
    if isinstance(expected, int):
        assert len(seen) == expected
    else:
        assert seen == expected


async def test_opengraph_injection_like_the_example() -> None:
    from edgekv.runtime.shims import install

    install()
    from pyodide.ffi import create_proxy

    class Remover:
        def element(self, element: Any) -> None:
            element.remove()

    class Injector:
        def element(self, head: Any) -> None:
            head.prepend('<meta property="og:title" content="New &amp; shiny" />', html=True)
            head.append("<script>", {"html": False})

    rewriter = HTMLRewriter.new()
    rewriter.on('meta[property^="og:"]', create_proxy(Remover()))
    rewriter.on('meta[name^="twitter:"]', create_proxy(Remover()))
    rewriter.on("head", create_proxy(Injector()))
    out = await rewrite(rewriter)
    assert ('<head><meta property="og:title" content="New &amp; shiny" /><title>T</title>'
            "&lt;script&gt;</head>") in out
    assert "old" not in out and "twitter" not in out


async def test_element_mutations() -> None:
    class Handler:
        def element(self, el: Any) -> None:
            if el.tagName == "a":
                el.setAttribute("href", "/local")
                el.removeAttribute("data-x")
                el.before("[", html=True)
                el.after("]", html=True)
            elif el.tagName == "ul":
                el.setInnerContent("<li>only</li>", html=True)
            elif el.tagName == "p" and el.hasAttribute("lang"):
                el.replace("<em>replaced</em>", html=True)
            elif el.tagName == "div":
                el.tagName = "section"
            elif el.tagName == "img":
                el.removeAndKeepContent()

    out = await rewrite(HTMLRewriter().on(["a", "ul", "p", "div", "img"][0], Handler())
                        .on("ul", Handler()).on("p", Handler()).on("div", Handler())
                        .on("img", Handler()))
    assert '[<a href="/local">link</a>]' in out
    assert "<ul><li>only</li></ul>" in out
    assert "<em>replaced</em>" in out and "two &amp; more" not in out
    assert out.count("<section") == 1 and "</section>" in out and "</div>" not in out
    assert "<img" not in out


async def test_text_comments_end_tag_and_document_handlers() -> None:
    texts: list[tuple[str, bool]] = []
    events: list[str] = []

    class Text:
        def text(self, chunk: Any) -> None:
            texts.append((chunk.text, chunk.lastInTextNode))
            if chunk.text == "two & more":
                chunk.replace("TWO")

    class Comments:
        def comments(self, comment: Any) -> None:
            comment.text = " changed "

    class Ending:
        def element(self, el: Any) -> None:
            def at_end(end: Any) -> None:
                events.append(f"end {end.name}")
                end.before("!", html=True)
            el.onEndTag(at_end)

    class Document:
        def doctype(self, doctype: Any) -> None:
            events.append(f"doctype {doctype.name}")

        def end(self, end: Any) -> None:
            end.append("<!-- tail -->", html=True)

    out = await rewrite(HTMLRewriter().on("p", Text()).on("div", Comments())
                        .on("title", Ending()).onDocument(Document()))
    assert ("one", True) in texts and ("two & more", True) in texts
    assert "<p lang=\"en-US\">TWO</p>" in out
    assert "<!-- changed -->" in out
    assert "<title>T!</title>" in out
    assert out.endswith("<!-- tail -->")
    assert events == ["doctype html", "end title"]


async def test_streaming_body_split_mid_tag() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        data = PAGE.encode()
        for i in range(0, len(data), 7):
            yield data[i:i + 7]

    class Upper:
        def element(self, el: Any) -> None:
            el.setAttribute("class", "seen")

    out = await rewrite(HTMLRewriter().on("li", Upper()), chunks())
    assert out.count('<li class="seen">') == 4


async def test_async_handlers_are_awaited() -> None:
    class Slow:
        async def element(self, el: Any) -> None:
            import asyncio

            await asyncio.sleep(0)
            el.setAttribute("data-done", "1")

    assert '<title data-done="1">' in await rewrite(HTMLRewriter().on("title", Slow()))


def test_unsupported_selector_is_an_error() -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        parse_selector("p::before")
