"""REDIS_URL as a managed or replicated Redis is given: `rediss://` gives every
process of the line a TLS connection (the web's, the worker's, RQ's scheduler's),
with the certificate settings of the URL's query; and production refuses the
URLs that would send callers' data in clear or trust any server. Nothing here
connects anywhere."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import redis
from redis.connection import SSLConnection, UnixDomainSocketConnection
from rq.connections import parse_connection

from ivr.platform.config import ConfigError, load_settings
from ivr.platform.redis_store import connect
from tests.test_config import GOOD_PRODUCTION

MANAGED = (
    "rediss://default:s3cret@redis-123.example.net:6380/2"
    "?ssl_cert_reqs=required&ssl_ca_certs=/etc/ssl/certs/ca-certificates.crt"
)


def test_a_rediss_url_gives_the_web_a_tls_connection_with_its_certificate_settings() -> None:
    client = connect(MANAGED, 0.5)
    pool = client.connection_pool
    assert pool.connection_class is SSLConnection
    connection = pool.make_connection()  # made, not connected
    assert isinstance(connection, SSLConnection)
    assert connection.cert_reqs == ssl.CERT_REQUIRED
    assert connection.check_hostname  # redis-py's default, kept
    assert connection.ca_certs == "/etc/ssl/certs/ca-certificates.crt"
    assert (connection.host, connection.port, connection.db) == ("redis-123.example.net", 6380, 2)
    assert connection.password == "s3cret"
    # The web's short timeouts (a dead Redis costs a caller well under a second) stay.
    assert (connection.socket_timeout, connection.socket_connect_timeout) == (0.5, 0.5)


def test_the_worker_and_rqs_scheduler_get_tls_from_the_same_url() -> None:
    # As ivr/processes/worker.py and workers/context.py build it:
    worker = redis.Redis.from_url(MANAGED)
    assert worker.connection_pool.connection_class is SSLConnection
    # RQ's scheduler process builds its own connection from the worker's.
    _, connection_class, kwargs = parse_connection(worker)
    assert connection_class is SSLConnection
    assert kwargs["ssl_cert_reqs"] == "required"


def test_a_plain_url_and_a_socket_are_not_tls() -> None:
    assert connect("redis://127.0.0.1:6379/0", 0.5).connection_pool.connection_class.__name__ == (
        "Connection"
    )
    unix = connect("unix:///tmp/redis.sock", 0.5)
    assert unix.connection_pool.connection_class is UnixDomainSocketConnection


@pytest.mark.parametrize(
    "url",
    [
        "redis://redis:6379/0",  # docker-compose's service
        "redis://10.0.3.7:6379/0",  # a private network
        "unix:///run/redis/redis.sock",
        MANAGED,
        "rediss://:pw@redis.example.net:6380",  # the system's CAs, hostname checked
    ],
)
def test_production_accepts_a_private_redis_and_a_checked_tls_one(url: str, tmp_path: Path) -> None:
    settings = load_settings(
        {**GOOD_PRODUCTION, "REDIS_URL": url, "HELPLINE_VAR_DIR": str(tmp_path)},
        dotenv_path=tmp_path / ".env",
    )
    assert settings.redis_url == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis://:pw@35.190.0.10:6379/0", "use rediss://"),  # in clear over the internet
        ("rediss://:pw@redis.example.net:6380?ssl_cert_reqs=none", "check the server"),
        ("rediss://:pw@redis.example.net:6380?ssl_check_hostname=false", "check the server"),
        ("http://redis.example.net:6379", "redis://, rediss://"),
    ],
)
def test_production_refuses_a_redis_url_that_is_not_safe(
    url: str, says: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(
            {**GOOD_PRODUCTION, "REDIS_URL": url, "HELPLINE_VAR_DIR": str(tmp_path)},
            dotenv_path=tmp_path / ".env",
        )
    assert any(says in problem and "REDIS_URL" in problem for problem in refused.value.problems)
