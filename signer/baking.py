"""Open Badges 3.0 baking: carry the signed credential inside the badge image.

PNG: one ``iTXt`` chunk with keyword ``openbadgecredential``, uncompressed,
holding the compact JWS. SVG: an ``<openbadges:credential>`` element, first
child of the root, whose ``verify`` attribute holds the compact JWS (OB 3.0,
"Baking" section: a VC-JWT goes in ``verify``; a credential with an embedded
proof goes in the element body as CDATA instead).

Images come from strangers (uploads to ``/api/v1/verify``), so every length is
bounds-checked and XML is parsed with DTDs and entities forbidden.
"""

from __future__ import annotations

import logging
import re
import struct
import xml.parsers.expat
import zlib
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from signer.errors import InvalidImage

_logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"

#: Largest image accepted for extraction or baking; uploads are capped anyway,
#: this keeps the parser itself bounded when called from elsewhere.
MAX_PNG_BYTES = 16 * 1024 * 1024
MAX_SVG_BYTES = 2 * 1024 * 1024
# A credential is a few kilobytes; a compressed chunk inflating past this is a bomb.
_MAX_CREDENTIAL_BYTES = 1024 * 1024
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec limit for a chunk length

_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
_XML_DECL_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

_Chunk = tuple[bytes, bytes]  # (type, data)


# --------------------------------------------------------------------- PNG


def bake_png(png: bytes, credential: str) -> bytes:
    """Return ``png`` carrying ``credential`` in exactly one openbadgecredential iTXt chunk."""
    chunks = [c for c in _read_chunks(png) if not _is_credential_chunk(c)]
    body = _credential_body(credential)
    # iTXt may sit anywhere between IHDR and IEND; just before IEND leaves the
    # image data untouched and in place.
    chunks.insert(len(chunks) - 1, (b"iTXt", body))
    return PNG_SIGNATURE + b"".join(write_chunk(kind, data) for kind, data in chunks)


def credential_chunk(credential: str) -> bytes:
    """Return the serialised openbadgecredential iTXt chunk for ``credential`` (for a PNG writer)."""
    return write_chunk(b"iTXt", _credential_body(credential))


def extract_png(data: bytes) -> str | None:
    """Return the credential baked into PNG ``data``, or None when there is none."""
    for kind, body in _read_chunks(data):
        if kind == b"iTXt" and body.split(b"\x00", 1)[0] == PNG_KEYWORD:
            return _itxt_text(body)
    return None


def _read_chunks(data: bytes) -> list[_Chunk]:
    """Split a PNG into (type, data) chunks, verifying structure and every CRC."""
    if len(data) > MAX_PNG_BYTES:
        raise InvalidImage("PNG too large", reason="too_large")
    if not data.startswith(PNG_SIGNATURE):
        raise InvalidImage("not a PNG image", reason="not_an_image")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    end = len(data)
    while True:
        if pos + 8 > end:
            raise InvalidImage("PNG truncated (no IEND chunk)", reason="truncated")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if length > _MAX_CHUNK_LENGTH:
            raise InvalidImage("PNG chunk length out of range", reason="malformed")
        if not _CHUNK_TYPE.fullmatch(kind):
            raise InvalidImage("PNG chunk type is not four letters", reason="malformed")
        data_end = pos + 8 + length
        if data_end + 4 > end:
            raise InvalidImage("PNG truncated inside a chunk", reason="truncated")
        body = data[pos + 8 : data_end]
        (crc,) = struct.unpack(">I", data[data_end : data_end + 4])
        if zlib.crc32(kind + body) != crc:
            raise InvalidImage(f"PNG chunk {kind.decode('ascii')} has a bad CRC", reason="bad_crc")
        if not chunks and kind != b"IHDR":
            raise InvalidImage("PNG does not start with IHDR", reason="malformed")
        chunks.append((kind, body))
        pos = data_end + 4
        if kind == b"IEND":
            # Bytes after IEND are not part of the image; they are dropped.
            return chunks


def _credential_body(credential: str) -> bytes:
    # Keyword, NUL, compression flag and method 0 (uncompressed), empty language and
    # translated keyword, then the text.
    return PNG_KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + credential.encode("utf-8")


def write_chunk(kind: bytes, body: bytes) -> bytes:
    """Serialise one PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _is_credential_chunk(chunk: _Chunk) -> bool:
    """Tell whether a chunk is an openbadgecredential iTXt chunk."""
    kind, body = chunk
    return kind == b"iTXt" and body.split(b"\x00", 1)[0] == PNG_KEYWORD


def _itxt_text(body: bytes) -> str:
    """Decode the text of an iTXt chunk body (keyword already matched)."""
    try:
        _keyword, rest = body.split(b"\x00", 1)
        flag, method = rest[0], rest[1]
        _language, _translated, text = rest[2:].split(b"\x00", 2)
    except (ValueError, IndexError) as exc:
        raise InvalidImage("malformed iTXt chunk", reason="malformed") from exc
    if flag == 1:
        # Baking forbids compression, but a tolerant reader inflates it, bounded.
        if method != 0:
            raise InvalidImage("unknown iTXt compression method", reason="malformed")
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, _MAX_CREDENTIAL_BYTES)
        except zlib.error as exc:
            raise InvalidImage("corrupt compressed iTXt text", reason="malformed") from exc
        if inflater.unconsumed_tail:
            raise InvalidImage("compressed credential too large", reason="bomb")
    elif flag != 0:
        raise InvalidImage("bad iTXt compression flag", reason="malformed")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidImage("iTXt text is not UTF-8", reason="malformed") from exc


# --------------------------------------------------------------------- SVG


def bake_svg(svg: bytes, credential: str) -> bytes:
    """Return ``svg`` with ``credential`` as the first child ``<openbadges:credential>``."""
    _parse_svg(svg)  # refuse unsafe or broken XML before touching it
    _check_encoding(svg)
    scan = _scan_svg(svg)
    element = _credential_element(credential)
    start_tag = svg[scan.root_start : scan.root_tag_end]
    self_closing = start_tag.endswith(b"/>")
    head = start_tag[:-2] if self_closing else start_tag[:-1]
    if not scan.declares_ob:
        head += f' xmlns:openbadges="{OB_NAMESPACE}"'.encode("ascii")
    if self_closing:
        new_root = head + b">" + element + b"</" + scan.root_qname + b">"
    else:
        new_root = head + b">" + element
    # Drop any credential already baked (direct children of the root) so the
    # image carries exactly one.
    rest = bytearray()
    pos = scan.root_tag_end
    for start, stop in scan.credential_spans:
        rest += svg[pos:start]
        pos = stop
    rest += svg[pos:]
    return svg[: scan.root_start] + new_root + bytes(rest)


def extract_svg(data: bytes) -> str | None:
    """Return the credential baked into SVG ``data``, or None when there is none."""
    root = _parse_svg(data)
    for element in root.iter(f"{{{OB_NAMESPACE}}}credential"):
        verify = (element.get("verify") or "").strip()
        if verify:
            return verify
        text = (element.text or "").strip()
        return text or None
    return None


def _parse_svg(data: bytes) -> Element:
    """Parse SVG bytes safely (no DTD, no entities) and return the root element."""
    if len(data) > MAX_SVG_BYTES:
        raise InvalidImage("SVG too large", reason="too_large")
    try:
        root = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise InvalidImage("SVG uses forbidden XML features", reason="unsafe_xml") from exc
    except ParseError as exc:
        raise InvalidImage("SVG is not well-formed XML", reason="malformed") from exc
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise InvalidImage("root element is not <svg>", reason="not_an_image")
    return root


def _check_encoding(data: bytes) -> None:
    """Refuse encodings other than UTF-8/ASCII, since markup is spliced in as bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidImage("SVG must be UTF-8", reason="unsupported_encoding")
    match = _XML_DECL_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if match and match.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise InvalidImage("SVG must be UTF-8", reason="unsupported_encoding")


def _credential_element(credential: str) -> bytes:
    """Build the ``<openbadges:credential>`` element for a JWS or a JSON credential."""
    if _COMPACT_JWS.fullmatch(credential):
        return f'<openbadges:credential verify="{credential}"></openbadges:credential>'.encode(
            "ascii"
        )
    # An embedded-proof (JSON) credential goes in the body; "]]>" cannot occur
    # inside CDATA, so split it across two sections.
    body = credential.replace("]]>", "]]]]><![CDATA[>")
    return f"<openbadges:credential><![CDATA[{body}]]></openbadges:credential>".encode()


class _SvgScan:
    """Byte offsets found by one expat pass over an already-validated SVG."""

    def __init__(self) -> None:
        self.root_start = -1
        self.root_tag_end = -1
        self.root_qname = b""
        self.declares_ob = False
        self.credential_spans: list[tuple[int, int]] = []


def _scan_svg(data: bytes) -> _SvgScan:
    """Locate the root start tag and existing credential elements in ``data``."""
    scan = _SvgScan()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    depth = 0
    root_decls: dict[str, str] = {}
    open_credential: list[int] = []

    def on_ns(prefix: str | None, uri: str) -> None:
        if depth == 0:
            root_decls[prefix or ""] = uri

    def on_start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal depth
        index = parser.CurrentByteIndex
        if depth == 0:
            scan.root_start = index
            scan.root_tag_end = _start_tag_end(data, index)
            scan.root_qname = re.match(rb"<([^\s/>]+)", data[index:]).group(1)  # type: ignore[union-attr]
        elif depth == 1 and name == f"{OB_NAMESPACE} credential":
            open_credential.append(index)
        depth += 1

    def on_end(name: str) -> None:
        nonlocal depth
        depth -= 1
        if depth == 1 and name == f"{OB_NAMESPACE} credential" and open_credential:
            start = open_credential.pop()
            tag_end = _start_tag_end(data, start)
            if data[tag_end - 2 : tag_end] == b"/>":
                stop = tag_end
            else:
                stop = data.index(b">", parser.CurrentByteIndex) + 1
            scan.credential_spans.append((start, stop))

    parser.StartNamespaceDeclHandler = on_ns
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise InvalidImage("SVG is not well-formed XML", reason="malformed") from exc
    prefix_uri = root_decls.get("openbadges")
    if prefix_uri is not None and prefix_uri != OB_NAMESPACE:
        raise InvalidImage("SVG binds openbadges to another namespace", reason="malformed")
    scan.declares_ob = prefix_uri == OB_NAMESPACE
    return scan


def _start_tag_end(data: bytes, start: int) -> int:
    """Return the offset just past the start tag beginning at ``start``."""
    quote = 0
    for pos in range(start + 1, len(data)):
        byte = data[pos]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):  # " or '
            quote = byte
        elif byte == 0x3E:  # >
            return pos + 1
    raise InvalidImage("unterminated start tag", reason="malformed")


__all__ = [
    "MAX_PNG_BYTES",
    "MAX_SVG_BYTES",
    "OB_NAMESPACE",
    "PNG_KEYWORD",
    "bake_png",
    "bake_svg",
    "extract_png",
    "extract_svg",
]
