"""Who a visitor is, for every cap and every ownership check: one browser, not one tab or page load.

Visitors are anonymous, so a browser is known by what it sends. Behind a proxy (a Hugging Face
Space), the address the trusted proxies saw is the strongest sign: it survives reloads, new tabs,
new browser contexts and scripts that drop cookies. Where there is no such address (the app runs
on this machine, so every visitor is 127.0.0.1), a browser cookie stands in (Streamlit's own
`_streamlit_xsrf`, kept by the browser across reloads and tabs), and failing that the session.
The identity is hashed: a visitor's address never reaches a page, a log line or a file.
"""

from __future__ import annotations

import hashlib
import ipaddress


def client_address(peer: str | None, forwarded_for: str | None, proxy_hops: int) -> str | None:
    """The browser's address: the socket's peer, or, behind `proxy_hops` trusted proxies, the one they saw.

    Each proxy appends the address it was reached from to X-Forwarded-For, so the trusted entry is
    the `proxy_hops`-th from the right; anything left of it was written by the client and can be forged.
    """
    if proxy_hops > 0 and forwarded_for:
        entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
        if len(entries) >= proxy_hops:
            return entries[-proxy_hops]
    return peer or None


def is_local(address: str | None) -> bool:
    """True for no address or a loopback one: every visitor of a local server looks the same there."""
    if not address:
        return True
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return address in ("localhost", "testclient")


def visitor_id(address: str | None, browser_token: str | None, session_token: str) -> str:
    """An opaque id: from the address where it tells visitors apart, else the browser cookie, else the session."""
    if not is_local(address):
        source = f"address:{address}"
    elif browser_token:
        source = f"browser:{browser_token}"
    else:
        source = f"session:{session_token}"
    return hashlib.sha256(source.encode()).hexdigest()[:24]
