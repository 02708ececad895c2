"""The offline image: a tiny root plus the host's runtime, built with no registry."""

from __future__ import annotations

import tarfile

import pytest

from sandbox import image
from sandbox.errors import NoImage, StaleImage, UnsafeMount
from sandbox.runtime import check_mountable, current_runtime


@pytest.mark.slow  # runs ldd over the whole runtime: seconds
def test_rootfs_holds_the_loader_libc_and_no_python(tmp_path):
    runtime = current_runtime()
    libraries = image.shared_libraries(runtime)
    assert any("libc.so" in lib for lib in libraries)
    archive = tmp_path / "root.tar"
    image.write_rootfs(str(archive), libraries)
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"etc/passwd", "tmp", "sandbox/src", "sandbox/work"} <= names
    assert not any(name.startswith(runtime.mounts[0].lstrip("/")) for name in names)
    assert not any(name.startswith("root") or name.startswith("home") for name in names)


def test_build_is_skipped_when_up_to_date(docker_client):
    info, built = image.build_offline(docker_client)
    assert not built
    assert info.kind == "offline"
    assert info.check_runtime() is None
    assert info.python == current_runtime().python


def test_missing_image_is_a_clear_error(docker_client):
    with pytest.raises(NoImage, match="nmctl sandbox build --offline"):
        image.resolve(docker_client, "neuromutant-sandbox:no-such-tag")


def test_an_image_whose_mounts_are_gone_is_refused(docker_client):
    info = image.ImageInfo("x", "offline", "/gone/bin/python", ("/gone",), "f")
    with pytest.raises(StaleImage, match="/gone"):
        image.ensure_usable(info)


@pytest.mark.parametrize("path", ["/", "/sandbox", "/sandbox/venv", "/etc/python"])
def test_prefixes_that_would_clash_with_the_sandbox_are_refused(path):
    with pytest.raises(UnsafeMount, match=path):
        check_mountable(path)
