"""The WeCom (企业微信 / 政务微信) channel: one more channel of the same PTB Application.

crypto (callback signature and AES) → endpoint (callback URL) → inbound (events as Updates) → the
handlers, unchanged → transport (Bot API as WeCom API calls) → api (token, send, media) with limits;
store keeps what replicas share; router lets Telegram and WeCom share one Application; run starts it.
"""
