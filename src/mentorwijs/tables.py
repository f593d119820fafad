"""Deterministic writers for the tables the pipeline shares.

Every output table is written whole or not at all (to a temporary sibling, then renamed), so
a failure never leaves a partial file. CSV tables follow the project's conventions: UTF-8,
comma, decimal point, numbers to 8 significant digits, ``\\n`` line ends, missing values as
empty cells, rows sorted by the given key columns. The same table gives the same bytes on
every run and platform.
"""

from __future__ import annotations

import math
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SIGNIFICANT_DIGITS = 8


#: Mode of a private file (identifiers, linkage tables): owner read and write only, whatever the umask.
PRIVATE_MODE = 0o600
#: Mode asked for any other file; the process umask takes away from it (0644 under the usual 022),
#: as for any file a program creates, so colleagues and output checkers can read the outputs.
SHARED_MODE = 0o666


@contextmanager
def atomic_stream(path: str | Path, *, private: bool = False) -> Iterator[BinaryIO]:
    """:func:`atomic_write` for a payload written piece by piece: a binary stream to a temporary
    sibling, renamed to ``path`` when the block ends without an error (removed otherwise)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = PRIVATE_MODE if private else SHARED_MODE
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.partial"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
        except FileExistsError:  # pragma: no cover - a 48-bit name already taken
            continue
        break
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        if private:
            os.chmod(temporary, PRIVATE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, payload: bytes, *, private: bool = False) -> Path:
    """Write ``payload`` to ``path`` through a temporary sibling and a rename: a reader never sees
    a partial file, and a failure leaves the previous file (if any) untouched.

    The file gets the usual mode of a new file (0666 less the umask), or 0600 when ``private``
    (identifier and linkage files). The temporary file is opened with that mode from the start
    (never ``mkstemp``, whose 0600 the rename would carry into every output), so a private file
    is never readable by others, not even for a moment.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = PRIVATE_MODE if private else SHARED_MODE
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.partial"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
        except FileExistsError:  # pragma: no cover - a 48-bit name already taken
            continue
        break
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        if private:
            os.chmod(temporary, PRIVATE_MODE)  # also where a file system ignores the mode of os.open
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def format_number(value: object) -> str:
    """A cell as text: integers as integers, floats to 8 significant digits (no ``-0``), dates as
    ``YYYY-MM-DD``, missing as ''."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0:
            return "0"
        text = format(x, f".{SIGNIFICANT_DIGITS}g")
        return text
    return str(value)


def _quote(cell: str) -> str:
    if any(ch in cell for ch in (",", '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_text(df: pd.DataFrame) -> str:
    """The project CSV text of a table (header line, then one line per row, in the given order)."""
    lines = [",".join(_quote(str(c)) for c in df.columns)]
    columns = [df[c].tolist() for c in df.columns]
    for row in zip(*columns) if columns else []:
        lines.append(",".join(_quote(format_number(v)) for v in row))
    return "\n".join(lines) + "\n"


def write_csv_table(df: pd.DataFrame, path: str | Path, *, sort_by: Sequence[str] | None = None,
                    private: bool = False) -> Path:
    """Write ``df`` as a project CSV table (see the module docstring); returns the path.

    ``private``: mode 0600, for identifiers (:func:`atomic_write`)."""
    frame = df.sort_values(list(sort_by), kind="mergesort") if sort_by else df
    return atomic_write(path, csv_text(frame).encode("utf-8"), private=private)


def write_parquet(df: pd.DataFrame, path: str | Path, *, private: bool = False) -> Path:
    """Write ``df`` (without its index) as Parquet, atomically and byte-deterministically
    (``private``: mode 0600, for identifiers)."""
    import io

    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return atomic_write(path, buffer.getvalue(), private=private)


#: Rows per row group of :func:`write_parquet` (pyarrow's default for ``pq.write_table``).
PARQUET_ROW_GROUP_ROWS = 1024 * 1024


def write_parquet_pieces(pieces: Sequence[pd.DataFrame], path: str | Path, *, private: bool = False,
                         whole_below: int = 4 * PARQUET_ROW_GROUP_ROWS) -> Path:
    """The bytes of :func:`write_parquet` of the pieces stacked (same columns and dtypes, index
    ignored), without stacking them: each row group is put together from the pieces and written
    in turn, so only one row group is held twice. Below ``whole_below`` rows the pieces are
    simply stacked and written whole."""
    with ParquetPieces(path, private=private, whole_below=whole_below) as sink:
        for piece in pieces:
            sink.add(piece)
    return Path(path)


class ParquetPieces:
    """:func:`write_parquet_pieces` for pieces that arrive one by one (a context manager):
    ``add`` each piece in order; full row groups are written as soon as there are more than
    ``whole_below`` rows, the rest when the block ends. An error inside the block leaves no file
    (and the previous one, if any, untouched). The bytes are those of :func:`write_parquet` of
    the pieces stacked."""

    def __init__(self, path: str | Path, *, private: bool = False, whole_below: int = 4 * PARQUET_ROW_GROUP_ROWS):
        from contextlib import ExitStack

        self.path, self.private, self.whole_below = Path(path), private, whole_below
        self.buffer: list[pd.DataFrame] = []
        self.buffered = 0
        self.rows = 0
        self.writer = None
        self.stack = ExitStack()

    def __enter__(self) -> "ParquetPieces":
        return self

    def add(self, piece: pd.DataFrame) -> None:
        if not self.buffer or len(piece):
            self.buffer.append(piece)
            self.buffered += len(piece)
            self.rows += len(piece)
        if self.writer is None and self.buffered >= self.whole_below:
            stream = self.stack.enter_context(atomic_stream(self.path, private=self.private))
            schema = pa.Schema.from_pandas(self.buffer[0].iloc[:0].reset_index(drop=True), preserve_index=False)
            self.writer = self.stack.enter_context(pq.ParquetWriter(stream, schema, compression="zstd"))
        if self.writer is not None:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        while self.buffered >= PARQUET_ROW_GROUP_ROWS or (final and self.buffered):
            n = min(PARQUET_ROW_GROUP_ROWS, self.buffered)
            taken, need = [], n
            while need:
                head = self.buffer[0]
                if len(head) <= need:
                    taken.append(self.buffer.pop(0))
                    need -= len(head)
                else:
                    taken.append(head.iloc[:need])
                    self.buffer[0] = head.iloc[need:]
                    need = 0
            self.buffered -= n
            group = pd.concat(taken, ignore_index=True) if len(taken) > 1 else taken[0].reset_index(drop=True)
            self.writer.write_table(pa.Table.from_pandas(group, preserve_index=False).combine_chunks())

    def __exit__(self, kind, value, traceback) -> bool:
        if kind is None:
            if self.writer is None:
                pieces = [p for p in self.buffer if len(p)] or self.buffer[:1]
                write_parquet(pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0], self.path,
                              private=self.private)
            else:
                self._flush(final=True)
        self.buffer = []
        return bool(self.stack.__exit__(kind, value, traceback))


def read_parquet(path: str | Path, columns: Sequence[str] | None = None, *, release: bool = False) -> pd.DataFrame:
    """Read a Parquet table written by :func:`write_parquet` (only ``columns``, when given).

    ``release``: each column's Arrow memory is given back as soon as it is converted (pyarrow's
    ``self_destruct``, one block per column), so a large table (the month tables) is not held
    twice while it is read; the frame is the same.

    Read on the calling thread, without pyarrow's background read-ahead: a short-lived step that
    exits while a read-ahead task of the IO thread pool is still alive can be aborted at
    interpreter shutdown (a rare SIGABRT seen once in a workflow run).
    """
    from mentorwijs.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError("table not found", file=path, hint="run the step that writes it first")
    try:
        table = pq.read_table(path, columns=None if columns is None else list(columns), use_threads=False,
                              pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as exc:  # a truncated or foreign file
        raise InputError(f"cannot be read as a Parquet table ({str(exc).splitlines()[0]})", file=path,
                         hint="the file is damaged or incomplete: copy it again, or run the step "
                              "that writes it again") from None
    if release:
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
        del table
        pa.default_memory_pool().release_unused()  # the Arrow pool keeps freed memory otherwise
        return frame
    return table.to_pandas()
