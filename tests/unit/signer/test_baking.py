"""Open Badges 3.0 baking into PNG (iTXt) and SVG (<openbadges:credential>)."""

from __future__ import annotations

import struct
import zlib

import defusedxml.ElementTree as SafeET
import pytest

from signer.baking import (
    MAX_SVG_BYTES,
    OB_NAMESPACE,
    bake_png,
    bake_svg,
    extract_png,
    extract_svg,
)
from signer.errors import InvalidImage
from signer.qr import qr_png, qr_svg

JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDAifQ.c2lnbmF0dXJl"
OTHER_JWS = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ1cm46dXVpZDoxIn0.b3RoZXI"
SVG_NS = "http://www.w3.org/2000/svg"


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into chunks independently of the code under test."""
    pos, out = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        out.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.fixture
def png() -> bytes:
    return qr_png("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B", scale=2)


# ---------------------------------------------------------------- PNG


def test_png_round_trip(png: bytes) -> None:
    assert extract_png(bake_png(png, JWS)) == JWS


def test_png_without_credential_gives_none(png: bytes) -> None:
    assert extract_png(png) is None


def test_png_baking_twice_leaves_exactly_one_chunk(png: bytes) -> None:
    baked = bake_png(bake_png(png, OTHER_JWS), JWS)
    itxt = [body for kind, body in _chunks(baked) if kind == b"iTXt"]
    assert len(itxt) == 1
    assert extract_png(baked) == JWS


def test_png_chunk_layout(png: bytes) -> None:
    chunks = _chunks(bake_png(png, JWS))
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert kinds[-2] == b"iTXt"
    # keyword NUL, compression flag 0, method 0, empty language, empty translation
    assert chunks[-2][1] == b"openbadgecredential\x00\x00\x00\x00\x00" + JWS.encode()


def test_png_image_data_is_untouched(png: bytes) -> None:
    before = [c for c in _chunks(png) if c[0] == b"IDAT"]
    after = [c for c in _chunks(bake_png(png, JWS)) if c[0] == b"IDAT"]
    assert before == after


def test_png_reads_compressed_chunk_from_other_bakers(png: bytes) -> None:
    body = b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(JWS.encode())
    iend = png.rindex(b"\x00\x00\x00\x00IEND")
    assert extract_png(png[:iend] + _chunk(b"iTXt", body) + png[iend:]) == JWS


def test_png_compressed_bomb_is_refused(png: bytes) -> None:
    body = b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(b"a" * (2 * 1024 * 1024))
    iend = png.rindex(b"\x00\x00\x00\x00IEND")
    with pytest.raises(InvalidImage, match="too large") as info:
        extract_png(png[:iend] + _chunk(b"iTXt", body) + png[iend:])
    assert info.value.reason == "bomb"


@pytest.mark.parametrize(
    ("mangle", "reason", "message"),
    [
        (lambda p: b"GIF89a" + p[6:], "not_an_image", "not a PNG"),
        (lambda p: b"", "not_an_image", "not a PNG"),
        (lambda p: p[: len(p) // 2], "truncated", "truncated"),
        (lambda p: p[:-12], "truncated", "truncated"),
        (lambda p: p[:8] + b"\x7f\xff\xff\xff" + p[12:], "truncated", "truncated"),
        (lambda p: p[:8] + b"\xff\xff\xff\xff" + p[12:], "malformed", "length"),
        (lambda p: p[:20] + bytes([p[20] ^ 0xFF]) + p[21:], "bad_crc", "CRC"),
        (lambda p: p[:12] + b"IH?R" + p[16:], "malformed", "four letters"),
    ],
    ids=["gif", "empty", "half", "no-iend", "huge-length", "over-limit", "bad-crc", "bad-type"],
)
def test_png_damage_is_refused(png: bytes, mangle, reason: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidImage, match=message) as info:
        extract_png(mangle(png))
    assert info.value.reason == reason
    with pytest.raises(InvalidImage, match=message):
        bake_png(mangle(png), JWS)


def test_png_must_start_with_ihdr(png: bytes) -> None:
    with pytest.raises(InvalidImage, match="IHDR") as info:
        extract_png(png[:8] + _chunk(b"tEXt", b"a\x00b") + png[8:])
    assert info.value.reason == "malformed"


def test_png_non_utf8_credential_is_refused(png: bytes) -> None:
    body = b"openbadgecredential\x00\x00\x00\x00\x00\xff\xfe"
    iend = png.rindex(b"\x00\x00\x00\x00IEND")
    with pytest.raises(InvalidImage, match="UTF-8") as info:
        extract_png(png[:iend] + _chunk(b"iTXt", body) + png[iend:])
    assert info.value.reason == "malformed"


# ---------------------------------------------------------------- SVG


@pytest.fixture
def svg() -> bytes:
    return qr_svg("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B")


def test_svg_round_trip(svg: bytes) -> None:
    assert extract_svg(bake_svg(svg, JWS)) == JWS


def test_svg_without_credential_gives_none(svg: bytes) -> None:
    assert extract_svg(svg) is None


def test_svg_credential_is_first_child_with_verify_attribute(svg: bytes) -> None:
    baked = bake_svg(svg, JWS)
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked
    root = SafeET.fromstring(baked)
    first = root[0]
    assert first.tag == f"{{{OB_NAMESPACE}}}credential"
    assert first.get("verify") == JWS
    assert f'<openbadges:credential verify="{JWS}">'.encode() in baked


def test_svg_baking_twice_leaves_one_credential(svg: bytes) -> None:
    baked = bake_svg(bake_svg(svg, OTHER_JWS), JWS)
    root = SafeET.fromstring(baked)
    assert len(root.findall(f"{{{OB_NAMESPACE}}}credential")) == 1
    assert baked.count(b"xmlns:openbadges=") == 1
    assert extract_svg(baked) == JWS


def test_svg_rest_of_document_is_kept(svg: bytes) -> None:
    baked = bake_svg(svg, JWS)
    element = f'<openbadges:credential verify="{JWS}"></openbadges:credential>'.encode()
    namespace = b' xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"'
    assert baked.replace(element, b"").replace(namespace, b"") == svg


def test_svg_self_closing_root() -> None:
    baked = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg" a=">"/>', JWS)
    assert extract_svg(baked) == JWS
    assert baked.endswith(b"</svg>")


def test_svg_json_credential_goes_in_cdata(svg: bytes) -> None:
    credential = '{"type": ["VerifiableCredential"], "odd": "]]>"}'
    baked = bake_svg(svg, credential)
    assert b"<![CDATA[" in baked
    assert extract_svg(baked) == credential


UNSAFE = {
    "entity-bomb": b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>""",
    "external-entity": b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>""",
    "doctype": b"""<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg"/>""",
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_svg_unsafe_xml_is_refused(name: str) -> None:
    with pytest.raises(InvalidImage, match="forbidden XML") as info:
        extract_svg(UNSAFE[name])
    assert info.value.reason == "unsafe_xml"
    with pytest.raises(InvalidImage, match="forbidden XML"):
        bake_svg(UNSAFE[name], JWS)


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "malformed", "well-formed"),
        (b"\x89PNG\r\n\x1a\n", "malformed", "well-formed"),
        (b"<html><body/></html>", "not_an_image", "not <svg>"),
        (b"<svg/>", "not_an_image", "not <svg>"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * MAX_SVG_BYTES + b"</svg>",
            "too_large",
            "too large",
        ),
    ],
    ids=["unclosed", "binary", "html", "no-namespace", "oversized"],
)
def test_svg_bad_input_is_refused(data: bytes, reason: str, message: str) -> None:
    with pytest.raises(InvalidImage, match=message) as info:
        extract_svg(data)
    assert info.value.reason == reason


def test_svg_non_utf8_is_refused_for_baking() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(InvalidImage, match="UTF-8") as info:
        bake_svg(data.encode("utf-16"), JWS)
    assert info.value.reason == "unsupported_encoding"


def test_svg_conflicting_prefix_is_refused() -> None:
    data = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"/>'
    with pytest.raises(InvalidImage, match="another namespace") as info:
        bake_svg(data, JWS)
    assert info.value.reason == "malformed"
