"""What a badge request must satisfy before anything is issued: text limits, shop URL, hosts, validity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from signer.errors import InvalidInput
from verifier.badges.shops import foreign_hosts, is_public_name, normalise_host

PLATFORMS = ("taobao", "tmall", "1688", "jd", "pinduoduo", "douyin", "wechat", "independent", "other")
MAX_VALID_DAYS = 3650
#: One limit per text field, enforced here and shown in the console's forms (``maxlength``).
MAX_TEXT = 200  # holder, shop_name
MAX_URL = 2000  # shop_url
MAX_NOTE = 2000
MAX_HOSTS = 10
MAX_BRANCH_CODE = 32
MAX_MEMBER_REF = 64
MAX_MEMBER_ID = 2**31 - 1  # an INTEGER primary key on PostgreSQL


@dataclass(frozen=True)
class IssueRequest:
    """What it takes to issue a badge, as plain values."""

    holder: str
    shop_name: str
    shop_url: str
    platform: str
    branch: str
    valid_days: int | None = None
    hosts: tuple[str, ...] | None = None
    #: Hosts outside the shop URL's own host and its subdomains are refused unless confirmed.
    confirm_foreign_hosts: bool = False
    #: An existing member's id: the badge goes to that person (in the request's branch).
    member: int | None = None
    #: The committee's own member number: finds that member, or is given to the new one.
    member_ref: str | None = None


def clean_text(value: Any, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """Return ``value`` stripped, or raise InvalidInput (not text, NUL, missing, too long)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field, kind="not_text")
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain NUL characters", field=field, kind="not_text")
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field, kind="required")
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field, kind="too_long",
                           limit=limit)
    return value


def clean_member_ref(value: Any) -> str | None:
    """Return a member number stripped (None when empty), or raise InvalidInput."""
    if value is None:
        return None
    ref = clean_text(value, "member_ref", required=False, limit=MAX_MEMBER_REF)
    if ref and not ref.isprintable():
        raise InvalidInput("member_ref must be printable text without control characters", field="member_ref",
                           kind="not_text")
    return ref or None


def validate_shop_url(raw: Any) -> tuple[str, str]:
    """Return (url, host) for an http(s) shop URL or raise InvalidInput."""
    url = clean_text(raw, "shop_url", limit=MAX_URL)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidInput("shop_url is not a valid URL", field="shop_url") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise InvalidInput("shop_url must be an http(s) URL with a host", field="shop_url")
    del port
    return url, normalise_host(parts.hostname, field="shop_url")


def validate_issue(req: IssueRequest, *, default_days: int) -> tuple[IssueRequest, list[str]]:
    """Return the cleaned request and bound hosts, or raise InvalidInput (the first problem)."""
    cleaned, problems = check_issue(req, default_days=default_days)
    if problems or cleaned is None:
        raise problems[0]
    return cleaned, list(cleaned.hosts or ())


def _hosts(req: IssueRequest, url_host: str | None) -> list[str]:
    if req.hosts is None or len(req.hosts) == 0:
        if url_host is None:
            return []
        if not is_public_name(url_host) and req.confirm_foreign_hosts is not True:
            # localhost, an address or a bare top-level domain names no shop on the web:
            # binding it takes the same explicit confirmation as a foreign host.
            raise InvalidInput(f"{url_host} is not a public host name; confirm foreign hosts explicitly to bind it",
                               field="shop_url", kind="private_host", params={"value": url_host, "host": url_host})
        return [url_host]
    if len(req.hosts) > MAX_HOSTS:
        raise InvalidInput(f"hosts must be at most {MAX_HOSTS} host names", field="hosts", kind="too_long",
                           limit=MAX_HOSTS)
    if not all(isinstance(h, str) for h in req.hosts):
        raise InvalidInput(f"hosts must be at most {MAX_HOSTS} host names", field="hosts")
    hosts = list(dict.fromkeys(normalise_host(h) for h in req.hosts))
    strangers = foreign_hosts(hosts, url_host) if url_host is not None else []
    if strangers and req.confirm_foreign_hosts is not True:
        raise InvalidInput(f"{', '.join(strangers)} is not the shop URL's host ({url_host}) or a subdomain of it; "
                           "confirm foreign hosts explicitly to bind them", field="hosts", kind="foreign_host",
                           params={"value": " ".join(strangers), "host": url_host or ""})
    return hosts


def check_issue(req: IssueRequest, *, default_days: int) -> tuple[IssueRequest | None, list[InvalidInput]]:
    """Return (the cleaned request, None if refused) and every problem of every field, in form order."""
    problems: list[InvalidInput] = []
    # Each field checked in its own try (not through a helper taking the check as an argument):
    # an import checks every field of thousands of rows.
    holder = shop_name = branch = shop_url = url_host = hosts = member_ref = None
    try:
        holder = clean_text(req.holder, "holder")
    except InvalidInput as exc:
        problems.append(exc)
    try:
        shop_name = clean_text(req.shop_name, "shop_name")
    except InvalidInput as exc:
        problems.append(exc)
    try:
        shop_url, url_host = validate_shop_url(req.shop_url)
    except InvalidInput as exc:
        problems.append(exc)
    if req.platform not in PLATFORMS:
        problems.append(InvalidInput(f"platform must be one of {', '.join(PLATFORMS)}", field="platform",
                                     kind="choice", params={"choices": ", ".join(PLATFORMS)}))
    try:
        branch = clean_text(req.branch, "branch", limit=MAX_BRANCH_CODE)
    except InvalidInput as exc:
        problems.append(exc)
    days = default_days if req.valid_days is None else req.valid_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALID_DAYS:
        problems.append(InvalidInput(f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}",
                                     field="valid_days"))
    if shop_url is not None:
        try:
            hosts = _hosts(req, url_host)
        except InvalidInput as exc:
            problems.append(exc)
    if req.member is not None and (isinstance(req.member, bool) or not isinstance(req.member, int)
                                   or not 1 <= req.member <= MAX_MEMBER_ID):
        problems.append(InvalidInput("member must be a member id (a whole number)", field="member",
                                     kind="member_id"))
    try:
        member_ref = clean_member_ref(req.member_ref)
    except InvalidInput as exc:
        problems.append(exc)
    if problems:
        return None, problems
    # No problems: every field above was cleaned (the checks that failed left theirs None).
    return IssueRequest(cast(str, holder), cast(str, shop_name), shop_url or "", req.platform, cast(str, branch),
                        days, tuple(hosts or ()), req.confirm_foreign_hosts is True, req.member, member_ref), []
