"""Redis over TLS on loopback (Debian's redis-server and redis-sentinel, a CA made here): the client the settings
build checks the server against REDIS_TLS_CA_FILE, through a sentinel or a rediss:// URL, and refuses without it."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.backoff import NoBackoff
from redis.retry import Retry

from graph.processes import PrerequisiteMissing, free_port
from notifier import redis_client
from notifier.local import TlsFiles
from notifier.local_sentinel import LocalSentinel, SentinelGroup
from profiles.config import Settings
from tests.conftest import make_environ

pytestmark = pytest.mark.slow


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_tls_files(directory: Path) -> TlsFiles:
    """A self-signed CA and a server certificate it signs for 127.0.0.1."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lifecycle test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "redis")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(cert=directory / "redis.crt", key=directory / "redis.key", ca=directory / "ca.crt")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(_key_pem(key))
    return files


@pytest.fixture(scope="module")
def tls_group(tmp_path_factory) -> SentinelGroup:
    directory = tmp_path_factory.mktemp("redis-tls")
    group = SentinelGroup(directory, [free_port()], [free_port()], password="data-pass",
                          sentinel_password="sentinel-pass", tls=make_tls_files(directory / "tls"))
    group.start()
    yield group
    group.stop()


def test_through_a_sentinel_over_tls_the_client_checks_the_ca_given(tls_group):
    settings = Settings.from_env(make_environ(**tls_group.settings_environ()))
    assert settings.redis_tls and settings.redis_tls_ca_file == str(tls_group.tls.ca)
    client = redis_client.client(settings)
    try:
        client.set("over-tls", "yes")
        assert client.get("over-tls") == b"yes"
        assert client.connection_pool.master_address == ("127.0.0.1", tls_group.ports[0])
    finally:
        client.close()


def test_a_rediss_url_with_the_ca_file_connects_and_without_it_is_refused(tls_group):
    url = f"rediss://127.0.0.1:{tls_group.ports[0]}/0"
    trusted = redis_client.client(Settings.from_env(make_environ(
        REDIS_URL=url, REDIS_PASSWORD="data-pass", REDIS_TLS_CA_FILE=str(tls_group.tls.ca))))
    assert trusted.ping()
    trusted.close()
    untrusted = redis_client.client(Settings.from_env(make_environ(REDIS_URL=url, REDIS_PASSWORD="data-pass")))
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        untrusted.ping()
    untrusted.close()


def test_a_plain_client_is_not_served_on_the_tls_port(tls_group):
    plain = redis.Redis(host="127.0.0.1", port=tls_group.ports[0], password="data-pass", socket_timeout=2,
                        retry=Retry(NoBackoff(), 0))
    with pytest.raises((redis.ConnectionError, redis.TimeoutError)):
        plain.ping()


def test_a_sentinel_without_redis_sentinel_installed_says_what_to_install(tmp_path):
    sentinel = LocalSentinel(tmp_path, free_port(), free_port(), environ={"PATH": str(tmp_path)})
    with pytest.raises(PrerequisiteMissing, match=r"apt-get install redis-sentinel"):
        sentinel.start()
