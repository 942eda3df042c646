"""docs/nginx.conf.example, started with Debian's nginx on loopback in front of a real ``liang serve``."""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from tests.conftest import ROOT, TEST_KEK, LiveServer, free_port, start_server

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx-light)"),
]

EXAMPLE = ROOT / "docs" / "nginx.conf.example"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "liang.example.cn")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("liang.example.cn"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "liang.crt", directory / "liang.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def render_config(*, directory: Path, upstream_port: int, http_port: int, https_port: int) -> str:
    """Return the example with ports and paths moved to loopback and ``directory`` (each edit must apply)."""
    cert, key = _self_signed(directory)
    text = EXAMPLE.read_text(encoding="utf-8")
    edits = [
        ("user www-data;\n", ""),
        ("pid /run/nginx.pid;", f"pid {directory}/nginx.pid;"),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {directory}/error.log warn;"),
        ("access_log /var/log/nginx/access.log;", f"access_log {directory}/access.log;"),
        ("proxy_cache_path /var/cache/nginx/liang", f"proxy_cache_path {directory}/cache"),
        ("server 10.0.0.11:8000", f"server 127.0.0.1:{upstream_port}"),
        ("        server 10.0.0.12:8000 max_fails=3 fail_timeout=10s;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/nginx/tls/liang.crt", str(cert)),
        ("/etc/nginx/tls/liang.key", str(key)),
        ("http {\n", "http {\n" + "".join(f"    {kind}_temp_path {directory}/{kind};\n"
                                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))),
    ]
    for old, new in edits:
        assert old in text, f"docs/nginx.conf.example no longer contains {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture
def fronted(app: Flask, app_config: dict[str, Any], tmp_path: Path) -> Iterator[tuple[LiveServer, int, Path]]:
    """Start the service behind nginx; yield (service, nginx https port, certificate path)."""
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": "https://liang.example.cn",
        "LIANG_LOG_FORMAT": "text",
        "LIANG_TRUSTED_PROXIES": "1",
        "LIANG_VERIFY_RATE_LIMIT": "3 per minute",
    }
    service = start_server(env)
    directory = tmp_path / "nginx"
    directory.mkdir()
    https_port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(render_config(directory=directory, upstream_port=int(service.url.rsplit(":", 1)[1]),
                                  http_port=free_port(), https_port=https_port), encoding="utf-8")
    assert NGINX is not None
    nginx = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            if nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {nginx.stderr.read().decode() if nginx.stderr else ''}")
            try:
                _get(https_port, directory / "liang.crt", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield service, https_port, directory / "liang.crt"
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        if nginx.stderr is not None:
            nginx.stderr.close()
        service.stop()


def _get(port: int, cafile: Path, path: str, *, source: str = "127.0.0.2",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=str(cafile))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, source_address=(source, 0), timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_nginx_front(fronted: tuple[LiveServer, int, Path], issue_badge: Callable[..., str]) -> None:
    # One test on purpose: starting nginx and a server costs seconds.
    _service, port, cafile = fronted
    badge = issue_badge()
    status, _headers, body = _get(port, cafile, "/healthz")
    assert (status, body) == (200, b'{"status":"ok"}\n')
    status, headers, body = _get(port, cafile, f"/v/{badge}")
    assert status == 200
    assert badge in body.decode()
    assert headers["strict-transport-security"].startswith("max-age=")  # X-Forwarded-Proto https was trusted
    assert len(headers["x-request-id"]) == 32  # nginx's $request_id, passed through

    # Rate limits are keyed by the real client: spoofing X-Forwarded-For does not make
    # 127.0.0.2 someone else, while another client behind the same nginx is its own key.
    path = "/api/v1/badges/0000-0000-0000"
    assert [_get(port, cafile, path)[0] for _ in range(3)] == [404, 404, 404]
    assert _get(port, cafile, path, headers={"X-Forwarded-For": "203.0.113.9"})[0] == 429
    assert _get(port, cafile, path, source="127.0.0.3")[0] == 404

    assert _get(port, cafile, "/metrics")[0] == 403  # not from the internet
