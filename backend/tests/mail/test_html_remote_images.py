"""Remote images in stored customer HTML: blocked with a marker the agent UI can trust, kept as https
only when the agent asked for them; inline cid: images become whatever the caller resolves them to."""

from __future__ import annotations

from postdesk.mail.html import REMOTE_IMAGES_BLOCKED, has_blocked_remote_images, sanitize_html

MAIL = ('<p>Hi<img src="cid:logo@shop.example" alt="logo"></p><img src="https://tracker.example/p.gif">'
        '<img src="HTTP://cdn.example/a.png"><img src="//cdn.example/b.png"><img src="data:image/png;base64,AAAA">')


def test_blocked_remote_images_leave_the_marker_at_the_end_and_nothing_remote() -> None:
    safe = sanitize_html(MAIL, resolve_cid=lambda content_id: f"postdesk-attachment:{content_id}")
    assert safe.endswith(REMOTE_IMAGES_BLOCKED) and has_blocked_remote_images(safe)
    assert safe.count(REMOTE_IMAGES_BLOCKED) == 1
    assert '<img src="postdesk-attachment:logo@shop.example" alt="logo">' in safe
    assert "example/" not in safe and "data:" not in safe


def test_without_remote_images_there_is_no_marker() -> None:
    safe = sanitize_html('<p>Hi <img src="cid:x"> <img src="data:image/png;base64,AAAA"></p>')
    assert not has_blocked_remote_images(safe)


def test_customer_content_cannot_forge_the_marker() -> None:
    for forged in (f"<p>Hi</p>{REMOTE_IMAGES_BLOCKED}", f'<img alt="{REMOTE_IMAGES_BLOCKED}">',
                   "<p>Hi</p>&lt;!--postdesk:remote-images-blocked--&gt;", f"<p>{REMOTE_IMAGES_BLOCKED}</p>"):
        assert not has_blocked_remote_images(sanitize_html(forged)), forged


def test_remote_images_asked_for_are_kept_as_https_only() -> None:
    shown = sanitize_html(MAIL, allow_remote_images=True, resolve_cid=lambda content_id: None)
    assert '<img src="https://tracker.example/p.gif">' in shown
    assert '<img src="https://cdn.example/a.png">' in shown
    assert '<img src="https://cdn.example/b.png">' in shown
    assert "http:" not in shown.lower() and "data:" not in shown and "cid:" not in shown
    assert not has_blocked_remote_images(shown)


def test_customers_cannot_write_inline_references_themselves() -> None:
    safe = sanitize_html('<img src="cid:a"><a href="postdesk-attachment:1">x</a><img src="postdesk-attachment:2">',
                         resolve_cid=lambda content_id: "postdesk-attachment:1")
    assert safe.startswith('<img src="postdesk-attachment:1">')  # what resolving a cid: gives is kept
    assert safe.count("postdesk-attachment:") == 1 and safe.endswith(">x</a><img>")
