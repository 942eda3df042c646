"""Signed notes against golang/mod's note_test.go and the C2SP signed-note example."""

from __future__ import annotations

import re

import pytest

from signer.tlog import (
    AmbiguousKey,
    Ed25519Signer,
    Ed25519Verifier,
    InvalidNoteSignature,
    KeyFormatError,
    MalformedNote,
    Signature,
    UnknownKey,
    UnverifiedNote,
    Verifiers,
    generate_key,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)
from tests.unit.signer.tlog.vectors import go_assignments, go_calls, go_eval, go_function, read


def _go() -> str:
    return read("golang-mod/sumdb/note/note_test.go")


def _values(func: str, *names: str) -> dict[str, bytes]:
    exprs = go_assignments(go_function(_go(), func))
    env: dict[str, bytes] = {}
    for name in names:
        env[name] = go_eval(exprs[name], env)
    return env


def test_verifier_key_and_its_manglings() -> None:
    vkey = _values("TestNewVerifier", "vkey")["vkey"].decode()
    verifier = parse_verifier_key(vkey)
    assert verifier.name == "PeterNeumann" and verifier.key_id == 0xC74F20A3
    assert isinstance(verifier, Ed25519Verifier) and verifier.vkey() == vkey
    raw = vkey.encode()
    refused = 0
    for i in range(len(raw) + 1):
        for j in range(i + 1, len(raw) + 1):
            if i == 0 and j == len(raw):
                continue
            with pytest.raises(KeyFormatError):
                parse_verifier_key(raw[i:j].decode())
            refused += 1
    for i in range(len(raw)):
        mangled = raw[:i] + bytes([raw[i] + 1]) + raw[i + 1:]
        with pytest.raises(KeyFormatError):
            parse_verifier_key(mangled.decode())
    bad = [go_eval(arg, {}).decode() for arg in go_calls(go_function(_go(), "TestNewVerifier"), "badKey")]
    assert len(bad) == 2  # wrong key length; unknown algorithm (both with adjusted key ids)
    for key in bad:
        with pytest.raises(KeyFormatError):
            parse_verifier_key(key)
    assert refused > 2000


def test_signer_key_and_its_manglings() -> None:
    skey = _values("TestNewSigner", "skey")["skey"].decode()
    signer = parse_signer_key(skey)
    assert signer.name == "PeterNeumann" and signer.key_id == 0xC74F20A3
    assert signer.skey() == skey
    raw = skey.encode()
    for i in range(len(raw) + 1):
        for j in range(i + 1, len(raw) + 1):
            if i == 0 and j == len(raw):
                continue
            with pytest.raises(KeyFormatError):
                parse_signer_key(raw[i:j].decode())
    for i in range(len(raw)):
        with pytest.raises(KeyFormatError):
            parse_signer_key((raw[:i] + bytes([raw[i] + 1]) + raw[i + 1:]).decode())


def test_sign_gives_go_bytes() -> None:
    env = _values("TestSign", "skey", "text", "want")
    signer = parse_signer_key(env["skey"].decode())
    text = env["text"].decode()
    assert sign_note(text, [signer]) == env["want"]
    # an existing signature of the same key is replaced by the new one
    stale = Signature("PeterNeumann", 0xC74F20A3, "BADSIGN=")
    assert sign_note(text, [signer], keep=[stale]) == env["want"]
    with pytest.raises(MalformedNote):
        sign_note("abc", [signer])  # no final newline
    with pytest.raises(MalformedNote):
        sign_note(text, [], keep=[Signature("a+b", 0, "ABCD")])  # bad name
    with pytest.raises(MalformedNote):
        sign_note(text, [], keep=[Signature("PeterNeumann", 0xC74F20A3, "BADHASH=")])  # id does not match


def test_generated_keys_sign_and_verify() -> None:
    skey, vkey = generate_key("EnochRoot")
    signer, verifier = parse_signer_key(skey), parse_verifier_key(vkey)
    assert signer.name == verifier.name == "EnochRoot" and signer.key_id == verifier.key_id
    sig = signer.sign(b"hi")
    assert verifier.verify(b"hi", sig)
    assert not verifier.verify(b"hi", bytes([sig[0] ^ 1]) + sig[1:])
    assert not verifier.verify(b"hj", sig)
    with pytest.raises(KeyFormatError):
        Ed25519Verifier("EnochRoot", verifier.public_key[:-1])  # type: ignore[attr-defined]


def test_verifier_list_lookups() -> None:
    env = _values("TestVerifierList", "peterKey", "enochKey")
    peter, enoch = parse_verifier_key(env["peterKey"].decode()), parse_verifier_key(env["enochKey"].decode())
    known = Verifiers([peter, enoch, enoch])
    assert known.lookup("PeterNeumann", 0xC74F20A3) is peter
    body = go_function(_go(), "TestVerifierList")
    for message in re.findall(r'"(unknown key [^"]+)"', body):
        name, key = message.removeprefix("unknown key ").split("+")
        with pytest.raises(UnknownKey, match=re.escape(message)):
            known.lookup(name, int(key, 16))
    (ambiguous,) = re.findall(r'"(ambiguous key [^"]+)"', body)
    with pytest.raises(AmbiguousKey, match=re.escape(ambiguous)):
        known.lookup("EnochRoot", 0xAF0CFE78)


def _open_env() -> tuple[dict[str, bytes], str]:
    body = go_function(_go(), "TestOpen")
    return _values("TestOpen", "peterKey", "enochKey", "text", "peterSig", "enochSig"), body


def test_open_like_go() -> None:
    env, body = _open_env()
    peter, enoch = parse_verifier_key(env["peterKey"].decode()), parse_verifier_key(env["enochKey"].decode())
    text, psig, esig = env["text"], env["peterSig"], env["enochSig"]
    msg = text + b"\n" + psig + esig

    note = open_note(msg, [peter])
    assert note.text == text.decode()
    assert [s.name for s in note.sigs] == ["PeterNeumann"] and [s.name for s in note.unverified_sigs] == ["EnochRoot"]
    note = open_note(msg, [peter, enoch])
    assert [s.name for s in note.sigs] == ["PeterNeumann", "EnochRoot"] and not note.unverified_sigs
    with pytest.raises(UnverifiedNote, match="note has no verifiable signatures") as info:
        open_note(msg, [])
    assert len(info.value.note.unverified_sigs) == 2  # type: ignore[attr-defined]

    with pytest.raises(AmbiguousKey):
        open_note(text + b"\n" + esig, [enoch, peter, enoch])
    open_note(text + b"\n" + psig, [enoch, peter, enoch])  # the duplicate is never needed

    for known in ([peter], []):
        with pytest.raises(MalformedNote):
            open_note(text + b"\n" + psig * 101, known)

    invalid = go_eval(re.search(r'Open\(\[\]byte\((text\+"\\n"\+peterSig\[:60\]\+"ABCD"\+peterSig\[60:\])\)', body)
                      .group(1), env)
    with pytest.raises(InvalidNoteSignature, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(invalid, [peter])

    dup = text + b"\n" + psig + psig + esig + esig + esig[:60] + b"ABCD" + esig[60:]
    note = open_note(dup, [peter])
    assert len(note.sigs) == 1 and len(note.unverified_sigs) == 2


def test_open_refuses_go_malformed_notes() -> None:
    env, body = _open_env()
    peter = parse_verifier_key(env["peterKey"].decode())
    block = re.search(r"badMsgs := \[\]string\{\n(.*?)\n\t\}", body, re.S).group(1)
    items = [line.strip().rstrip(",") for line in block.split("\n") if line.strip()]
    assert len(items) == 7
    for item in items:
        with pytest.raises(MalformedNote):
            open_note(go_eval(item, env), [peter])


def test_c2sp_signed_note_example() -> None:
    spec = read("c2sp/signed-note.md")
    example = spec[spec.index("### Example"):]
    vkey = re.search(r"^ {4}(\S+\+[0-9a-f]{8}\+\S+)$", example, re.M).group(1)
    note = re.search(r"```\n(.*?)```", example, re.S).group(1).encode()
    verifier = parse_verifier_key(vkey)
    opened = open_note(note, [verifier])
    assert opened.text == "This is an example message.\n"
    assert [s.name for s in opened.sigs] == ["example.com/foo"]
    tampered = note.replace(b"example message", b"example massage")
    with pytest.raises(InvalidNoteSignature):
        open_note(tampered, [verifier])


def test_open_refuses_control_characters_and_bad_utf8() -> None:
    skey, vkey = generate_key("example.com/log")
    signer, verifier = parse_signer_key(skey), parse_verifier_key(vkey)
    good = sign_note("a\nb\n", [signer])
    assert open_note(good, [verifier]).text == "a\nb\n"
    for bad in (good.replace(b"a\n", b"a\r\n"), b"\x00" + good, good.replace(b"a", b"\xc3"), good + b"extra",
                good.replace("\u2014".encode(), b"-"), good.replace(b"\n\n", b"\n")):
        with pytest.raises(MalformedNote):
            open_note(bad, [verifier])
    assert isinstance(signer, Ed25519Signer)
