"""The import overlay serves a candidate's source as data, with correct tracebacks."""

from __future__ import annotations

import py_compile
import subprocess
import sys
import textwrap
from pathlib import Path

from sandbox import runners
from sandbox.runners.overlay import is_test_file

PROBE = textwrap.dedent(
    """
    import sys, traceback
    sys.path.insert(0, sys.argv[1])
    from runners.overlay import install
    source = "VALUE = 'candidate'\\ndef boom():\\n    raise ValueError('x')\\n"
    install(sys.argv[1], {"pkg/mod.py": source})
    import pkg.mod
    print(pkg.mod.VALUE)
    try:
        pkg.mod.boom()
    except ValueError:
        print(traceback.format_exc().strip().splitlines()[-2].strip())
    """
)


def test_overlay_shadows_the_file_and_its_bytecode(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("VALUE = 'original'\n")
    # Compile the original so a valid .pyc exists: the overlay must not use it.
    py_compile.compile(str(pkg / "mod.py"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(Path(runners.__file__).parent.parent)},  # runners as `runners`
    )
    assert done.stdout.splitlines() == ["candidate", "raise ValueError('x')"]
    assert (pkg / "mod.py").read_text() == "VALUE = 'original'\n"


def test_test_files_are_recognised():
    assert is_test_file("tests/test_x.py")
    assert is_test_file("pkg/x_test.py")
    assert is_test_file("conftest.py")
    assert not is_test_file("pkg/testing.py")
