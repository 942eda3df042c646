"""Badge images over the app: static layers kept in the database, shared by instances, never stale."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import func, select, update

from signer.baking import extract_png, extract_svg
from signer.ids import parse_badge_id
from signer.images import BadgeFace, render_badge_png
from verifier import context
from verifier.app import create_app
from verifier.storage.models import Badge, BadgeImageLayer, Shop


def _face(client: Any, badge_id: str, status: str, checked_on: str) -> BadgeFace:
    body = client.get(f"/api/v1/badges/{badge_id}").get_json()
    assert body["status"] == status
    return BadgeFace(badge_id=body["id"], shop_name=body["shop"]["name"], branch_name=body["branch"]["name"],
                     platform=body["shop"]["platform"], status=status, checked_on=checked_on,
                     verify_url=body["verify_url"])


def _pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA").tobytes()


def _layers(app: Flask, badge_id: str) -> list[tuple[str, str]]:
    app.extensions["liang.layer_store"].flush()  # layers are written behind the request
    with app.app_context():
        rows = context.session().execute(
            select(BadgeImageLayer.kind, BadgeImageLayer.key)
            .where(BadgeImageLayer.badge_id == parse_badge_id(badge_id)).order_by(BadgeImageLayer.kind))
        return [(kind, key) for kind, key in rows]


def test_revocation_shows_on_the_next_request_drawn_like_a_fresh_image(app, client, issue_badge, act, clock):
    clock.now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    badge_id = issue_badge()
    before = client.get(f"/v/{badge_id}/badge.png?size=m")
    act("revoke", badge_id, reason="misconduct")
    after = client.get(f"/v/{badge_id}/badge.png?size=m")
    assert after.data != before.data
    fresh = render_badge_png(_face(client, badge_id, "revoked", "2026-11-25"), size="m",
                             credential=extract_png(after.data) or "")
    assert _pixels(after.data) == _pixels(fresh)
    # The state change put a new state on the kept layer; nothing was redrawn.
    assert app.extensions["liang.layer_store"].drawn == 1


def test_size_m_over_the_app_is_at_most_20_kb_and_carries_the_live_credential(client, issue_badge, act):
    badge_id = issue_badge(shop_name="义乌市小商品城第三分区某某电子商务有限公司旗舰店")
    first = client.get(f"/v/{badge_id}/badge.png?size=m")
    assert first.status_code == 200
    assert len(first.data) <= 20 * 1024
    act("renew", badge_id, valid_days=30)
    live = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    again = client.get(f"/v/{badge_id}/badge.png?size=m")
    svg = client.get(f"/v/{badge_id}/badge.svg")
    assert extract_png(again.data) == live != extract_png(first.data)
    assert extract_svg(svg.data) == live


def test_resigning_replaces_the_kept_layer(app, client, issue_badge, act):
    badge_id = issue_badge()
    client.get(f"/v/{badge_id}/badge.png?size=s")
    client.get(f"/v/{badge_id}/badge.svg")
    before = _layers(app, badge_id)
    assert [kind for kind, _ in before] == ["png-s", "svg"]
    act("renew", badge_id, valid_days=30)
    client.get(f"/v/{badge_id}/badge.png?size=s")
    client.get(f"/v/{badge_id}/badge.svg")
    after = _layers(app, badge_id)
    assert [kind for kind, _ in after] == ["png-s", "svg"]  # one per kind: the old ones are gone
    assert not set(before) & set(after)


def test_renamed_shop_shows_its_new_name(app, client, issue_badge, clock):
    clock.now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    badge_id = issue_badge(shop_name="旧名字小店")
    client.get(f"/v/{badge_id}/badge.png?size=l")
    with app.app_context():
        sess = context.begin_write()  # a writer from the start (SQLite: no read-then-upgrade)
        shop_id = sess.execute(select(Badge.shop_id).where(Badge.id == parse_badge_id(badge_id))).scalar_one()
        sess.execute(update(Shop).where(Shop.id == shop_id).values(name="新名字小店"))
        sess.commit()
    after = client.get(f"/v/{badge_id}/badge.png?size=l")
    face = _face(client, badge_id, "valid", "2026-11-25")
    assert face.shop_name == "新名字小店"
    fresh = render_badge_png(face, size="l", credential=extract_png(after.data) or "")
    assert _pixels(after.data) == _pixels(fresh)
    assert len(_layers(app, badge_id)) == 1


def test_static_layer_is_shared_by_two_instances_on_one_database(app, app_config, client, issue_badge, tmp_path):
    badge_id = issue_badge()
    first = client.get(f"/v/{badge_id}/badge.png?size=m")
    first_svg = client.get(f"/v/{badge_id}/badge.svg")
    assert app.extensions["liang.layer_store"].drawn == 2
    app.extensions["liang.layer_store"].flush()  # layers are written behind the request
    # A second instance: its own app, process caches and instance directory, the same database.
    other = create_app({**app_config, "INSTANCE_DIR": str(tmp_path / "other-instance")})
    try:
        other_client = other.test_client()
        second = other_client.get(f"/v/{badge_id}/badge.png?size=m")
        second_svg = other_client.get(f"/v/{badge_id}/badge.svg")
        store = other.extensions["liang.layer_store"]
        assert (store.drawn, store.loaded) == (0, 2)
        assert second.data == first.data
        assert second_svg.data == first_svg.data
    finally:
        other.extensions["liang.db"].dispose()


def test_a_database_that_cannot_keep_layers_still_answers(app, client, issue_badge, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import verifier.embedding.layers as cache

    calls: list[int] = []

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is read-only"))

    monkeypatch.setattr(cache, "_write_layers", refuse)
    store = app.extensions["liang.layer_store"]
    badge_id, other_id = issue_badge(), issue_badge()
    response = client.get(f"/v/{badge_id}/badge.png?size=s")
    assert response.status_code == 200
    assert extract_png(response.data)
    store.flush()
    # Another badge right after: drawn and answered, and the store does not hammer the database.
    assert client.get(f"/v/{other_id}/badge.png?size=s").status_code == 200
    store.flush()
    assert len(calls) == 1
    with app.app_context():
        assert context.session().execute(select(func.count()).select_from(BadgeImageLayer)).scalar_one() == 0


def test_two_drawings_of_one_badge_in_one_batch_keep_only_the_newer(app, client, issue_badge):
    # Layers are written in batches: a shop renamed between two requests leaves two drawings
    # of the same badge and kind waiting in one batch (the writer gathers for half a second;
    # flush() below writes whatever is left); only the newer one may be kept.
    store = app.extensions["liang.layer_store"]
    badge_id = issue_badge(shop_name="旧名字小店")
    with app.app_context():
        canonical = parse_badge_id(badge_id)
    store.get_or_draw("older", lambda: b"old layer", badge_id=canonical, kind="png-m")
    store.get_or_draw("newer", lambda: b"new layer", badge_id=canonical, kind="png-m")
    assert _layers(app, badge_id) == [("png-m", "newer")]


def test_two_instances_writing_one_badges_layers_at_once_leave_one_per_kind(app, app_config, issue_badge, tmp_path):
    # Two instances drew the same badges' layers differently (before and after a rename) and
    # write them in the same moment: each badge must end with one layer of the kind, never two.
    import threading

    badges = [issue_badge(shop_name=f"店{n}") for n in range(6)]
    with app.app_context():
        canonical = [parse_badge_id(b) for b in badges]
    other = create_app({**app_config, "INSTANCE_DIR": str(tmp_path / "other-instance")})
    try:
        stores = {"a": app.extensions["liang.layer_store"], "b": other.extensions["liang.layer_store"]}
        for round_ in range(4):
            for name, store in stores.items():
                for badge in canonical:
                    key = f"{name}-{round_}-{badge}"
                    store.get_or_draw(key, lambda key=key: key.encode(), badge_id=badge, kind="png-m")
            start = threading.Barrier(2)
            errors: list[BaseException] = []

            def write(store: Any, start: threading.Barrier = start, errors: list[BaseException] = errors) -> None:
                start.wait()
                try:
                    store.flush()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=write, args=(store,)) for store in stores.values()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not errors
            # Neither store gave up writing (a failed write backs off for a minute).
            assert all(store._no_writes_until == 0.0 for store in stores.values())  # noqa: SLF001
            for badge_id in badges:
                kept = _layers(app, badge_id)
                assert len(kept) == 1, kept
                assert kept[0][1] in {f"a-{round_}-{parse_badge_id(badge_id)}", f"b-{round_}-{parse_badge_id(badge_id)}"}
    finally:
        other.extensions["liang.layer_store"].flush()
        other.extensions["liang.db"].dispose()
