"""Downloads of the image datasets' official files into a cache folder, and safe tar extraction.

A download is resumable: bytes go to ``NAME.part``, and a later call continues it with an HTTP
Range request (or starts again when the server ignores the Range). The file is renamed into
place only once its md5 matches the official one. Only urllib is used. The cache folder is
``$VEEGAN_CACHE``, else ``$XDG_CACHE_HOME/veegan``, else ``~/.cache/veegan``; ``$VEEGAN_MIRROR``
(or the ``mirror`` argument) replaces the official base URLs, for a local copy or for tests.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import VeeganError, one_line

MNIST_BASE_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
CIFAR10_BASE_URLS = ("https://www.cs.toronto.edu/~kriz/",)
USER_AGENT = "veegan-downloader"
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its name (on the server and in the cache), its official md5, the
    cache sub-folder it goes to, and the base URLs that serve it, tried in order."""

    name: str
    md5: str
    folder: str
    base_urls: tuple[str, ...]


REMOTE_FILES: dict[str, RemoteFile] = {
    remote.name: remote
    for remote in (
        RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "mnist", MNIST_BASE_URLS),
        RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", "mnist", MNIST_BASE_URLS),
        RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", "mnist", MNIST_BASE_URLS),
        RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", "mnist", MNIST_BASE_URLS),
        RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", "cifar10", CIFAR10_BASE_URLS),
    )
}


def default_cache_dir() -> Path:
    """``$VEEGAN_CACHE``, else ``$XDG_CACHE_HOME/veegan``, else ``~/.cache/veegan``."""
    if os.environ.get("VEEGAN_CACHE"):
        return Path(os.environ["VEEGAN_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "veegan"
    return Path.home() / ".cache" / "veegan"


def file_md5(path: str | Path) -> str:
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _network_reason(exc: BaseException) -> str:
    """A one-line description of a failed request."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return one_line(exc)


def _content_range_start(response: http.client.HTTPResponse) -> int | None:
    """The first byte of a 206 answer's ``Content-Range: bytes START-END/SIZE``."""
    value = response.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _download(url: str, part: Path, timeout: float) -> None:
    """Bring ``part`` up to the whole of ``url``: continue from its size with a Range request,
    or write it from the start when it is empty or the server sends the whole file."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # the part is already as long as the file (or longer)
            part.unlink()
            return _download(url, part, timeout)
        raise
    with response:
        if response.status == 206 and _content_range_start(response) != offset:
            content_range = response.headers["Content-Range"]
            raise ConnectionError(f"server answered a request for bytes {offset}- with {content_range}")
        resuming = response.status == 206
        length = response.headers.get("Content-Length")
        received = 0
        with part.open("ab" if resuming else "wb") as f:
            while chunk := response.read(CHUNK_BYTES):
                f.write(chunk)
                received += len(chunk)
            f.flush()
            os.fsync(f.fileno())
    if length is not None and received < int(length):
        raise ConnectionError(f"connection closed after {received} of {length} bytes")


def fetch(
    file: str | RemoteFile,
    cache_dir: str | Path | None = None,
    mirror: str | None = None,
    *,
    timeout: float = 60.0,
) -> Path:
    """Download ``file`` (a name in :data:`REMOTE_FILES`, or a :class:`RemoteFile`) to
    ``cache_dir/<folder>/<name>`` and return that path. A file already there with the right md5
    is kept; an interrupted download resumes. ``mirror`` (default ``$VEEGAN_MIRROR``) is a base
    URL used instead of the official ones."""
    if isinstance(file, str):
        if file not in REMOTE_FILES:
            raise VeeganError(f"unknown file {file!r}; known files: {', '.join(REMOTE_FILES)}")
        file = REMOTE_FILES[file]
    target = Path(cache_dir if cache_dir is not None else default_cache_dir()) / file.folder / file.name
    if target.is_file() and file_md5(target) == file.md5:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VeeganError(f"cannot create the cache folder {target.parent}: {one_line(exc)}") from None
    part = target.with_name(target.name + ".part")

    mirror = mirror or os.environ.get("VEEGAN_MIRROR")
    failures = []
    for base in (mirror,) if mirror else file.base_urls:
        url = base.rstrip("/") + "/" + file.name
        try:
            _download(url, part, timeout)
            break
        except (OSError, http.client.HTTPException) as exc:  # URLError and socket errors are OSErrors
            failures.append(f"{url}: {_network_reason(exc)}")
    else:
        kept = f"; the partial file {part} is kept, run again to resume" if part.is_file() else ""
        raise VeeganError(f"could not download {file.name} ({'; '.join(failures)}){kept}")

    actual = file_md5(part)
    if actual != file.md5:
        part.unlink()
        raise VeeganError(f"downloaded {file.name} has md5 {actual}, expected {file.md5}; removed it, run again")
    os.replace(part, target)
    return target


def _refusal(member: tarfile.TarInfo, root: Path) -> str | None:
    """Why ``member`` may not be extracted into ``root``, or None when it may."""
    if not (member.isfile() or member.isdir()):
        return "is a link or special file"
    if not (root / member.name).resolve().is_relative_to(root):
        return f"would land outside {root}"
    return None


def extract_tar(archive: str | Path, dest: str | Path) -> None:
    """Extract a tar archive (any compression) into ``dest``. Every member must be a plain file
    or folder that lands inside ``dest``: absolute paths, ``..``, links and devices are refused
    before anything is written."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    # Python's own "data" filter (3.12, and 3.8.17+ backports) checks the same again on extraction.
    data_filter = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                problem = _refusal(member, root)
                if problem:
                    raise VeeganError(f"archive {archive}: member {member.name!r} {problem}; refusing to extract")
            tar.extractall(root, members=members, **data_filter)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise VeeganError(f"archive {archive} cannot be extracted (truncated or corrupt?): {one_line(exc)}") from None


def fetch_mnist(cache_dir: str | Path | None = None, mirror: str | None = None) -> Path:
    """Download MNIST's four IDX files; return their folder (for :func:`veegan.data.mnist.load_mnist`)."""
    paths = [fetch(remote, cache_dir, mirror) for remote in REMOTE_FILES.values() if remote.folder == "mnist"]
    return paths[0].parent


def fetch_cifar10(cache_dir: str | Path | None = None, mirror: str | None = None) -> Path:
    """Download and extract CIFAR-10's python batches; return the ``cifar-10-batches-py`` folder
    (for :func:`veegan.data.readers.read_cifar10`)."""
    archive = fetch("cifar-10-python.tar.gz", cache_dir, mirror)
    extracted = archive.with_name(archive.name + ".extracted")  # written once extraction finished
    if not extracted.is_file():
        extract_tar(archive, archive.parent)
        extracted.touch()
    return archive.parent / "cifar-10-batches-py"
