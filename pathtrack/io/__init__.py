"""pathtrack's HDF5 files: one schema, one header, writers and readers for every kind of file.

- :mod:`~pathtrack.io.schema`: format names, schema versions, columns, the common header;
- :mod:`~pathtrack.io.writer`: :class:`PathWriter` (a tracked path, crash-safe and resumable),
  :func:`write_result` (a finished result; :func:`write_train` for training runs,
  :func:`write_cycles` for cycle branches); :class:`CycleWriter` (a cycle branch, orbit by orbit,
  crash-safe and resumable);
- :mod:`~pathtrack.io.reader`: :func:`load` (a path or diagram file), :func:`open_file` (any kind: path,
  diagram, cycle-branch, solve, training or parameter-homotopy file);
- :mod:`~pathtrack.io.validate`: the checks the readers apply, driven by the schema;
- :mod:`~pathtrack.io.h5`: HDF5 primitives (columns, compaction, robust opening).

The layouts are documented in ``docs/hdf5_format.md``.
"""

from .reader import CyclesFile, DiagramFile, ParameterFile, PathFile, SolveFile, TrainFile, load, open_file
from .schema import (CYCLES_FORMAT, DIAGRAM_FORMAT, LIBVER, PARAMETER_FORMAT, PATH_FORMAT, SCHEMA_VERSIONS,
                     SOLVE_FORMAT, TRAIN_FORMAT, StorageError, problem_identity)
from .writer import CycleWriter, DiagramWriter, PathWriter, write_cycles, write_result, write_train

__all__ = ["StorageError", "PathWriter", "DiagramWriter", "CycleWriter", "DiagramFile", "PathFile", "SolveFile", "TrainFile",
           "CyclesFile", "ParameterFile", "load", "open_file", "write_result", "write_train", "write_cycles",
           "problem_identity", "LIBVER", "PATH_FORMAT", "SOLVE_FORMAT", "TRAIN_FORMAT", "DIAGRAM_FORMAT",
           "CYCLES_FORMAT", "PARAMETER_FORMAT", "SCHEMA_VERSIONS"]
