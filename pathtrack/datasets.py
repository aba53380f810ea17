"""Image-classification data sets in the IDX format (MNIST, Fashion-MNIST).

Files are looked for, in order, in an explicit ``data_dir`` argument, the environment
variable ``PATHTRACK_DATA``, the user cache ``~/.cache/pathtrack`` and, last, Debian's
``/usr/share/datasets`` (where ``apt install dataset-fashion-mnist`` puts Fashion-MNIST). A
data set's files live in ``<dir>/<name>/`` (``<dir>/mnist/train-images-idx3-ubyte.gz``);
``<dir>`` itself holding the files is accepted too. Every file is checked against its
published md5 before it is parsed; a re-compressed copy (Debian re-gzips the files) is
accepted when the md5 of its decompressed content matches the published raw file's. The
IDX header (magic number, dimensions) is validated against the file's length, so a
truncated or foreign file is an error naming that file.

Missing files are downloaded from the data set's mirrors (only when ``download=True``,
the default) into ``data_dir``, else ``PATHTRACK_DATA`` if that is an existing directory,
else the user cache; a ``PATHTRACK_DATA`` that names no directory is never created. A
missing or corrupt file raises :class:`DatasetError` with one line: where it looked,
what is missing or wrong, and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

__all__ = ["DatasetError", "Dataset", "load_mnist", "load_fashion_mnist", "load_idx_dataset", "read_idx",
           "stratified_subset", "data_dirs", "DATASETS"]


# Debian's data-set packages (dataset-fashion-mnist) install here; searched last, never written.
SYSTEM_DATA_DIR = Path("/usr/share/datasets")


class DatasetError(RuntimeError):
    """A data file is missing, corrupt, truncated or malformed; the message names the file."""


class _Spec(NamedTuple):
    files: Dict[str, Tuple[str, str, str]]   # role -> (file name, md5 of the .gz, md5 of its content)
    mirrors: Tuple[str, ...]
    n_classes: int


DATASETS: Dict[str, _Spec] = {
    "mnist": _Spec(
        files={
            "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                             "6bbc9ace898e44ae57da46a324031adb"),
            "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                             "a25bea736e30d166cdddb491f175f624"),
            "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                            "2646ac647ad5339dbf082846283269ea"),
            "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
                            "27ae3e4e09519cfbb04c329615203637"),
        },
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        n_classes=10,
    ),
    "fashion-mnist": _Spec(
        files={
            "train_images": ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                             "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
            "train_labels": ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                             "9018921c3c673c538a1fc5bad174d6f9"),
            "test_images": ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                            "8181f5470baa50b63fa0f6fddb340f0a"),
            "test_labels": ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
                            "15d484375f8d13e6eb1aabb0c3f46965"),
        },
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        n_classes=10,
    ),
}

_IMAGE_MAGIC = 2051  # uint8 data, 3 dimensions
_LABEL_MAGIC = 2049  # uint8 data, 1 dimension


class Dataset(NamedTuple):
    """Images ``X`` (n, 784) scaled to [0, 1] and integer labels ``y`` (n,)."""

    X: np.ndarray
    y: np.ndarray
    n_classes: int


def data_dirs(data_dir: Optional[os.PathLike] = None) -> List[Path]:
    """Candidate root directories, in search order (explicit, ``PATHTRACK_DATA``, user cache)."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    env = os.environ.get("PATHTRACK_DATA")
    if env:
        dirs.append(Path(env))
    dirs.append(Path.home() / ".cache" / "pathtrack")
    dirs.append(SYSTEM_DATA_DIR)
    return dirs


def _md5(path: Path, decompress: bool = False) -> str:
    """md5 of the file, or (``decompress``) of its gzip content; None if that is unreadable."""
    h = hashlib.md5()
    try:
        with (gzip.open(path, "rb") if decompress else open(path, "rb")) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except (OSError, EOFError, zlib.error):  # truncated or corrupt gzip stream
        if decompress:
            return None
        raise
    return h.hexdigest()


def _find(name: str, fname: str, roots: List[Path]) -> Optional[Path]:
    for root in roots:
        for cand in (root / name / fname, root / fname):
            if cand.is_file():
                return cand
    return None


def _hint(name: str) -> str:
    """What to do about a missing data set (the end of a :class:`DatasetError` message)."""
    fname = DATASETS[name].files["train_images"][0]
    text = (f"set PATHTRACK_DATA to a directory holding {name}/{fname} and the other files of "
            f"{DATASETS[name].mirrors[0]}")
    if name == "fashion-mnist":
        text += " (or install Debian's package: apt install dataset-fashion-mnist)"
    env = os.environ.get("PATHTRACK_DATA")
    if env and not Path(env).is_dir():
        text = f"PATHTRACK_DATA={env} is not a directory (mistyped?); " + text
    return text


def _download_root(data_dir, roots: List[Path]) -> Optional[Path]:
    """Where a missing file is downloaded: ``data_dir``, an existing ``PATHTRACK_DATA``, or the user cache.

    None when ``PATHTRACK_DATA`` names no directory: it is not created, since a mistyped
    name would otherwise fill a new directory.
    """
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("PATHTRACK_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    return Path.home() / ".cache" / "pathtrack"


def _short(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return " ".join(str(reason).split()) or type(exc).__name__


def _download(fname: str, mirrors: Tuple[str, ...], target: Path, looked: str, hint: str) -> None:
    """Fetch ``fname`` from the first mirror that answers, with a progress bar."""
    import urllib.request

    from tqdm.auto import tqdm

    made = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for base in mirrors:
        url = base + fname
        part = target.with_suffix(target.suffix + ".part")
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with open(part, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=fname,
                                                  disable=None) as bar:
                    for block in iter(lambda: resp.read(1 << 16), b""):
                        out.write(block)
                        bar.update(len(block))
            part.replace(target)
            return
        except Exception as exc:  # any failure: try the next mirror, report all at the end
            errors.append(f"{url}: {_short(exc)}")
            part.unlink(missing_ok=True)
    for d in made:  # leave no empty directories behind
        try:
            d.rmdir()
        except OSError:
            break
    raise DatasetError(f"{fname} is missing and could not be downloaded to {target.parent} "
                       f"({'; '.join(errors)}); looked in {looked}; {hint}")


def _locate(name: str, role: str, data_dir, download: bool) -> Path:
    spec = DATASETS[name]
    fname, md5, content_md5 = spec.files[role]
    roots = data_dirs(data_dir)
    path = _find(name, fname, roots)
    if path is None:
        looked = ", ".join(str(r / name) for r in roots)
        target = _download_root(data_dir, roots)
        if not download or target is None:
            raise DatasetError(f"{name} file {fname} not found in any of: {looked}; {_hint(name)}")
        path = target / name / fname
        _download(fname, spec.mirrors, path, looked, _hint(name))
    seen = _md5(path)
    if seen != md5 and _md5(path, decompress=True) != content_md5:
        raise DatasetError(f"{path}: md5 {seen} does not match the published {md5} "
                           "(truncated, corrupt or a different file; its decompressed content does not "
                           "match either); delete it to download again")
    return path


def read_idx(path: os.PathLike, expect_magic: int) -> np.ndarray:
    """Parse one gzip-compressed IDX file of unsigned bytes; validate magic and size."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable gzip file ({exc})") from None
    if len(raw) < 4:
        raise DatasetError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != expect_magic:
        raise DatasetError(f"{path}: IDX magic number {magic}, expected {expect_magic}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    n_bytes = int(np.prod(dims))
    if len(raw) - header != n_bytes:
        raise DatasetError(f"{path}: IDX dimensions {dims} need {n_bytes} data bytes, file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def stratified_subset(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` samples whose class proportions match those of ``y`` as closely as possible.

    Each class gets ``floor(n * share)`` samples; the remaining ones go to the classes with
    the largest fractional remainders (largest-remainder apportionment). Within a class the
    samples are drawn uniformly without replacement. Sorted indices are returned.
    """
    y = np.asarray(y)
    if not 0 < n <= y.size:
        raise ValueError(f"subset size must be in 1..{y.size}, got {n}")
    classes, counts = np.unique(y, return_counts=True)
    quota = n * counts / y.size
    take = np.floor(quota).astype(np.int64)
    rest = n - int(take.sum())
    take[np.argsort(-(quota - take), kind="stable")[:rest]] += 1
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(picks))


def load_idx_dataset(name: str, split: str = "train", *, data_dir=None, dtype=np.float64,
                     subset: Optional[int] = None, seed: int = 0, download: bool = True) -> Dataset:
    """Load ``split`` ("train" or "test") of the IDX data set ``name``.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    split : {"train", "test"}
    data_dir : path, optional
        Searched first; see the module docstring for the search order.
    dtype : np.float32 or np.float64
        Image dtype; pixels are scaled to [0, 1] and flattened to 784 columns.
    subset : int, optional
        Keep a class-stratified random subset of this size (see :func:`stratified_subset`).
    seed : int
        Seed of the subset draw.
    download : bool
        Download missing files from the mirrors.

    Returns
    -------
    Dataset
        ``X`` (n, 784) of ``dtype``, ``y`` (n,) int64, ``n_classes``.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    img_path = _locate(name, f"{split}_images", data_dir, download)
    lab_path = _locate(name, f"{split}_labels", data_dir, download)
    images = read_idx(img_path, _IMAGE_MAGIC)
    labels = read_idx(lab_path, _LABEL_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(f"{img_path} has {images.shape[0]} images but {lab_path} has {labels.shape[0]} labels")
    y = labels.astype(np.int64)
    if subset is not None:
        idx = stratified_subset(y, int(subset), seed)
        images, y = images[idx], y[idx]
    X = images.reshape(images.shape[0], -1).astype(dtype)
    X *= dtype.type(1.0 / 255.0)
    return Dataset(X, y, DATASETS[name].n_classes)


def load_mnist(split: str = "train", **kwargs) -> Dataset:
    """MNIST digits; see :func:`load_idx_dataset` for the arguments."""
    return load_idx_dataset("mnist", split, **kwargs)


def load_fashion_mnist(split: str = "train", **kwargs) -> Dataset:
    """Fashion-MNIST; see :func:`load_idx_dataset` for the arguments."""
    return load_idx_dataset("fashion-mnist", split, **kwargs)
