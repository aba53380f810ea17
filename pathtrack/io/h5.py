"""HDF5 primitives shared by the writers and readers: columns, copies, robust opening.

Every file is created through :func:`create` (library-version bounds
:data:`~pathtrack.io.schema.LIBVER`) and opened for reading through :func:`open_read`,
which turns every failure into a one-line :class:`~pathtrack.io.schema.StorageError`.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

import numpy as np

from .schema import LIBVER, StorageError, one_line


def h5py():
    import h5py as _h5py
    return _h5py


def create(path: str, mode: str = "w"):
    """Open ``path`` for writing in the pinned file format (``mode`` ``'w'`` or ``'r+'``)."""
    try:
        return h5py().File(path, mode, libver=LIBVER)
    except OSError as exc:
        raise StorageError(f"{path}: cannot {'create' if mode == 'w' else 'open'} HDF5 file "
                           f"({one_line(exc)})") from None


def column(group, name: str, dtype, width=None):
    """A resizable, chunked, checksummed dataset (rows of ``width`` when given: an int or a shape).

    Not compressed while the run writes: a compressed chunk changes size at every
    rewrite and HDF5 then allocates it anew (the file grew ~60x on a 360-step run);
    a Fletcher-32-only chunk keeps its size and is rewritten in place. :func:`rewrite`
    compresses the file when the run finishes.
    """
    if width is None:
        shape, maxshape, chunks = (0,), (None,), (256,)
    else:
        row = tuple(width) if isinstance(width, tuple) else (width,)  # a tuple: rows of that shape
        rows = int(max(1, min(64, 2 ** 13 // max(int(np.prod(row)), 1))))
        shape, maxshape, chunks = (0, *row), (None, *row), (rows, *row)
    return group.create_dataset(name, shape=shape, maxshape=maxshape, chunks=chunks, dtype=dtype,
                                fletcher32=True)


def array(group, name: str, data) -> None:
    """A complete, checksummed array (solve and training files); empty arrays stay contiguous."""
    data = np.asarray(data)
    if data.size:
        group.create_dataset(name, data=data, chunks=True, fletcher32=True)
    else:
        group.create_dataset(name, data=data)


def copy_tree(src, dst, compress: bool, block: int = 4096) -> None:
    """Copy groups, datasets (in row blocks) and attributes; compress the resizable datasets."""
    for k, v in src.attrs.items():
        dst.attrs[k] = v
    for name, obj in src.items():
        if isinstance(obj, h5py().Group):
            copy_tree(obj, dst.create_group(name), compress, block)
            continue
        kw = dict(chunks=obj.chunks, maxshape=obj.maxshape, fletcher32=obj.fletcher32)
        if compress and obj.maxshape and obj.maxshape[0] is None:
            kw.update(compression="gzip", compression_opts=4, shuffle=True)
        ds = dst.create_dataset(name, shape=obj.shape, dtype=obj.dtype, **kw)
        for start in range(0, obj.shape[0] if obj.shape else 0, block):
            ds[start:start + block] = obj[start:start + block]
        for k, v in obj.attrs.items():
            ds.attrs[k] = v


# ------------------------------------------------------------------------- atomic replacement
#: Tags of the temporary files :func:`replacing` makes: ``{path}.{tag}-{pid}.tmp``.
TMP_TAGS = ("create", "layout", "compact", "resume", "write", "branch", "curve", "cycle")


def tmp_path(path: str, tag: str) -> str:
    """The temporary name this process uses for a new version of ``path`` (same directory)."""
    if tag not in TMP_TAGS:
        raise ValueError(f"unknown temporary-file tag {tag!r}")
    return f"{path}.{tag}-{os.getpid()}.tmp"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (True when that cannot be told)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, OverflowError):
        return True
    return True


def remove_stale_tmp(path: str) -> None:
    """Remove the temporary files of ``path`` left by processes of this host that no longer exist.

    A kill during a rewrite (SIGKILL, power loss) leaves ``{path}.{tag}-{pid}.tmp``; a
    live process's file is kept (it may be writing it). Errors (a read-only directory) are ignored.
    """
    folder, base = os.path.split(os.path.abspath(path))
    pattern = re.compile(re.escape(base) + r"\.(" + "|".join(TMP_TAGS) + r")-(\d+)\.tmp")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = pattern.fullmatch(name)
        if m and int(m.group(2)) != os.getpid() and not pid_alive(int(m.group(2))):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: str, tag: str = "write", *, force: bool = True) -> Iterator[str]:
    """Write a new version of ``path`` under a temporary name, then rename it over ``path``.

    Yields the temporary name (same directory, so the rename is atomic). When the block
    ends without an exception the file is synced and renamed: readers see either the
    old file or the complete new one, never a partial one, and a reader holding the old
    file keeps reading it. Any exception (``KeyboardInterrupt`` included) removes the
    temporary file and leaves ``path`` untouched. ``force=False`` refuses to replace a
    ``path`` that exists at the moment of the rename (``FileExistsError``).
    """
    tmp = tmp_path(path, tag)
    try:
        yield tmp
        _fsync(tmp)
        if not force and os.path.exists(path):
            raise FileExistsError(f"{path} exists")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def swmr_version(path: str, fill: Callable) -> None:
    """Replace ``path`` by a new file that ``fill(f)`` lays out and writes, then switched to SWMR mode.

    Readers can attach to an HDF5 file only once it is in SWMR mode, and no object can be
    created after that, so a writer lays its file out in a new one that replaces the old
    (:func:`replacing`); ``fill`` keeps the open handle (the rename does not invalidate it).
    Any exception closes the new file and leaves ``path`` as it was.
    """
    with replacing(path, "layout") as tmp:
        f = create(tmp)
        try:
            fill(f)
            f.swmr_mode = True  # from here on: no new objects, readers may attach
            f.flush()
        except BaseException:
            f.close()
            raise


def rewrite(path: str, edit: Callable, compress: bool = True) -> None:
    """Copy ``path`` (closed) into a new file, apply ``edit(file)`` to the copy, and replace ``path`` by it.

    Used when a run finishes: the copy gets gzip-compressed columns (``compress``), and
    the file a concurrent reader holds open is never modified, so neither the reader nor
    the writer waits for the other's HDF5 file lock. A failure leaves ``path`` as it was.
    """
    with replacing(path, "compact") as tmp:
        with h5py().File(path, "r") as src, create(tmp) as dst:
            copy_tree(src, dst, compress=compress)
            edit(dst)


def fixed(group, name: str, value, dtype="f8"):
    """A fixed-size checksummed dataset (for the checkpoint), rewritten in place."""
    value = np.atleast_1d(np.asarray(value, dtype=dtype))
    ds = group.create_dataset(name, shape=value.shape, dtype=dtype, chunks=value.shape if value.size else None,
                              fletcher32=bool(value.size))
    if value.size:
        ds[...] = value
    return ds


def append(ds, values) -> None:
    """Append rows to a resizable dataset, through the low-level API (2-3x less time than ``ds[k:] = values``)."""
    values = np.ascontiguousarray(np.asarray(values, dtype=ds.dtype if ds.dtype.kind == "S" else None),
                                  dtype=ds.dtype)
    if values.shape[0] == 0:
        return
    sid = ds.id
    shape = sid.shape
    k = shape[0]
    sid.set_extent((k + values.shape[0],) + tuple(shape[1:]))
    fspace = sid.get_space()
    fspace.select_hyperslab((k,) + (0,) * (len(shape) - 1), values.shape)
    sid.write(h5py().h5s.create_simple(values.shape), fspace, values)


def trim(datasets, rows: Optional[int] = None) -> None:
    """Cut datasets to a common number of rows: their shortest, or ``rows`` if fewer (never grow)."""
    shortest = min(d.shape[0] for d in datasets)
    rows = shortest if rows is None else min(rows, shortest)
    for d in datasets:
        if d.shape[0] != rows:
            d.resize(rows, axis=0)


def str_dtype(length: int):
    return h5py().string_dtype("utf-8", length)


def clip(text: str, length: int) -> bytes:
    raw = str(text).encode("utf-8")[:length]
    return raw.decode("utf-8", "ignore").encode("utf-8")


def decode(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


# ------------------------------------------------------------------------------------- reading
#: Metadata read attempts of a SWMR reader. HDF5's default (100, with growing sleeps
#: between them) made a reader of a damaged file appear to hang for minutes; a few
#: attempts still ride out a writer that changes metadata mid-read.
SWMR_READ_ATTEMPTS = 4


def _hdf5_set_read_attempts():
    """``H5Pset_metadata_read_attempts`` from the libhdf5 h5py loaded (not wrapped by h5py), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "libhdf5" in line and "libhdf5_hl" not in line}
        for lib in sorted(libs):
            fn = getattr(ctypes.CDLL(lib), "H5Pset_metadata_read_attempts", None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int64, ctypes.c_uint]
                return fn
    except OSError:
        pass
    return None


def _open_swmr_read(path: str):
    lib = h5py()
    set_attempts = _hdf5_set_read_attempts()
    if set_attempts is None:
        return lib.File(path, "r", libver="latest", swmr=True)
    fapl = lib.h5p.create(lib.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(lib.h5f.LIBVER_LATEST, lib.h5f.LIBVER_LATEST)
    set_attempts(fapl.id, SWMR_READ_ATTEMPTS)
    fid = lib.h5f.open(os.fsencode(path), lib.h5f.ACC_RDONLY | lib.h5f.ACC_SWMR_READ, fapl=fapl)
    return lib.File(fid)


def _superblock_eof(path: str) -> Optional[int]:
    """The end-of-file address a version 2/3 superblock records (None for other layouts).

    HDF5 checks it against the file size only outside SWMR; a SWMR reader of a
    truncated file can loop on missing metadata, so :func:`open_read` checks it first.
    """
    with open(path, "rb") as fh:
        head = fh.read(48)
    if len(head) < 48 or head[:8] != b"\x89HDF\r\n\x1a\n" or head[8] not in (2, 3) or head[9] != 8:
        return None
    return int.from_bytes(head[28:36], "little")


def inode(h, path: str) -> int:
    """The inode of the file HDF5 handle ``h`` reads (of ``path`` if the driver does not tell)."""
    try:
        return os.fstat(h.id.get_vfd_handle()).st_ino
    except Exception:
        return os.stat(path).st_ino


def _busy(path: str, exc: BaseException) -> Optional[StorageError]:
    """A clear error for a file another process holds for writing outside SWMR mode, else None."""
    text = str(exc)
    if "unable to lock file" in text:
        return StorageError(f"{path}: locked by another process writing it outside SWMR mode (not a pathtrack "
                            "run in progress); try again when it has finished")
    if "not already open for SWMR writing" in text:
        return StorageError(f"{path}: marked open for writing outside SWMR mode (another program is writing it, "
                            "or was killed while writing it; h5clear -s clears the mark)")
    return None


def open_read(path: str):
    """Open ``path`` read-only: fully checked when closed, SWMR when a writer is (or was) active."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    remove_stale_tmp(path)
    try:
        try:  # a closed file: HDF5 checks it fully (truncation included)
            return h5py().File(path, "r")
        except OSError as exc:
            if "already open for write" not in str(exc):
                raise
            # a writer is active or was killed: SWMR read, after our own truncation check
            eof = _superblock_eof(path)
            size = os.path.getsize(path)
            if eof is not None and size < eof:
                raise StorageError(f"{path}: truncated file ({size} bytes, the superblock says {eof})") from None
            return _open_swmr_read(path)
    except StorageError:
        raise
    except Exception as exc:
        raise _busy(path, exc) or StorageError(f"{path}: not a readable HDF5 file ({one_line(exc)})") from None
