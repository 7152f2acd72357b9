"""The one HTML layout of the web pages: large type, high contrast, readable on a small phone, and
nothing loaded from anywhere but this page itself.

Every page carries a fresh nonce; its Content-Security-Policy allows only the page's own inline
style and script with that nonce, images from the page (data:) and forms to this host, so even an
injected tag could load nothing from outside. Text is escaped where it is put into the page.
"""

from __future__ import annotations

import html
import secrets

from fastapi.responses import HTMLResponse

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 20px/1.6 system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       color: #000; background: #fff; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
header { background: #003a70; color: #fff; padding: .8rem 1rem; font-size: 1.1rem; font-weight: 700; }
h1 { font-size: 1.5rem; margin: .6rem 0; }
.verdict { border-radius: .5rem; padding: 1rem; margin: 1rem 0; font-size: 1.6rem; font-weight: 700; line-height: 1.35; }
.verdict small { display: block; font-size: 1.05rem; font-weight: 400; margin-top: .4rem; }
.genuine { background: #0a5c1f; color: #fff; }
.altered { background: #9b0000; color: #fff; }
.unknown, .wrong_code { background: #ffd21f; color: #000; border: 3px solid #000; }
dl { margin: 0; border-top: 2px solid #000; }
dt { font-weight: 700; margin-top: .7rem; }
dd { margin: 0 0 .3rem 0; word-break: break-all; }
label, .button { display: block; }
label { font-weight: 700; margin-top: 1rem; }
input[type=text] { font: inherit; font-size: 1.25em; width: 100%; padding: .7rem; margin: .3rem 0; color: #000; background: #fff;
                   border: 3px solid #000; border-radius: .5rem; }
input[type=text]::placeholder { color: #595959; }
input:focus, button:focus, .button:focus { outline: 4px solid #ffbf00; outline-offset: 2px; }
.button, button { font: inherit; font-weight: 700; font-size: 1.25rem; background: #003a70; color: #fff; border: 0;
                  border-radius: .5rem; padding: .9rem 1rem; margin: 1rem 0; text-align: center; text-decoration: none; width: 100%; }
.picker { position: absolute; width: 1px; height: 1px; opacity: 0; }
.result { font-size: 1.3rem; font-weight: 700; padding: .8rem; border-radius: .5rem; margin: .8rem 0; }
.result:empty { display: none; }
.same { background: #0a5c1f; color: #fff; }
.different { background: #9b0000; color: #fff; }
.note { font-size: 1rem; color: #222; }
pre { white-space: pre-wrap; word-break: break-word; font: inherit; background: #f2f2f2; padding: 1rem; border-radius: .5rem; }
"""


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def page(title: str, platform: str, body: str, script: str = "", status: int = 200) -> HTMLResponse:
    """A whole page: `body` is trusted HTML built with `esc`, `script` the page's own JavaScript."""
    nonce = secrets.token_urlsafe(18)
    script_tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
    document = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{esc(title)} · {esc(platform)}</title>'
        f'<style nonce="{nonce}">{CSS}</style></head><body><header>{esc(platform)}</header>'
        f"<main>{body}</main>{script_tag}</body></html>"
    )
    policy = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(document, status_code=status, headers=headers)


def wants_html(accept: str | None) -> bool:
    """True when the client ranks text/html above application/json (a browser: "text/html,…,*/*;q=0.8");
    a client that asks for JSON or for anything ("*/*", none) gets JSON, as the port always answered."""
    best = {"html": 0.0, "json": 0.0}
    for part in (accept or "").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        media = media.lower()
        for kind, names in (("html", ("text/html", "application/xhtml+xml")), ("json", ("application/json",))):
            if media in names or media == "*/*" or (media == "text/*" and kind == "html") or (
                media == "application/*" and kind == "json"
            ):
                best[kind] = max(best[kind], q if media in names else q - 0.001)
    return best["html"] > best["json"]
