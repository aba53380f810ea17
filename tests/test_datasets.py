"""IDX loader: real MNIST files, stratified subsets, and clear errors for bad or missing files."""

import gzip
import shutil
import urllib.request

import numpy as np
import pytest

from pathtrack import datasets
from pathtrack.datasets import DatasetError, load_mnist, stratified_subset

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_real_mnist_train(data_dir):
    d = load_mnist("train", data_dir=data_dir, dtype=np.float32)
    assert d.X.shape == (60000, 784) and d.X.dtype == np.float32
    assert d.y.shape == (60000,) and np.issubdtype(d.y.dtype, np.integer)
    assert d.X.min() == 0.0 and d.X.max() == 1.0
    assert np.bincount(d.y).tolist() == TRAIN_COUNTS
    assert d.n_classes == 10


def test_real_mnist_test_from_env(data_dir, monkeypatch):
    monkeypatch.setenv("PATHTRACK_DATA", str(data_dir))
    d = load_mnist("test")
    assert d.X.shape == (10000, 784) and d.X.dtype == np.float64
    assert np.bincount(d.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_files_directly_in_dir(data_dir, tmp_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data_dir / "mnist" / name, tmp_path / name)
    assert load_mnist("test", data_dir=tmp_path, download=False).X.shape == (10000, 784)


def test_stratified_subset_counts(data_dir):
    d = load_mnist("train", data_dir=data_dir, subset=2000, seed=0)
    counts = np.bincount(d.y, minlength=10)
    assert counts.sum() == 2000
    exact = 2000 * np.array(TRAIN_COUNTS) / 60000
    assert np.all(np.abs(counts - exact) < 1.0)  # largest-remainder apportionment
    again = load_mnist("train", data_dir=data_dir, subset=2000, seed=0)
    other = load_mnist("train", data_dir=data_dir, subset=2000, seed=1)
    assert np.array_equal(d.X, again.X)
    assert not np.array_equal(d.X, other.X)


def test_stratified_subset_indices_unique_and_sorted():
    y = np.repeat(np.arange(3), [50, 30, 20])
    idx = stratified_subset(y, 10, seed=3)
    assert np.bincount(y[idx]).tolist() == [5, 3, 2]
    assert np.all(np.diff(idx) > 0)
    with pytest.raises(ValueError, match="subset size"):
        stratified_subset(y, 0)


def _copy_test_files(data_dir, tmp_path):
    target = tmp_path / "mnist"
    target.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data_dir / "mnist" / name, target / name)
    return target


def test_truncated_file_names_file_and_md5(data_dir, tmp_path):
    target = _copy_test_files(data_dir, tmp_path)
    path = target / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100000])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz: md5 [0-9a-f]{32} does not match"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_corrupt_file_names_file(data_dir, tmp_path):
    target = _copy_test_files(data_dir, tmp_path)
    path = target / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[500] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz: md5"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_recompressed_copy_accepted_by_content_md5(data_dir, tmp_path):
    """Debian re-gzips the files: the .gz md5 differs, the decompressed content is the same."""
    target = _copy_test_files(data_dir, tmp_path)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        path = target / name
        raw = gzip.decompress(path.read_bytes())
        path.write_bytes(gzip.compress(raw, compresslevel=1, mtime=1234567890))
    d = load_mnist("test", data_dir=tmp_path, download=False)
    ref = load_mnist("test", data_dir=data_dir, download=False)
    np.testing.assert_array_equal(d.X, ref.X)
    np.testing.assert_array_equal(d.y, ref.y)
    # ... but a re-compressed copy whose content differs by one byte is still refused
    path = target / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz: md5 .* decompressed content does not"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_system_dir_searched_last_and_never_written(tmp_path, monkeypatch):
    system = tmp_path / "system"
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", system)
    monkeypatch.setenv("PATHTRACK_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.data_dirs(tmp_path / "arg") == [tmp_path / "arg", tmp_path / "env",
                                                    tmp_path / "home" / ".cache" / "pathtrack", system]
    with pytest.raises(DatasetError, match=str(system / "mnist")):
        load_mnist("test", download=False)


def test_bad_idx_header_and_size(tmp_path):
    bad_magic = tmp_path / "x.gz"
    with gzip.open(bad_magic, "wb") as f:
        f.write((1234).to_bytes(4, "big") + b"\0" * 8)
    with pytest.raises(DatasetError, match="x.gz: IDX magic number 1234, expected 2049"):
        datasets.read_idx(bad_magic, 2049)
    short = tmp_path / "y.gz"
    with gzip.open(short, "wb") as f:
        f.write((2049).to_bytes(4, "big") + (10).to_bytes(4, "big") + b"\1" * 7)
    with pytest.raises(DatasetError, match=r"y.gz: IDX dimensions \(10,\) need 10 data bytes, file has 7"):
        datasets.read_idx(short, 2049)
    not_gzip = tmp_path / "z.gz"
    not_gzip.write_bytes(b"hello")
    with pytest.raises(DatasetError, match="z.gz: not a readable gzip file"):
        datasets.read_idx(not_gzip, 2049)


def test_missing_files_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHTRACK_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz not found"):
        load_mnist("test", data_dir=tmp_path / "empty", download=False)


def test_missing_files_download_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHTRACK_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    urls = []

    def refuse(url, timeout=None):
        urls.append(url)
        raise OSError("network is closed")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz is missing and could not be downloaded"
                                           ".*network is closed"):
        load_mnist("test", data_dir=tmp_path / "empty")
    assert len(urls) == len(datasets.DATASETS["mnist"].mirrors)
    assert all(u.endswith("/t10k-images-idx3-ubyte.gz") for u in urls)
    assert not list((tmp_path / "empty").rglob("*.part"))  # no half-written files left behind


def test_download_writes_file_then_verifies_md5(tmp_path, monkeypatch):
    monkeypatch.setenv("PATHTRACK_DATA", str(tmp_path / "nowhere"))

    class Resp:
        headers = {"Content-Length": "5"}

        def __init__(self):
            self.chunks = [b"abcde", b""]

        def read(self, n):
            return self.chunks.pop(0)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Resp())
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz: md5 ab56b4d92b40713acc5af89985d4b786"):
        load_mnist("test", data_dir=tmp_path / "dl")
    assert (tmp_path / "dl" / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes() == b"abcde"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.load_idx_dataset("cifar")
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="dtype"):
        load_mnist("test", dtype=np.int32)


def _no_network(monkeypatch):
    urls = []

    def refuse(url, timeout=None):
        urls.append(url)
        raise OSError("network is closed\nsecond line of the reason")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return urls


def test_mistyped_pathtrack_data_creates_nothing_and_says_so(tmp_path, monkeypatch):
    urls = _no_network(monkeypatch)
    monkeypatch.setenv("PATHTRACK_DATA", str(tmp_path / "dta"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetError) as info:
        datasets.load_fashion_mnist("test")
    msg = str(info.value)
    assert "\n" not in msg
    assert f"PATHTRACK_DATA={tmp_path / 'dta'} is not a directory" in msg
    assert str(tmp_path / "dta" / "fashion-mnist") in msg and "t10k-images-idx3-ubyte.gz not found" in msg
    assert "apt install dataset-fashion-mnist" in msg
    assert urls == [] and sorted(p.name for p in tmp_path.iterdir()) == []


def test_failed_download_is_one_line_and_leaves_no_directory(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    monkeypatch.setenv("PATHTRACK_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetError) as info:
        load_mnist("train")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"train-images-idx3-ubyte.gz is missing and could not be downloaded to {tmp_path / 'mnist'} (")
    assert f"looked in {tmp_path / 'mnist'}, " in msg and "network is closed second line" in msg
    assert "set PATHTRACK_DATA to a directory holding mnist/train-images-idx3-ubyte.gz" in msg
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["run", "deng-mnist"], ["train", "mnist", "--epochs", "0"]])
def test_missing_data_on_the_command_line_is_one_line(tmp_path, monkeypatch, args):
    from click.testing import CliRunner

    from pathtrack.cli import main

    _no_network(monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    r = CliRunner().invoke(main, args, env={"PATHTRACK_DATA": str(tmp_path)})
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: train-images-idx3-ubyte.gz is missing and could not be downloaded")
    assert "PATHTRACK_DATA" in lines[0]
