"""Path files under the module name ``pathtrack.hdf5``: the path-file part of :mod:`pathtrack.io`.

``from pathtrack.hdf5 import PathWriter, load, StorageError`` and the path schema's
names (``FORMAT``, ``SCHEMA_VERSION``, the column tables) resolve to :mod:`pathtrack.io`.
"""

from .io.reader import PathFile, load
from .io.schema import (CHECKPOINT_SCALARS, EVENT_COLUMNS, KIND_LEN, PATH_ATTRS as ROOT_ATTRS,
                        PATH_FINISH_ATTRS as FINISH_ATTRS, PATH_FORMAT as FORMAT, REJECTED_COLUMNS,
                        SCHEMA_VERSIONS, STEP_COLUMNS, StorageError, problem_identity)
from .io.writer import PathWriter

SCHEMA_VERSION = SCHEMA_VERSIONS[FORMAT]

__all__ = ["StorageError", "PathWriter", "PathFile", "load", "FORMAT", "SCHEMA_VERSION", "STEP_COLUMNS",
           "REJECTED_COLUMNS", "EVENT_COLUMNS", "CHECKPOINT_SCALARS", "ROOT_ATTRS", "FINISH_ATTRS",
           "KIND_LEN", "problem_identity"]
