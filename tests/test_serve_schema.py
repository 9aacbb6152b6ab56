"""Property-based API fuzzing: schemathesis generates requests from `/openapi.json`; no answer may be a 5xx.

Operations are walked by hand with hypothesis (schemathesis' pytest plugin does not load under pytest 9).
"""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="needs `pip install schemathesis`")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from anyecg.chat import ECGChat  # noqa: E402
from anyecg.serve.app import create_app  # noqa: E402
from anyecg.serve.settings import ServeSettings  # noqa: E402
from anyecg.testing.server import tiny_checkpoint  # noqa: E402

MAX_EXAMPLES = 25  # per operation: bounded (about a minute on 2 cores)


def test_no_server_errors(tmp_path: Path) -> None:
    chat = ECGChat.load(tiny_checkpoint(tmp_path / "ckpt"), max_new_tokens=2)
    app = create_app(chat, ServeSettings(max_tokens=2, max_upload_mb=1, timeout_s=30))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    errors: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def run(case) -> None:
            response = case.call()
            statuses.append(response.status_code)
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

        run()
    assert not errors, "\n".join(errors[:10])
    assert len(statuses) >= 5 * len(operations) and any(s < 300 for s in statuses)
