"""The HTTP funnel retries only idempotent calls, only on transient statuses, then gives up."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from mlops_desktop.backends.http import HttpClient, RetryPolicy


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first `failures` requests, then 200 with a JSON body."""

    failures = 0
    seen: list[str] = []

    def _answer(self) -> None:
        type(self).seen.append(self.command)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if len(type(self).seen) <= type(self).failures:
            status, body = 503, b"busy"
        else:
            status, body = 200, json.dumps({"ok": True}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[tuple[str, type[_FlakyHandler]]]:
    handler = type("Handler", (_FlakyHandler,), {"failures": 0, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler
    server.shutdown()
    server.server_close()
    thread.join()


def test_reads_are_retried_until_they_succeed(flaky: tuple[str, type[_FlakyHandler]]) -> None:
    url, handler = flaky
    handler.failures = 2
    client = HttpClient(url, retry=RetryPolicy(attempts=4, base_delay_s=0.01))
    response = client.send("GET", "/thing")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert handler.seen == ["GET", "GET", "GET"]
    client.close()


def test_read_only_post_is_retried_but_a_write_is_not(
    flaky: tuple[str, type[_FlakyHandler]],
) -> None:
    url, handler = flaky
    handler.failures = 1
    client = HttpClient(url, retry=RetryPolicy(attempts=4, base_delay_s=0.01))
    assert client.send("POST", "/search", json={}, idempotent=True).status_code == 200
    handler.seen.clear()
    handler.failures = 1
    assert client.send("POST", "/create", json={}).status_code == 503
    assert handler.seen == ["POST"]
    client.close()


def test_retries_stop_after_the_last_attempt(flaky: tuple[str, type[_FlakyHandler]]) -> None:
    url, handler = flaky
    handler.failures = 10
    client = HttpClient(url, retry=RetryPolicy(attempts=3, base_delay_s=0.01))
    assert client.send("GET", "/thing").status_code == 503
    assert len(handler.seen) == 3
    client.close()


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=4.0)
    delays = [policy.delay_s(retry) for retry in (1, 2, 3, 4, 5) for _ in range(50)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 10
    assert policy.delay_s(1, retry_after_s=30.0) == 4.0


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [
        ("GET", "/api/2.0/mlflow/registered-models/get", "READ"),
        ("POST", "/api/2.0/mlflow/runs/search", "READ"),
        ("POST", "/api/2.0/mlflow/registered-models/set-tag", "EDIT"),
        ("DELETE", "/api/2.0/mlflow/registered-models/delete-tag", "EDIT"),
        ("DELETE", "/api/2.0/mlflow/model-versions/delete-tag", "MANAGE"),
        ("DELETE", "/api/2.0/mlflow/registered-models/alias", "MANAGE"),
        ("POST", "/api/2.0/mlflow/registered-models/alias", "EDIT"),
    ],
)
def test_a_refusal_names_the_permission_mlflow_checks(method: str, path: str, needed: str) -> None:
    import requests

    from mlops_desktop.backends.mlflow_rest import _permission_needed

    response = requests.Response()
    response.request = requests.Request(method, f"http://127.0.0.1:5000{path}").prepare()
    assert _permission_needed(response) == needed
