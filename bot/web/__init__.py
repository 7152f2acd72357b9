"""Web pages a phone opens, served by the HTTP port's app (`creditbot api`) behind the same reverse
proxy as the port: the verification page (the QR code's target, `GET /verify` for a browser) and
document downloads by link (`GET /dl/<token>`). Self-contained HTML: no external scripts, fonts,
styles or images (a Content-Security-Policy says so to the browser), large type and high contrast.
"""

from bot.web.downloads import router

__all__ = ["router"]
