"""Which Bot Connector addresses may receive the bot's token.

Every reply carries the bot's OAuth token to the activity's `serviceUrl`. A serviceUrl
is only trusted when a validated token vouched for it (its `serviceurl` claim) AND it
lies under one of `TEAMS_ALLOWED_SERVICE_URLS`; this is checked when an activity comes
in and again before each delivery, so a forged or stale address never sees the token.

The comparison is on parsed parts, not on string prefixes: scheme and host:port must be
equal and the path must continue the allowed path at a "/" boundary, so
`https://smba.trafficmanager.net.evil.example/` or `https://smba.trafficmanager.net@evil/`
never pass for `https://smba.trafficmanager.net/`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_LENGTH = 500


def is_allowed(url: object, allowed_prefixes: Iterable[str]) -> bool:
    """True when `url` is an absolute http(s) URL under one of the allowed prefixes."""
    if not isinstance(url, str) or not url or len(url) > MAX_LENGTH:
        return False
    candidate = _parts(url)
    if candidate is None:
        return False
    scheme, netloc, path = candidate
    for prefix in allowed_prefixes:
        allowed = _parts(prefix)
        if allowed is None:
            continue
        a_scheme, a_netloc, a_path = allowed
        if scheme == a_scheme and netloc == a_netloc and _under(path, a_path):
            return True
    return False


def _parts(url: str) -> tuple[str, str, str] | None:
    try:
        split = urlsplit(url.strip())
        port = split.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    if split.scheme not in ("https", "http") or not split.hostname:
        return None
    if split.username is not None or split.password is not None or split.query or split.fragment:
        return None
    if any(ch.isspace() or ch in "\\%" for ch in split.netloc):
        return None
    default = 443 if split.scheme == "https" else 80
    netloc = f"{split.hostname.lower()}:{port or default}"
    return split.scheme, netloc, split.path or "/"


def _under(path: str, allowed_path: str) -> bool:
    if ".." in path.split("/"):
        return False
    base = allowed_path if allowed_path.endswith("/") else allowed_path + "/"
    with_slash = path if path.endswith("/") else path + "/"
    return with_slash.startswith(base)
