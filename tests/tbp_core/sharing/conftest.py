"""A real PACS for the send tests: Debian's Orthanc with its DICOMweb plugin.

The fixture starts Orthanc on free loopback ports with a generated
configuration (storage, index and logs in a temporary folder), waits until
its REST API answers, and stops it afterwards. tools/system-deps.sh installs
the ``orthanc`` and ``orthanc-dicomweb`` packages when they are missing.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AET = "TBPTESTPACS"


@dataclass(frozen=True)
class Pacs:
    """A running Orthanc: its DICOM port, REST root and DICOMweb root."""

    dicom_port: int
    http_port: int
    folder: Path

    @property
    def dicom_url(self) -> str:
        return f"dicom://{AET}@127.0.0.1:{self.dicom_port}"

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.rest}/dicom-web"

    def get(self, path: str) -> object:
        with urllib.request.urlopen(f"{self.rest}{path}", timeout=10) as answer:
            return json.loads(answer.read())

    def sop_instance_uids(self) -> set[str]:
        """SOP Instance UIDs of every instance Orthanc holds (through its REST API)."""
        uids = set()
        instances = self.get("/instances")
        assert isinstance(instances, list)
        for identifier in instances:
            tags = self.get(f"/instances/{identifier}/simplified-tags")
            assert isinstance(tags, dict)
            uids.add(tags["SOPInstanceUID"])
        return uids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _configuration(folder: Path, dicom_port: int, http_port: int) -> dict[str, object]:
    return {
        "Name": "tbp-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "DicomAet": AET,
        "DicomPort": dicom_port,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": True,
        "UnknownSopClassAccepted": False,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }


@pytest.fixture(scope="session")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pacs]:
    """A running Orthanc with the DICOMweb plugin, stopped after the session."""
    assert Path(ORTHANC).exists(), "Orthanc missing: run tools/system-deps.sh (make test does)"
    assert DICOMWEB_PLUGIN.exists(), "orthanc-dicomweb missing: run tools/system-deps.sh"
    folder = tmp_path_factory.mktemp("orthanc")
    server = Pacs(free_port(), free_port(), folder)
    config = folder / "orthanc.json"
    config.write_text(json.dumps(_configuration(folder, server.dicom_port, server.http_port)))
    log = (folder / "orthanc.log").open("w")
    process = subprocess.Popen([ORTHANC, str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.get("/system")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "Orthanc did not start:\n" + (folder / "orthanc.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
