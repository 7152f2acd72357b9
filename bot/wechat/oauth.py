"""WeChat 网页授权 (web page authorisation, OAuth2) with scope snsapi_base: which WeChat user opened
a page, so that a download link handed to one user opens for that user only.

The flow, as WeChat documents it ("网页授权", developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/
Wechat_webpage_authorization.html; "换取用户授权凭证", developers.weixin.qq.com/doc/service/api/
webdev/access/api_snsaccesstoken):
1. the page sends the browser to open.weixin.qq.com/connect/oauth2/authorize?appid&redirect_uri
   &response_type=code&scope=snsapi_base&state#wechat_redirect. With snsapi_base WeChat asks the
   user nothing (静默授权) and redirects to redirect_uri?code=CODE&state=STATE. The redirect's
   domain must be the account's 网页授权域名 (set in the admin console); state is the page's own
   value, at most 128 bytes of [a-zA-Z0-9], returned as it is: here a nonce also kept in a cookie,
   so a code cannot be planted into another person's browser.
2. the server (never the browser: it needs the AppSecret) exchanges the code at
   api.weixin.qq.com/sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code for
   {access_token, expires_in, refresh_token, openid, scope}; with snsapi_base the OpenID is all
   that is needed, and the flow ends there. A code is valid for one exchange within 5 minutes:
   WeChat answers 40029 (invalid code) to an unknown or expired one and 40163 (code been used)
   to a second exchange; 40125 / 40013 to a wrong AppSecret / AppID.
Only a page opened inside WeChat's own browser gets a code; elsewhere WeChat shows "请在微信客户端
打开链接".
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import httpx

from bot.wechat.api import WeChatApp, WeChatError

log = logging.getLogger(__name__)

PUBLIC_OAUTH = "https://open.weixin.qq.com"
SCOPE = "snsapi_base"
STATE_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
INVALID_CODE = 40029
CODE_USED = 40163


def authorize_url(app_id: str, redirect_uri: str, state: str, oauth_base: str = PUBLIC_OAUTH) -> str:
    """Where to send the browser for a silent snsapi_base authorisation. `state`: [a-zA-Z0-9], at
    most 128 bytes (WeChat's rule), raises ValueError otherwise. The "#wechat_redirect" fragment is
    required by WeChat whether the page is opened directly or reached by a 302."""
    if not STATE_RE.match(state):
        raise ValueError("state must be 1-128 characters of [a-zA-Z0-9]")
    query = urlencode({"appid": app_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": SCOPE,
                       "state": state})
    return f"{oauth_base.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"


async def openid_for_code(http: httpx.AsyncClient, app: WeChatApp, code: str) -> str:
    """The OpenID of the user WeChat issued `code` to (sns/oauth2/access_token). The user-level
    access token it returns is not kept: snsapi_base needs nothing else. Raises WeChatError with
    WeChat's code (40029 invalid or expired code, 40163 code already used, -2 not an answer);
    logged with code and path only (the URL carries the AppSecret and the code)."""
    path = "sns/oauth2/access_token"
    try:
        response = await http.get(
            f"{app.base_url.rstrip('/')}/{path}",
            params={"appid": app.app_id, "secret": app.secret, "code": code, "grant_type": "authorization_code"},
        )
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        body = {}
    errcode = int(body.get("errcode", 0) or 0) if isinstance(body, dict) else -2
    openid = body.get("openid") if isinstance(body, dict) else None
    if errcode or not isinstance(openid, str) or not openid:
        error = WeChatError(errcode or -2, path)
        log.warning("wechat 网页授权 failed: %s", error)
        raise error
    return openid
