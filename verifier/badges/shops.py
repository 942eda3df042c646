"""Shop URLs and bound hosts: one shop is one shop however its URL is typed.

This module is the one URL and host normaliser of the service. Host names follow UTS #46
(the ``idna`` package, non-transitional, as browsers resolve them): ``faß.de`` is
``xn--fa-hia.de``, never ``fass.de``, so a host shown or bound is the host a browser visits.

"One badge per shop" compares shops by a *shop key* (:func:`shop_key`): the platform's family
(Taobao and Tmall are one family, an own site is one whatever it is called) and the URL folded
(:func:`url_key`) over every spelling that names the same shop:

* RFC 3986 equivalences: case of scheme and host, default ports, percent-encoding of
  unreserved characters and the case of escapes, dot segments (``/./``, ``/../``);
* what is the same shop in practice: ``http`` and ``https``, a ``www.`` prefix, a trailing dot
  in the host, repeated slashes, a trailing slash or ``index.html``, a fragment, known tracking
  parameters (``spm``, ``utm_*``…) and the order of the query's parameters;
* per platform, the part of a URL that names the shop: a Taobao or Tmall shop is its
  sub-domain (``shop123.taobao.com``, ``brand.tmall.com``) or its ``shop_id``; a JD shop its
  ``index-<id>.html`` or ``shopId``; a Pinduoduo shop its ``mall_id``; a 1688 shop its sub-domain.

What differs in a way that can name another shop is kept apart: the path's case, a
non-default port, reserved escapes such as ``%2F``, other query parameters, another host.
Bound hosts must belong to the shop (its URL's host or a subdomain of it) unless an
administrator confirms otherwise; a host that is no public name (``localhost``, an address
literal, a single label such as a bare top-level domain) needs that confirmation too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import idna

from signer.errors import InvalidInput

# A DNS label: ASCII letters, digits and hyphens, 1 to 63 long, no hyphen at either end.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DEFAULT_PORTS = (80, 443)  # http and https fold, so either default port is no port

#: Query parameters that track a visit and never name a shop (Alibaba's spm/scm, the
#: share links of the Taobao and Tmall apps, the usual advertising click ids).
_TRACKING = frozenset({
    "spm", "scm", "pvid", "ali_trackid", "ali_refid", "ut_sk", "sharefrom", "share_crt_v", "share_medium",
    "sp_tk", "tk", "suid", "un", "tbsocialpopkey", "bxsign", "wxsign", "shareurl", "short_name", "sourcetype",
    "fbclid", "gclid", "yclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl", "clickid", "share_token",
})
_INDEX_FILE = re.compile(r"/(?:index|default)\.(?:html?|shtml|php|aspx?|jsp)$", re.IGNORECASE)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Platform families: a shop is one shop whichever of these it was filed under.
_FAMILIES = {"tmall": "taobao", "taobao": "taobao", "independent": "site", "other": "site"}
#: Sub-domains of a marketplace that are the marketplace's own pages, not a shop.
_MARKET_PAGES = frozenset({"www", "m", "h5", "item", "detail", "list", "s", "search", "world", "shop", "login",
                           "buyertrade", "cart", "market", "pages", "work", "air", "page", "trade", "mall",
                           "mobile", "global", "passport", "help"})


def normalise_host(raw: str, *, field: str = "hosts") -> str:
    """Return a lower-case host name in its UTS #46 ASCII (punycode) form, or raise InvalidInput."""
    host = raw.strip().rstrip(".")
    try:
        ascii_host = host.lower() if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidInput(f"{raw[:80]!r} is not a host name", field=field, kind="not_host",
                           params={"value": raw[:80]}) from exc
    if len(ascii_host) > 253 or not _HOST.fullmatch(ascii_host):
        raise InvalidInput(f"{raw[:80]!r} is not a host name", field=field, kind="not_host", params={"value": raw[:80]})
    return ascii_host


def _ascii_host(host: str) -> str:
    """Return ``host`` in its UTS #46 ASCII form, or as given (lower case) when it has none."""
    host = host.rstrip(".")
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return host.lower()  # validate_shop_url refuses such a host before a key is ever stored


def is_public_name(host: str) -> bool:
    """Return whether ``host`` is a public DNS name: not ``localhost``, an address or a single label."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return False
    labels = host.rstrip(".").lower().split(".")
    # RFC 6761 / 6762 names that resolve only locally or never (``.example`` and ``.test`` are left
    # alone: they name nothing either, but documentation and test shops use them on purpose).
    if len(labels) < 2 or labels[-1] in {"localhost", "local", "localdomain", "internal", "invalid", "arpa"}:
        return False
    return not labels[-1].isdigit()  # a dotted number that is not an address (``1.2.3``) is no name either


def _pct(part: str, *, safe: str) -> str:
    """Return ``part`` with RFC 3986's percent-encoding normalised.

    Escapes of unreserved characters are decoded, the others upper-cased; characters
    outside ASCII (an IRI's) and anything not in ``safe`` are encoded as UTF-8.
    """
    out: list[str] = []
    i = 0
    while i < len(part):
        ch = part[i]
        if ch == "%" and i + 2 < len(part) and re.fullmatch(r"[0-9A-Fa-f]{2}", part[i + 1:i + 3]):
            decoded = chr(int(part[i + 1:i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + part[i + 1:i + 3].upper())
            i += 3
            continue
        if ch in _UNRESERVED or ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """Return ``path`` with ``.`` and ``..`` segments resolved (RFC 3986 §5.2.4)."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    return "/".join(kept)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Return the query's parameters, normalised, tracking ones dropped, sorted."""
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = _pct(name, safe="!$'()*+,;:@/?"), _pct(value, safe="!$'()*+,;=:@/?")
        if name.lower() in _TRACKING or name.lower().startswith("utm_"):
            continue
        pairs.append((name, value))
    return sorted(pairs)


def _folded(url: str) -> tuple[str, str, list[tuple[str, str]]]:
    """Return (host[:port], path, query pairs) of a URL, every general equivalence folded."""
    parts = urlsplit(url.strip())
    host = _ascii_host(parts.hostname or "")
    host = host.removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None  # validate_shop_url refuses a bad port before a key is ever stored
    netloc = host if port in (None, *_DEFAULT_PORTS) else f"{host}:{port}"
    path = _pct(parts.path, safe="!$&'()*+,;=:@/")
    path = re.sub(r"/{2,}", "/", _remove_dot_segments(path))
    path = _INDEX_FILE.sub("", path).rstrip("/")
    return netloc, path, _query_pairs(parts.query)


def _platform_shop(host: str, path: str, query: dict[str, str]) -> str | None:
    """Return the marketplace's own name of the shop when the URL says it, else None."""
    labels = host.split(".")
    site = ".".join(labels[-2:])
    if site in {"taobao.com", "tmall.com"}:
        if query.get("shop_id", "").isdigit():
            return f"taobao.com/shop_id={int(query['shop_id'])}"
        sub = [label for label in labels[:-2] if label != "m"]  # shop1.m.taobao.com is shop1.taobao.com
        if len(sub) == 1:
            numbered = re.fullmatch(r"shop(\d+)", sub[0])
            if numbered and site == "taobao.com":
                return f"taobao.com/shop_id={int(numbered.group(1))}"
            if sub[0] not in _MARKET_PAGES:
                return f"{site}/{sub[0]}"
    if site == "jd.com":
        index = re.fullmatch(r"/index-(\d+)\.html?", path)
        if host == "mall.jd.com" and index:
            return f"jd.com/shop={int(index.group(1))}"
        shop = query.get("shopId", query.get("shopid", ""))
        if shop.isdigit() and labels[0] in {"shop", "mall"}:
            return f"jd.com/shop={int(shop)}"
    if site in {"yangkeduo.com", "pinduoduo.com"} and query.get("mall_id", "").isdigit():
        return f"pinduoduo/mall={int(query['mall_id'])}"
    if site == "1688.com" and len(labels) == 3 and labels[0] not in _MARKET_PAGES:
        return f"1688.com/{labels[0]}"
    return None


def url_key(url: str) -> str:
    """Return the comparison key of an http(s) shop URL: the URL folded over every spelling of one shop.

    The scheme is dropped (``http`` and ``https`` are one shop), the host is in UTS #46 form
    without ``www.`` or a trailing dot, the path and query normalised as the module says; a
    marketplace shop is keyed by the marketplace's own name for it.
    """
    netloc, path, pairs = _folded(url)
    named = _platform_shop(netloc, path, dict(pairs))
    if named is not None:
        return named
    query = "&".join(f"{k}={v}" if v else k for k, v in pairs)
    return f"//{netloc}{path}" + (f"?{query}" if query else "")


def shop_key(platform: str, url: str) -> str:
    """Return the key one badge per shop is enforced on: SHA-256 (hex) of the platform family and URL key.

    Fixed-length, so the database's unique index takes any URL up to the 2,000 characters allowed.
    """
    family = _FAMILIES.get(platform, platform)
    return hashlib.sha256(f"{family}\n{url_key(url)}".encode()).hexdigest()


def is_own_host(host: str, shop_host: str) -> bool:
    """Return whether ``host`` is the shop URL's host or one of its subdomains (``www.`` either way)."""
    bare = shop_host.removeprefix("www.")
    return host == bare or host.endswith("." + bare)


def foreign_hosts(hosts: Iterable[str], shop_host: str) -> list[str]:
    """Return the hosts that need an administrator's confirmation to be bound.

    Those outside the shop URL's host and its subdomains, and any that is no public name
    (``localhost``, an address literal, a single label): such a binding is never made silently.
    """
    return [h for h in hosts if not is_own_host(h, shop_host) or not is_public_name(h)]


def display_url(url: str) -> str:
    """Return a shop URL for showing as text: its host in UTS #46 ASCII (punycode) form, as bound hosts are shown.

    A homograph such as ``https://аррӏе.com/`` (Cyrillic letters) then reads
    ``https://xn--80ak6aa92e.com/``, not as a familiar brand, and ``https://faß.de/`` reads
    ``https://xn--fa-hia.de/``, the host a browser visits; the rest of the URL is unchanged.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
        if host.isascii():
            return url
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (ValueError, UnicodeError, idna.IDNAError):
        return url  # validate_shop_url refused such URLs before they were stored
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
