"""Test-wide settings: every test run is isolated from the developer's data directory."""

import os
import tempfile

os.environ.setdefault("QIANTOU_DATA_DIR", tempfile.mkdtemp(prefix="qiantou-test-"))
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
