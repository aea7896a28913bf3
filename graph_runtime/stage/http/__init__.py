"""The stage's one HTTP server: aiohttp on one event loop in one thread.

host.py    HttpHost: the loop thread; every site (MJPEG, the web surface) runs on it
guard.py   bounds: connections, a deadline on request line + headers, idle sockets,
           and one-line logging (never a traceback per viewer that hangs up)
access.py  who may ask: loopback by default; a token (once as ?token=, then a cookie)
           for every request when one is configured; Host/Origin checks
web.py     the web control surface's routes: page, assets, /api/*, the WebSocket
static/    the page itself (plain HTML/CSS/JS, served from package data)
"""
