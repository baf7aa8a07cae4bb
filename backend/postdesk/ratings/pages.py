"""The public rating page: plain server-side HTML (no script), every value escaped."""

from __future__ import annotations

import html

from postdesk.ratings.service import SCORES, PageState, RatingPage

# No scripts, no third-party anything; the token in the URL never leaks through a Referer.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f6f8;color:#1f2937;margin:0}
main{max-width:480px;margin:48px auto;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:24px 28px}
h1{font-size:20px;margin:0 0 16px 0}
.scores{display:flex;gap:8px;margin:16px 0}
.scores label{flex:1;text-align:center;border:1px solid #c9ced6;border-radius:6px;padding:10px 0;cursor:pointer}
.scores input{display:block;margin:0 auto 4px auto}
button{background:#2563eb;color:#fff;border:0;border-radius:6px;padding:10px 18px;font-size:15px;cursor:pointer}
.hint{color:#6b7280;font-size:13px}
.message{white-space:pre-wrap}
"""


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def render(page: RatingPage, *, problem: str | None = None) -> str:
    if page.state is PageState.invalid:
        return _document("Link not valid", "<h1>This rating link is not valid</h1>"
                         "<p>Please use the link from the email exactly as it was sent.</p>")
    if page.state is PageState.already_rated:
        score = f" ({page.score} of 5)" if page.score else ""
        return _document("Already rated", f"<h1>Already rated{html.escape(score)}</h1>"
                         "<p>This message has been rated already. Thank you!</p>")
    if page.state is PageState.thanks:
        return _document("Thank you", f"<h1>{html.escape(f'You rated {page.score} of 5')}</h1>"
                         f"<p class=\"message\">{html.escape(page.thank_you)}</p>")
    options = "".join(
        f'<label><input type="radio" name="score" value="{score}" required'
        f'{" checked" if score == page.score else ""}>{score}</label>'
        for score in SCORES
    )
    error = f'<p role="alert" style="color:#b91c1c">{html.escape(problem)}</p>' if problem else ""
    return _document("Rate our reply", (
        f"<h1>{html.escape(page.motivation)}</h1>{error}"
        f'<form method="post"><div class="scores">{options}</div>'
        '<p class="hint">1 = poor, 5 = excellent</p>'
        "<button type=\"submit\">Send my rating</button></form>"
    ))
