"""``liang log witness`` and ``liang log monitor``: the log's outside parties on the command line."""

from __future__ import annotations

import os
from pathlib import Path

import click

from signer.tlog import (
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Verifier,
    KeyFormatError,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from verifier.cli.common import CliError


@click.group("log")
def log() -> None:
    """Transparency log: run a witness, follow the log as a monitor."""


def load_witness_key(path: Path, name: str | None) -> CosignatureSigner:
    """Return the witness key from ``path``, creating it (mode 0600) when missing and ``name`` is given."""
    if not path.exists():
        if not name:
            raise CliError(f"no witness key at {path}: give --name to create one")
        skey, _ = generate_key(name, cosigner=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(skey + "\n")
    try:
        signer = parse_signer_key(path.read_text(encoding="utf-8").strip())
    except KeyFormatError as exc:
        raise CliError(f"{path}: not a witness key ({exc.message})") from exc
    if not isinstance(signer, CosignatureSigner):
        raise CliError(f"{path}: not a witness key (a cosignature/v1 key, type 0x04, is needed)")
    if name and signer.name != name:
        raise CliError(f"{path} holds the key of witness {signer.name!r}, not {name!r}")
    return signer


def parse_log_keys(values: tuple[str, ...]) -> list[Ed25519Verifier]:
    """Return the log verifier keys given on the command line (``<name>+<id>+<base64>``, type 0x01)."""
    keys = []
    for value in values:
        try:
            key = parse_verifier_key(value.strip())
        except KeyFormatError as exc:
            raise CliError(f"--log-key {value[:40]!r}: {exc.message}") from exc
        if type(key) is not Ed25519Verifier:
            raise CliError(f"--log-key {key.name}: a log key is an Ed25519 note key (type 0x01)")
        keys.append(key)
    return keys


def parse_witness_keys(values: tuple[str, ...]) -> list[CosignatureVerifier]:
    """Return the witness keys given with ``--witness`` (type 0x04)."""
    keys = []
    for value in values:
        try:
            key = parse_verifier_key(value.strip())
        except KeyFormatError as exc:
            raise CliError(f"--witness {value[:40]!r}: {exc.message}") from exc
        if not isinstance(key, CosignatureVerifier):
            raise CliError(f"--witness {key.name}: a witness key is a cosignature key (type 0x04)")
        keys.append(key)
    return keys


@log.command()
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The witness's private key (created with --name when missing; keep it secret).")
@click.option("--name", default=None, help="The witness's key name, e.g. witness.example.org/liang.")
@click.option("--log-key", "log_keys", multiple=True,
              help="A log's verifier key <origin>+<id>+<base64> (repeat for several logs or a key rotation).")
@click.option("--origin", default=None, help="The log's origin when it is not its key's name.")
@click.option("--db", "db_url", default=None, help="The witness's own database URL (default: SQLite beside the key).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, type=click.IntRange(1, 65535), show_default=True)
@click.option("--workers", default=1, type=click.IntRange(1, 16), show_default=True)
@click.option("--print-key", is_flag=True, help="Print the witness's verifier key and exit.")
def witness(key_file: Path, name: str | None, log_keys: tuple[str, ...], origin: str | None, db_url: str | None,
            host: str, port: int, workers: int, print_key: bool) -> None:
    """Run a C2SP tlog-witness: cosign a log's checkpoints that extend the last one, never a fork."""
    signer = load_witness_key(key_file, name)
    if print_key:
        click.echo(signer.verifier.vkey())
        return
    keys = parse_log_keys(log_keys)
    if not keys:
        raise CliError("name at least one log with --log-key")
    url = db_url or f"sqlite:///{key_file.resolve().parent / 'witness.db'}"

    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.storage.witness import SqlWitnessStore
    from verifier.transparency.witness import Witness

    SqlWitnessStore(url).close()  # refuse a bad database now, not at the first request

    def build() -> Witness:
        return Witness.for_keys(signer, keys, SqlWitnessStore(url), origin=origin)

    def factory() -> object:
        # Start-up time: `liang` imports a command's modules only when that command runs.
        from verifier.transparency.witness_http import create_witness_app

        return create_witness_app(build)

    click.echo(f"witness {signer.verifier.vkey()}", err=True)
    click.echo(f"serving on http://{host}:{port}/ for {', '.join(sorted({origin or k.name for k in keys}))}", err=True)
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.cli.serve import run_wsgi

    run_wsgi(factory, host=host, port=port, workers=workers, name="liang-witness")


@log.command()
@click.option("--server", default=None, help="The service's URL (default LIANG_PUBLIC_URL); the log is at <server>/log/.")
@click.option("--since", default=0, type=click.IntRange(0, None), help="Print decisions from this entry number on.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per decision and line.")
@click.option("--key", default=None, help="The log's verifier key (default: /log/key, pinned on first use).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="State file (default under $XDG_CACHE_HOME/liang/monitor).")
@click.option("--follow", is_flag=True, help="Keep following: check again every --interval seconds.")
@click.option("--interval", default=60, type=click.IntRange(1, 86400), show_default=True)
@click.option("--witness", "witnesses", multiple=True, help="Require this witness's cosignature (repeatable).")
@click.option("--witness-quorum", default=None, type=click.IntRange(1, None),
              help="How many of the --witness keys must have cosigned (default: all).")
def monitor(server: str | None, since: int, as_json: bool, key: str | None, state_path: Path | None, follow: bool,
            interval: int, witnesses: tuple[str, ...], witness_quorum: int | None) -> None:
    """Follow the log from its tiles, verify every checkpoint, print each decision; exit 1 on any inconsistency."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    import json
    import time

    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.transparency.monitor import Monitor, MonitorState, default_state_path
    from verifier.transparency.remote import http_fetcher
    from verifier.verification.client import default_server

    base = (server or default_server()).rstrip("/")
    trusted = parse_witness_keys(witnesses)
    if witness_quorum is not None and witness_quorum > len(trusted):
        raise click.UsageError("--witness-quorum is larger than the number of --witness keys")
    monitor = Monitor(http_fetcher(base + "/log/"), MonitorState(state_path or default_state_path(base)), key=key,
                      witnesses=trusted, quorum=len(trusted) if witness_quorum is None else witness_quorum)
    while True:
        for decision in monitor.run():
            if decision.index < since:
                continue
            click.echo(json.dumps(decision.fields(), ensure_ascii=False, sort_keys=True) if as_json else decision.line())
        if not follow:
            return
        time.sleep(interval)
