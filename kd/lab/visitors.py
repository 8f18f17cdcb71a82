"""Who a visitor is, for every cap and every ownership check: one browser, not one tab or page load.

Visitors are anonymous, so a browser is known by what it sends. Behind a proxy (a Hugging Face
Space), the address the trusted proxies saw is the strongest sign: it survives reloads, new tabs,
new browser contexts and scripts that drop cookies. Where there is no such address (the app runs
on this machine, so every visitor is 127.0.0.1), a browser cookie stands in (Streamlit's own
`_streamlit_xsrf`, kept by the browser across reloads and tabs), and failing that the session.
The identity is hashed: a visitor's address never reaches a page, a log line or a file.

Only the lab reads proxy headers, and only behind `KD_PROXY_HOPS` trusted proxies: the servers'
own handling (uvicorn, under Gradio and Streamlit, replaces the peer with X-Forwarded-For's last
entry when the peer is 127.0.0.1, so anyone behind an SSH tunnel could forge it) is switched off:
by `distrust_server_proxy_headers` for the Gradio app, in dashboard/server.py for Streamlit's. An
IPv6 address counts by its /64, the block one household or one machine is given.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Iterable, MutableMapping

IPV6_PREFIX = 64  # one site's or one machine's block: its addresses are one visitor


def distrust_server_proxy_headers(environ: MutableMapping[str, str] = os.environ) -> None:
    """Make uvicorn (Gradio's and Streamlit's server) trust no proxy header: the lab decides (KD_PROXY_HOPS).

    uvicorn reads FORWARDED_ALLOW_IPS when its config is made (default "127.0.0.1,::1"); empty trusts nobody.
    Call it before the server starts.
    """
    environ["FORWARDED_ALLOW_IPS"] = ""


def client_address(peer: str | None, forwarded_for: str | Iterable[str] | None, proxy_hops: int) -> str | None:
    """The browser's address: the socket's peer, or, behind `proxy_hops` trusted proxies, the one they saw.

    Each proxy appends the address it was reached from to X-Forwarded-For, so the trusted entry is
    the `proxy_hops`-th from the right; anything left of it was written by the client and can be forged.
    `forwarded_for` is the header's value or every line of it (a proxy may add a line of its own
    rather than append to the client's): the lines are joined in order before counting.
    """
    lines = [forwarded_for] if isinstance(forwarded_for, str) else list(forwarded_for or [])
    if proxy_hops > 0 and lines:
        entries = [entry.strip() for line in lines for entry in line.split(",") if entry.strip()]
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


def address_key(address: str) -> str:
    """What an address counts as: an IPv6 address by its /64 (a client may hold all of it), anything else as is."""
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # ::ffff:1.2.3.4 is 1.2.3.4
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))


def address_visitor(address: str | None) -> str | None:
    """The visitor an address alone names (for a server's doors, before any session is known); None where every
    visitor has the same address (a local server), so that no per-visitor rate lumps them together."""
    return None if is_local(address) else visitor_id(address, None, "")


def visitor_id(address: str | None, browser_token: str | None, session_token: str) -> str:
    """An opaque id: from the address where it tells visitors apart, else the browser cookie, else the session."""
    if not is_local(address):
        source = f"address:{address_key(address)}"
    elif browser_token:
        source = f"browser:{browser_token}"
    else:
        source = f"session:{session_token}"
    return hashlib.sha256(source.encode()).hexdigest()[:24]
