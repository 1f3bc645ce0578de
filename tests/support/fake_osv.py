"""A local stand-in for OSV (https://osv.dev) on 127.0.0.1 in a thread, with the real API's
response shapes: ``POST /v1/querybatch`` → ``{"results": [{"vulns": [{"id", "modified"}]}]}``
(an empty object for a clean version) and ``GET /v1/vulns/{id}`` → the advisory record (id,
summary, details, aliases, severity, affected with ranges of introduced/fixed events,
database_specific), 404 ``{"code": 5, "message": "Bug not found."}`` for an unknown id.

``RECORDS`` holds real advisories (trimmed of references and credits); a version is affected
when a range of its package covers it (ECOSYSTEM ranges, compared as DevSync compares).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devsync_tui.core.models import PackageManager
from devsync_tui.core.versions import compare

ECOSYSTEM_MANAGERS = {"npm": PackageManager.NPM, "PyPI": PackageManager.PIP}

LODASH_COMMAND_INJECTION: dict[str, Any] = {
    "id": "GHSA-35jh-r3h4-6jhm",
    "summary": "Command Injection in lodash",
    "details": "`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via "
    "the template function.",
    "aliases": ["CVE-2021-23337"],
    "modified": "2024-02-16T08:20:43Z",
    "published": "2021-05-06T16:05:51Z",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "lodash", "purl": "pkg:npm/lodash"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}
            ],
            "database_specific": {"source": "https://github.com/github/advisory-database/"},
        }
    ],
    "database_specific": {
        "cwe_ids": ["CWE-77", "CWE-94"],
        "severity": "HIGH",
        "github_reviewed": True,
        "github_reviewed_at": "2021-05-04T20:57:30Z",
        "nvd_published_at": "2021-02-15T13:15:00Z",
    },
    "schema_version": "1.6.0",
}

RECORDS = {LODASH_COMMAND_INJECTION["id"]: LODASH_COMMAND_INJECTION}


def affects(record: dict[str, Any], ecosystem: str, name: str, version: str) -> bool:
    manager = ECOSYSTEM_MANAGERS.get(ecosystem)
    if manager is None:
        return False
    for affected in record["affected"]:
        package = affected["package"]
        if (package["ecosystem"], package["name"]) != (ecosystem, name):
            continue
        for span in affected["ranges"]:
            introduced, fixed = "0", None
            for event in span["events"]:
                introduced = event.get("introduced", introduced)
                fixed = event.get("fixed", fixed)
            above = introduced == "0" or compare(manager, version, introduced) >= 0
            if above and (fixed is None or compare(manager, version, fixed) < 0):
                return True
    return False


@dataclass
class FakeOsv:
    records: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(RECORDS))
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeOsv:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                fake.requests.append(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                results = []
                for query in body["queries"]:
                    eco, name = query["package"]["ecosystem"], query["package"]["name"]
                    vulns = [
                        {"id": r["id"], "modified": r["modified"]}
                        for r in fake.records.values()
                        if affects(r, eco, name, query["version"])
                    ]
                    results.append({"vulns": vulns} if vulns else {})
                self._send(200, {"results": results})

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                match = re.fullmatch(r"/v1/vulns/([^/]+)", self.path)
                record = fake.records.get(match.group(1)) if match else None
                if record is None:
                    self._send(404, {"code": 5, "message": "Bug not found."})
                else:
                    self._send(200, record)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1/querybatch"
