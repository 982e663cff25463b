"""Fixtures: a test CA made at test time, and servers that are always stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server import ROOT, NatsWsServer  # noqa: E402


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("certs")
    subprocess.run(["bash", str(ROOT / "tests" / "interop" / "gen-certs.sh"), str(d)], check=True)
    return d


@pytest.fixture
def make_server():
    started: list[NatsWsServer] = []

    def make(**kw) -> NatsWsServer:
        s = NatsWsServer(**kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()
