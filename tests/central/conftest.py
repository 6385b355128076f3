"""Fixtures of the centre's tests: a real Mosquitto, a PostgreSQL database of each test's own
(the machine's PostgreSQL on 127.0.0.1:5432, which `./run test` starts), the real
`antrian central run`, and offices that send their logs (`centre.LogOffice`)."""

from __future__ import annotations

import psycopg
import pytest
from centre import Centre, Database, LogOffice, write_config

from antrian.net import free_port
from tests.kit import Mosquitto

OFFICES = {"winongan": "Kantor Kecamatan Winongan", "grati": "Kantor Kecamatan Grati"}


@pytest.fixture
def database():
    try:
        db = Database()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is not reachable ({exc}); ./run test starts it")
    yield db
    db.drop()


@pytest.fixture
def broker(tmp_path):
    (tmp_path / "mosquitto").mkdir()
    b = Mosquitto(workdir=tmp_path / "mosquitto")
    b.start()
    yield b
    b.close()


@pytest.fixture
def centre(tmp_path, broker, database):
    """The centre, started and connected (`centre.web_port` serves the regency page)."""
    port = free_port()
    cfg = write_config(tmp_path / "central.toml", broker.port, database.dsn, port, OFFICES)
    c = Centre(cfg, database, tmp_path)
    c.web_port = port
    c.config = cfg
    c.start_ready()
    yield c
    c.stop()


@pytest.fixture
def offices(tmp_path, broker):
    made: list[LogOffice] = []

    def make(slug: str = "winongan") -> LogOffice:
        o = LogOffice(slug, broker.port, tmp_path)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()
