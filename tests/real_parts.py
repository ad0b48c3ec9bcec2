"""What a test does when a real part (a browser, a load tool, a server binary) is missing.

On a developer's machine the test is skipped and says why. In CI (`CI=true`, set by .ci/run,
which installs every such part) a missing part is a failure: a skipped real part is not a pass.
"""

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing_part(reason: str) -> None:
    """Skips (printing why) outside CI; fails in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI must install it: see .ci/run)", pytrace=False)
    print(reason)
    pytest.skip(reason, allow_module_level=True)
