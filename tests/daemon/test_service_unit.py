"""The systemd unit that `nmctl service install` writes, checked by systemd itself."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("flag", "wanted_by"), [([], "multi-user.target"), (["--user"], "default.target")]
)
def test_the_unit_passes_systemd_analyze_verify(tmp_path, flag, wanted_by):
    dest = tmp_path / "nmd.service"
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", "service", "install", *flag, "--dest", str(dest)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "systemctl" in done.stdout and "enable --now nmd" in done.stdout
    unit = dest.read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and f"WantedBy={wanted_by}" in unit
    assert f"ExecStart={shutil.which('nmd') or ''}" in unit or "/bin/nmd --targets" in unit
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(dest)], capture_output=True, text=True, cwd=tmp_path
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr.strip() == "", verify.stderr  # systemd reports bad lines as warnings
