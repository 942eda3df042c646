"""``liang log monitor`` against a static tiled log on a loopback HTTP server (written with signer.tlog)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from signer.tlog import Checkpoint, Tile, generate_key, sign_checkpoint
from tests.staticlog import StaticLog, serve
from verifier.cli.main import main


def _entry(i: int, event: str = "issue") -> bytes:
    return json.dumps({"at": f"2026-12-08T03:{i // 60:02d}:{i % 60:02d}Z", "badge": f"B{i:04d}", "event": event,
                       "state": "valid", "reason": None}, separators=(",", ":"), sort_keys=True).encode()


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StaticLog, str]]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    log = StaticLog(tmp_path / "site" / "log", "127.0.0.1/log")
    log.append(*(_entry(i) for i in range(300)))
    log.publish()
    with serve(tmp_path / "site") as url:
        yield log, url


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    with pytest.raises(SystemExit) as info:
        main(["log", "monitor", *args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out.splitlines(), err


def test_follows_the_log_and_prints_each_decision_once(published: tuple[StaticLog, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    log, url = published
    code, lines, err = _run(capsys, "--server", url)
    assert code == 0, err
    assert len(lines) == 300 and lines[0].startswith("#0 2026-12-08T03:00:00Z issue badge=B0000 state=valid")
    code, lines, err = _run(capsys, "--server", url)
    assert (code, lines) == (0, [])  # nothing new
    log.append(*(_entry(i, "revoke") for i in range(300, 305)))
    log.publish()
    code, lines, err = _run(capsys, "--server", url, "--json")
    assert code == 0, err
    objects = [json.loads(line) for line in lines]
    assert [o["index"] for o in objects] == [300, 301, 302, 303, 304]
    assert objects[0]["event"] == "revoke" and objects[0]["badge"] == "B0300"


def test_since_and_json_on_a_first_run(published: tuple[StaticLog, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, url = published
    code, lines, _ = _run(capsys, "--server", url, "--since", "298", "--json")
    assert code == 0 and [json.loads(line)["index"] for line in lines] == [298, 299]


def _fails(capsys: pytest.CaptureFixture[str], url: str, *words: str) -> str:
    code, lines, err = _run(capsys, "--server", url)
    assert code == 1, (lines, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def test_a_tampered_tile_is_caught(published: tuple[StaticLog, str], capsys: pytest.CaptureFixture[str]) -> None:
    log, url = published
    path = log.tile_file(Tile(0, 1, 44))
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    _fails(capsys, url, "tile/0/001.p/44", "tampered")


def test_a_rewritten_entry_is_caught(published: tuple[StaticLog, str], capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    log, url = published
    assert _run(capsys, "--server", url)[0] == 0
    # The log rewrites entry 290 and republishes a whole, self-consistent tree, signed with its key.
    fork = StaticLog(tmp_path / "fork", log.origin, skey=log.signer.skey())
    fork.append(*log.entries[:290], _entry(290, "revoke"), *log.entries[291:], _entry(300))
    fork.publish()
    shutil.rmtree(log.folder)
    shutil.copytree(fork.folder, log.folder)
    _fails(capsys, url, "entry 290 was rewritten")


def test_a_rewritten_entry_in_an_earlier_tile_is_caught(published: tuple[StaticLog, str],
                                                        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log, url = published
    assert _run(capsys, "--server", url)[0] == 0
    fork = StaticLog(tmp_path / "fork", log.origin, skey=log.signer.skey())
    fork.append(*log.entries[:3], _entry(3, "revoke"), *log.entries[4:], _entry(300))
    fork.publish()
    shutil.rmtree(log.folder)
    shutil.copytree(fork.folder, log.folder)
    _fails(capsys, url, "not a consistent extension", "fork")


def test_a_forked_checkpoint_is_caught(published: tuple[StaticLog, str], capsys: pytest.CaptureFixture[str]) -> None:
    log, url = published
    assert _run(capsys, "--server", url)[0] == 0
    log.write("checkpoint", log.signed_checkpoint(300, root=b"\x07" * 32))
    _fails(capsys, url, "fork")
    log.write("checkpoint", log.signed_checkpoint(299))
    _fails(capsys, url, "shrank")


def test_a_first_look_at_a_lying_checkpoint_is_caught(published: tuple[StaticLog, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    log, url = published
    log.write("checkpoint", log.signed_checkpoint(300, root=b"\x07" * 32))
    _fails(capsys, url, "does not match its entries")


def test_key_and_signature_problems_are_one_line(published: tuple[StaticLog, str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    log, url = published
    log.write("key", log.vkey.encode() + b"\n")
    assert _run(capsys, "--server", url)[0] == 0
    other_skey, other_vkey = generate_key(log.origin)
    log.write("key", other_vkey.encode())
    _fails(capsys, url, "log key changed")
    log.write("key", log.vkey.encode())
    impostor = StaticLog(log.folder.parent / "impostor", log.origin, skey=other_skey)
    log.write("checkpoint", sign_checkpoint(Checkpoint(log.origin, 300, log.root()), [impostor.signer]))
    _fails(capsys, url, "checkpoint does not verify")
    code, _, err = _run(capsys, "--server", url + "/nowhere")
    assert code == 1 and err.startswith("liang: ") and err.count("\n") == 1


def test_a_witness_policy(published: tuple[StaticLog, str], capsys: pytest.CaptureFixture[str]) -> None:
    from signer.tlog import CosignatureSigner, parse_signer_key

    log, url = published
    wsk, wvk = generate_key("witness.example/w1", cosigner=True)
    code, _, err = _run(capsys, "--server", url, "--witness", wvk)
    assert code == 1 and "witness cosignatures required" in err and err.count("\n") == 1
    witness = parse_signer_key(wsk)
    assert isinstance(witness, CosignatureSigner)
    log.publish(witness)
    code, lines, err = _run(capsys, "--server", url, "--witness", wvk)
    assert code == 0 and len(lines) == 300, err
    code, _, err = _run(capsys, "--server", url, "--witness", log.vkey)
    assert code == 1 and "type 0x04" in err
