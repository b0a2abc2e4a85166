"""schemathesis against the API's own OpenAPI document, on the real server.

A bounded number of examples per operation with a fixed seed, so a run is
reproducible; the checks are: no 5xx, every status code and body as documented.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import start_server, stop_server

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    process, server, log = start_server(data_dir, TRIBUNE_RATE_LIMITS="off")
    try:
        token = server.accounts("fuzz", "other", scopes="read write follow push")["fuzz"]
        schemathesis = Path(sys.executable).with_name("schemathesis")
        run = subprocess.run(
            [str(schemathesis), "run", f"{server.base_url}/api/openapi.json",
             "--url", server.base_url, "--checks", CHECKS,
             "--max-examples", "12", "--seed", "20261129", "--workers", "1",
             "--phases", "examples,coverage,fuzzing", "--no-shrink",
             "--header", f"Authorization: Bearer {token}",
             "--request-timeout", "30", "--warnings", "off"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )
    finally:
        server_log = stop_server(process, log, data_dir)
    (tmp_path / "schemathesis.txt").write_text(run.stdout)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    print(run.stdout[-3000:])
    assert "Traceback" not in server_log, server_log[-4000:]
