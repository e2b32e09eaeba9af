"""Canonical URLs: the same post reached through two sources (a Reddit thread linked from Hacker
News) is recognised by the address it lives at, not by how each source spells it."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = {"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "si", "igshid", "share", "context"}
_HOST_PREFIXES = ("www.", "m.", "mobile.", "old.", "new.")


def canonical_url(url: str | None) -> str | None:
    """Scheme-less, lower-case host without www./m., no fragment, no tracking parameters, no trailing slash."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host.removeprefix(prefix)
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING
    )
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", host, path, urlencode(query), "")).removeprefix("//")[:2000]
