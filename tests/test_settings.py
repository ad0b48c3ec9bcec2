import os
import subprocess
import sys

from tests.processes import ROOT

PRODUCTION = {"DEBUG": "false", "ALLOWED_HOSTS": "social.example.com"}


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**environment, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY="k3y-" + "x7Qp2Lm9" * 8, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **PRODUCTION)

    assert result.returncode != 0
    assert "SECRET_KEY must be set (50+ random characters) when DEBUG=false." in result.stderr
