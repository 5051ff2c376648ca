"""Fixtures: a real `kestrel sim` process on a free loopback port, and clients for it."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from binance.um_futures import UMFutures

API_KEY = "kestrel-test-key-" + "a" * 47
API_SECRET = "kestrel-test-secret-" + "b" * 44


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def sim():
    """Starts `kestrel sim` and yields its base URL; stops it with SIGINT and checks it exits 0."""
    binary = os.environ.get("KESTREL_BIN")
    assert binary and os.path.exists(binary), "KESTREL_BIN must point at the built kestrel binary"
    port = free_port()
    env = dict(os.environ, KESTREL_SIM_API_KEY=API_KEY, KESTREL_SIM_API_SECRET=API_SECRET)
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [binary, "sim", "--listen", f"127.0.0.1:{port}", "--seed", "7", "--symbols", "BTCUSDT,ETHUSDT"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    banner = []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        banner.append(line)
        if re.search(r"api key", line):
            break
    assert any(f"127.0.0.1:{port}" in line for line in banner), f"no ready banner: {banner!r}"
    # The banner names the API key it serves (the one set in the environment).
    assert any(API_KEY in line for line in banner), f"banner does not show the API key: {banner!r}"
    yield base
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    log.seek(0)
    assert code == 0, f"kestrel sim exited with {code}: {log.read()}"


@pytest.fixture(scope="session")
def client(sim):
    return UMFutures(key=API_KEY, secret=API_SECRET, base_url=sim)


def control(base: str, path: str, body: bytes = b"{}") -> dict:
    """POSTs to the simulator's control API."""
    request = urllib.request.Request(
        base + path, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        import json

        return json.loads(response.read() or b"{}")


@pytest.fixture()
def paused(sim):
    """Pauses the synthetic market for the test, so the book holds still."""
    control(sim, "/sim/v1/market/pause")
    yield sim
    control(sim, "/sim/v1/market/resume")
