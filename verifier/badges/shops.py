"""Shop URLs and bound hosts: one shop is one shop however its URL is typed.

"One badge per shop" compares shops by platform and a normalised URL key, so a trailing
slash, upper case, a default port or a fragment cannot mint a second badge for the same
shop. Bound hosts must belong to the shop (its URL's host or a subdomain of it) unless an
administrator confirms otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from signer.errors import InvalidInput

# A DNS label: ASCII letters, digits and hyphens, 1 to 63 long, no hyphen at either end.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_host(raw: str, *, field: str = "hosts") -> str:
    """Return a lower-case IDNA (punycode) host name or raise InvalidInput."""
    host = raw.strip().lower().rstrip(".")
    if host.isascii():
        ascii_host = host  # IDNA keeps an ASCII name as it is (it only refuses empty or long labels, as we do)
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidInput(f"{raw[:80]!r} is not a host name", field=field, kind="not_host",
                               params={"value": raw[:80]}) from exc
    if len(ascii_host) > 253 or not _HOST.fullmatch(ascii_host):
        raise InvalidInput(f"{raw[:80]!r} is not a host name", field=field, kind="not_host", params={"value": raw[:80]})
    return ascii_host


def url_key(url: str) -> str:
    """Return the comparison key of an http(s) shop URL.

    Scheme and host folded to lower case, the host in IDNA form, the default port and the
    fragment dropped, trailing slashes of the path removed; the query is kept (some
    platforms name the shop there: ``shop.m.taobao.com/shop/shop_index.htm?shop_id=…``).
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass  # validate_shop_url refuses such a host before a key is ever stored
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(parts.scheme.lower())) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc.lower()}{path}{query}"


def is_own_host(host: str, shop_host: str) -> bool:
    """Return whether ``host`` is the shop URL's host or one of its subdomains (``www.`` either way)."""
    bare = shop_host.removeprefix("www.")
    return host == bare or host.endswith("." + bare)


def foreign_hosts(hosts: Iterable[str], shop_host: str) -> list[str]:
    """Return the hosts that do not belong to the shop URL's host."""
    return [h for h in hosts if not is_own_host(h, shop_host)]


def display_url(url: str) -> str:
    """Return a shop URL for showing as text: its host in IDNA (punycode) form, as bound hosts are shown.

    A homograph such as ``https://аррӏе.com/`` (Cyrillic letters) then reads
    ``https://xn--80ak6aa92e.com/``, not as a familiar brand; the rest of the URL is unchanged.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
        if host.isascii():
            return url
        ascii_host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return url  # validate_shop_url refused such URLs before they were stored
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
