"""Issue 3's done-when checks: QR codes decode byte for byte; baked credentials verify with another JOSE library."""

from __future__ import annotations

import io
import random

import defusedxml.ElementTree as SafeET
import pytest
import zxingcpp
from joserfc import jws
from joserfc.jwk import OKPKey
from PIL import Image

from signer.images import SIZES, font_covers
from tests.functional.test_embed import png_itxt_chunks

BADGES = 200
CHUNKS = 10  # spread over xdist workers
_NAME_CHARS = [c for c in "义乌小明杂货店商行工艺饰品玩具日用百货服装鞋帽箱包五金电子文具礼品家居纺织" if font_covers(c)]


def _decode(data: bytes) -> list[bytes]:
    image = Image.open(io.BytesIO(data)).convert("RGBA").convert("L")  # palette PNG with alpha
    return [r.bytes for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_qr_and_badge_png_decode_to_verify_url_byte_for_byte(client, issue_badge, chunk):
    rng = random.Random(chunk)
    platforms = ["taobao", "tmall", "1688", "jd", "pinduoduo", "douyin", "wechat", "independent", "other"]
    for n in range(BADGES // CHUNKS):
        name = "".join(rng.choice(_NAME_CHARS) for _ in range(rng.randrange(2, 16)))
        badge_id = issue_badge(branch=f"B{rng.randrange(3):02d}", shop_name=name, platform=rng.choice(platforms))
        expected = f"http://127.0.0.1:8000/v/{badge_id}".encode("ascii")
        images = {"qr.png": client.get(f"/v/{badge_id}/qr.png").data}
        for size in SIZES:
            images[f"badge.png?size={size}"] = client.get(f"/v/{badge_id}/badge.png?size={size}").data
        for path, data in images.items():
            assert _decode(data) == [expected], f"{badge_id} {path} (badge {n} of chunk {chunk})"


def _verify_with_joserfc(client, token: str) -> dict:
    """Verify a compact JWS with joserfc against the published JWKS (not the project's code)."""
    import json
    import warnings

    from joserfc.errors import SecurityWarning

    jwks = client.get("/.well-known/jwks.json").get_json()
    obj = jws.extract_compact(token.encode("ascii"))
    kid = obj.protected["kid"].rsplit("/", 1)[1]
    assert obj.protected["alg"] == "EdDSA"
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert "d" not in jwk
    key = OKPKey.import_key(jwk)
    with warnings.catch_warnings():
        # joserfc flags "EdDSA" as superseded by "Ed25519" (RFC 9864); the contract fixes "EdDSA".
        warnings.simplefilter("ignore", SecurityWarning)
        verified = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    return json.loads(verified.payload)


def test_baked_png_credential_verifies_with_joserfc(client, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货")
    (baked,) = [c for c in png_itxt_chunks(client.get(f"/v/{badge_id}/badge.png?size=m").data)
                if c[0] == b"openbadgecredential"]
    payload = _verify_with_joserfc(client, baked[2].decode("ascii"))
    assert "OpenBadgeCredential" in payload["type"]
    assert payload["credentialSubject"]["achievement"]["type"] in ("Achievement", ["Achievement"])
    assert payload["iss"] == "http://127.0.0.1:8000/issuer"


def test_baked_svg_credential_verifies_with_joserfc(client, issue_badge):
    badge_id = issue_badge()
    root = SafeET.fromstring(client.get(f"/v/{badge_id}/badge.svg").data)
    (element,) = root.findall("{https://purl.imsglobal.org/ob/v3p0}credential")
    payload = _verify_with_joserfc(client, element.get("verify"))
    assert "OpenBadgeCredential" in payload["type"]


def test_joserfc_refuses_a_tampered_baked_credential(client, issue_badge):
    from joserfc.errors import BadSignatureError

    badge_id = issue_badge()
    token = client.get(f"/v/{badge_id}/credential.jws").get_data(as_text=True)
    head, payload, signature = token.split(".")
    other = issue_badge()
    other_payload = client.get(f"/v/{other}/credential.jws").get_data(as_text=True).split(".")[1]
    with pytest.raises(BadSignatureError):
        _verify_with_joserfc(client, f"{head}.{other_payload}.{signature}")
    assert payload != other_payload
