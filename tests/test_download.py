"""Downloads against a real HTTP server on 127.0.0.1: checksums, resuming, servers that ignore
Range, failures; and safe tar extraction."""
from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from veegan.data import download
from veegan.data.download import (
    REMOTE_FILES,
    RemoteFile,
    default_cache_dir,
    extract_tar,
    fetch,
    fetch_cifar10,
    fetch_mnist,
    file_md5,
)
from veegan.data.readers import CIFAR10_TEST_BATCHES, CIFAR10_TRAIN_BATCHES, read_cifar10

from .image_helpers import SHARED_MNIST, raises_one_line, write_cifar_batch

CONTENT = bytes(range(256)) * 40  # 10,240 bytes
HALF = len(CONTENT) // 2


class FileServer(ThreadingHTTPServer):
    """Serves ``files`` (URL path -> bytes) and records every request's path and Range header.
    ``honour_range`` False answers every request with the whole file; ``cut_after`` sends only
    that many bytes of the body (with the full Content-Length) and drops the connection."""

    daemon_threads = True

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.files = files
        self.honour_range = True
        self.cut_after: int | None = None
        self.requests: list[tuple[str, str | None]] = []

    def url(self, folder: str = "files") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{folder}/"


class RangeHandler(BaseHTTPRequestHandler):
    server: FileServer

    def do_GET(self) -> None:
        range_header = self.headers.get("Range")
        self.server.requests.append((self.path, range_header))
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = int(range_header.removeprefix("bytes=").rstrip("-")) if range_header else 0
        if range_header and self.server.honour_range:
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            body = body[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.cut_after is not None:
            body = body[: self.server.cut_after]
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No proxy between the tests and 127.0.0.1, and no mirror or cache from the user's shell."""
    for name in ("VEEGAN_MIRROR", "VEEGAN_CACHE", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture(scope="module")
def running_server():
    server = FileServer({})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(running_server):
    """The module's server, serving only ``/files/sample.bin`` and with a fresh record."""
    running_server.files = {"/files/sample.bin": CONTENT}
    running_server.honour_range, running_server.cut_after, running_server.requests = True, None, []
    return running_server


@pytest.fixture
def sample(server) -> RemoteFile:
    return RemoteFile("sample.bin", hashlib.md5(CONTENT).hexdigest(), "test", (server.url(),))


def test_download_and_checksum(tmp_path, server, sample):
    path = fetch(sample, tmp_path)
    assert path == tmp_path / "test" / "sample.bin"
    assert path.read_bytes() == CONTENT
    assert not path.with_name("sample.bin.part").exists()
    assert server.requests == [("/files/sample.bin", None)]
    assert fetch(sample, tmp_path) == path  # already there with the right md5: no request
    assert len(server.requests) == 1


def test_resume_partial_file(tmp_path, server, sample):
    part = tmp_path / "test" / "sample.bin.part"
    part.parent.mkdir()
    part.write_bytes(CONTENT[:HALF])
    assert fetch(sample, tmp_path).read_bytes() == CONTENT
    assert server.requests == [("/files/sample.bin", f"bytes={HALF}-")]
    assert not part.exists()


def test_interrupted_download_resumes(tmp_path, server, sample):
    server.cut_after = 1000
    message = raises_one_line(fetch, sample, tmp_path, naming="sample.bin")
    assert "resume" in message
    part = tmp_path / "test" / "sample.bin.part"
    assert part.read_bytes() == CONTENT[:1000]
    server.cut_after = None
    assert fetch(sample, tmp_path).read_bytes() == CONTENT
    assert server.requests[-1] == ("/files/sample.bin", "bytes=1000-")


def test_restart_when_server_ignores_range(tmp_path, server, sample):
    server.honour_range = False
    part = tmp_path / "test" / "sample.bin.part"
    part.parent.mkdir()
    part.write_bytes(b"x" * HALF)  # even a wrong partial is replaced by the full answer
    assert fetch(sample, tmp_path).read_bytes() == CONTENT
    assert server.requests == [("/files/sample.bin", f"bytes={HALF}-")]


def test_restart_when_partial_is_complete(tmp_path, server, sample):
    part = tmp_path / "test" / "sample.bin.part"
    part.parent.mkdir()
    part.write_bytes(CONTENT)  # the server answers 416 to a Range starting at its end
    assert fetch(sample, tmp_path).read_bytes() == CONTENT
    assert server.requests == [("/files/sample.bin", f"bytes={len(CONTENT)}-"), ("/files/sample.bin", None)]


def test_wrong_checksum_leaves_nothing(tmp_path, server, sample):
    wrong = replace(sample, md5="0" * 32)
    message = raises_one_line(fetch, wrong, tmp_path, naming="sample.bin")
    assert hashlib.md5(CONTENT).hexdigest() in message
    assert list((tmp_path / "test").iterdir()) == []


def test_stale_cached_file_is_replaced(tmp_path, server, sample):
    target = tmp_path / "test" / "sample.bin"
    target.parent.mkdir()
    target.write_bytes(b"an older, different file")
    assert fetch(sample, tmp_path).read_bytes() == CONTENT


def test_unreachable_server(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remote = RemoteFile("sample.bin", "0" * 32, "test", (f"http://127.0.0.1:{port}/",))
    raises_one_line(fetch, remote, tmp_path, naming="sample.bin")
    assert not (tmp_path / "test" / "sample.bin").exists()
    assert not (tmp_path / "test" / "sample.bin.part").exists()


def test_next_base_url_after_http_error(tmp_path, server, sample):
    two_urls = replace(sample, base_urls=(server.url("missing"), server.url()))
    assert fetch(two_urls, tmp_path).read_bytes() == CONTENT
    assert [path for path, _ in server.requests] == ["/missing/sample.bin", "/files/sample.bin"]
    assert "HTTP 404" in raises_one_line(fetch, replace(sample, name="absent.bin"), tmp_path, naming="absent.bin")


def test_mirror_argument_and_environment(tmp_path, server, sample, monkeypatch):
    official = replace(sample, base_urls=("http://127.0.0.1:9/never-used/",))
    assert fetch(official, tmp_path / "a", mirror=server.url()).read_bytes() == CONTENT
    monkeypatch.setenv("VEEGAN_MIRROR", server.url())
    assert fetch(official, tmp_path / "b").read_bytes() == CONTENT
    assert [path for path, _ in server.requests] == ["/files/sample.bin"] * 2


def test_unknown_name():
    raises_one_line(fetch, "imagenet.tar", naming="imagenet.tar")


def test_cache_directory_from_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "veegan"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "veegan"
    monkeypatch.setenv("VEEGAN_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


def test_table_has_official_checksums():
    assert {name: remote.md5 for name, remote in REMOTE_FILES.items()} == {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    }


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no real MNIST copy")
def test_real_mnist_files_match_the_table(tmp_path, server):
    names = [name for name, remote in REMOTE_FILES.items() if remote.folder == "mnist"]
    server.files.update({f"/files/{name}": (SHARED_MNIST / name).read_bytes() for name in names})
    folder = fetch_mnist(tmp_path, mirror=server.url())
    assert folder == tmp_path / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# --------------------------------------------------------------------------------------------
# tar archives


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """A gzipped tar with regular files ``members`` and symbolic ``links`` (name -> target)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def test_extract_tar(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", {"top/one.txt": b"1", "top/sub/two.txt": b"22"})
    extract_tar(archive, tmp_path / "out")
    assert (tmp_path / "out" / "top" / "sub" / "two.txt").read_bytes() == b"22"


@pytest.mark.parametrize("members, links", [
    ({"../escaped.txt": b"x"}, None),
    ({"top/../../escaped.txt": b"x"}, None),
    ({"/tmp/veegan-test-absolute.txt": b"x"}, None),
    ({}, {"top/link": "/etc/passwd"}),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink"])
def test_extract_tar_refuses_escapes(tmp_path, members, links):
    archive = make_tar(tmp_path / "evil.tar.gz", {"top/fine.txt": b"ok", **members}, links)
    raises_one_line(extract_tar, archive, tmp_path / "out", naming="evil.tar.gz")
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/veegan-test-absolute.txt").exists()
    assert list((tmp_path / "out").iterdir()) == []  # refused before anything was written


def test_extract_corrupt_tar(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", {"top/one.bin": bytes(range(256)) * 100})
    archive.write_bytes(archive.read_bytes()[:200])
    raises_one_line(extract_tar, archive, tmp_path / "out", naming="a.tar.gz")
    raises_one_line(extract_tar, tmp_path / "absent.tar.gz", tmp_path / "out", naming="absent.tar.gz")


def test_fetch_cifar10_downloads_and_extracts(tmp_path, server, monkeypatch):
    batches = tmp_path / "source" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    images = np.random.default_rng(0).integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    for i, name in enumerate([*CIFAR10_TRAIN_BATCHES, *CIFAR10_TEST_BATCHES]):
        write_cifar_batch(batches / name, images[i: i + 1], [i])
    archive = tmp_path / "cifar.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(batches, arcname="cifar-10-batches-py")
    server.files["/files/cifar-10-python.tar.gz"] = archive.read_bytes()
    official = REMOTE_FILES["cifar-10-python.tar.gz"]
    monkeypatch.setitem(download.REMOTE_FILES, official.name, replace(official, md5=file_md5(archive)))

    folder = fetch_cifar10(tmp_path / "cache", mirror=server.url())
    assert folder == tmp_path / "cache" / "cifar10" / "cifar-10-batches-py"
    train_images, train_labels = read_cifar10(folder, "train")
    np.testing.assert_array_equal(train_images, images[:5])
    np.testing.assert_array_equal(train_labels, [0, 1, 2, 3, 4])
    assert fetch_cifar10(tmp_path / "cache", mirror=server.url()) == folder  # cached: no new request
    assert len(server.requests) == 1
