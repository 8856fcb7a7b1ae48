"""Reading a user's table as people keep it: CSV or TSV (header detected or stated, delimiter
sniffed, decimal commas read as numbers where ``;`` or a tab separates the fields), Parquet,
``.npy`` (an N x D array) and ``.npz`` (one N x D array, or one 1-D array per column); a pandas
index that ``df.to_csv()`` wrote is left out. Everything is read by pandas (its C parser for CSV,
pyarrow for Parquet) or numpy; this module only decides how to call them and turns every failure
into one line that names the file, and the column where there is one."""
from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import VeeganError, one_line

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
TABLE_SUFFIXES = (*CSV_SUFFIXES, ".parquet", ".pq", ".npy", ".npz")
SNIFF_BYTES = 64 * 1024
SNIFF_ROWS = 20
CHUNK_ROWS = 100_000
DELIMITERS = ",\t;| "
# a number written with a decimal comma, its thousands grouped by dots or not: 3,5  -0,25  1.234,5  2,5e-3
DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+(?:[eE][+-]?\d+)?")
INTEGER = re.compile(r"[+-]?\d+")
# a number with its thousands grouped by commas, 1,000 or 25,000,000: a decimal comma only where other
# cells of the file write one unambiguously (3,5), else thousands
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
PANDAS_INDEX_NAMES = ("", "Unnamed: 0")  # the header of the index column that df.to_csv() writes, as written and as read


def read_table(path: str | Path, header: str = "auto", delimiter: str | None = None,
               notes: list[str] | None = None, drop_index: bool = True, comma_numbers: bool = True) -> pd.DataFrame:
    """The table in ``path`` as a DataFrame with string column names. ``header`` (CSV only):
    ``auto`` detects a header row, ``yes`` / ``no`` state it; columns without a header are
    named c0, c1, ... With ``drop_index``, a first column that is a pandas index
    (:func:`drop_pandas_index`) is left out, and ``notes``, if given, receives a line that says
    so; with ``comma_numbers``, a CSV's cells such as 3,5 and 1,000 are numbers
    (:func:`_comma_numbers`). An empty table, or a file that does not parse, raises
    :class:`VeeganError`."""
    path = Path(path)
    if not path.is_file():
        raise VeeganError(f"data file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise VeeganError(f"data file {path} must end in one of {', '.join(TABLE_SUFFIXES)}")
    try:
        if suffix in CSV_SUFFIXES:
            frame = _read_csv(path, header, delimiter, comma_numbers)
        elif suffix in (".parquet", ".pq"):
            refuse_repeated_names(pq.read_schema(path).names, f"data file {path}")  # else pyarrow fails on "Multiple matches"
            # each Arrow column handed to pandas and freed in turn, not the whole table held twice
            frame = pd.read_parquet(path, to_pandas_kwargs={"self_destruct": True, "split_blocks": True})
        else:
            frame = _read_numpy(path)
    except VeeganError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise VeeganError(f"data file {path} cannot be read as a table (truncated or corrupt?): {one_line(exc)}") from None
    except Exception as exc:  # pyarrow's own errors (ArrowInvalid and kin) do not share a base with the above
        if type(exc).__module__.startswith("pyarrow"):
            raise VeeganError(f"data file {path} cannot be read as a table (truncated or corrupt?): {one_line(exc)}") from None
        raise
    if frame.shape[1] == 0 or len(frame) == 0:
        raise VeeganError(f"data file {path} holds an empty table ({len(frame)} rows, {frame.shape[1]} columns)")
    frame.columns = [str(name) for name in frame.columns]  # names repeated are refused before reading
    release_arrow_memory()  # what reading used beside the table
    return drop_pandas_index(frame, path, notes if notes is not None else []) if drop_index else frame


def release_arrow_memory() -> None:
    """Hand back to the system the memory that Arrow's allocator keeps after a table it read is
    freed (a read Parquet file, or a CSV's text columns): as large as the table, else held for
    the whole run."""
    pa.default_memory_pool().release_unused()


def drop_pandas_index(frame: pd.DataFrame, path: Path, notes: list[str]) -> pd.DataFrame:
    """``frame`` without its first column when that is the index ``df.to_csv()`` writes unless
    told ``index=False``: no name (``""``, read as ``Unnamed: 0``), a distinct integer in every
    row (0, 1, 2, ... or any others), and more columns beside it; a line in ``notes`` says so."""
    first = frame.columns[0]
    column = frame[first]
    if first not in PANDAS_INDEX_NAMES or frame.shape[1] < 2 or column.dtype.kind not in "iu" or not column.is_unique:
        return frame
    notes.append(f"{path.name}: its first column has no name and a distinct integer in every row, the pandas index that "
                 "df.to_csv() writes: it is left out (name it in the header row to train on it)")
    return frame.drop(columns=first)


def refuse_repeated_names(names: list[str], source: str) -> None:
    """One line naming the columns that ``names`` holds more than once, ``source`` being the
    table's description ("data file x.csv"). pandas would rename a CSV's second ``a`` to ``a.1``,
    and the samples would come back under a name the user never gave."""
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise VeeganError(f"{source} names a column twice: {', '.join(twice)}")


def _read_csv(path: Path, header: str, delimiter: str | None, comma_numbers: bool = True) -> pd.DataFrame:
    """pandas' C parser, after sniffing the delimiter, the header row and a decimal comma from
    the file's first 64 KiB, in chunks of 100,000 rows whose decimal columns are kept as
    float32, the precision the networks use: about pandas' time in a third of its memory
    (benchmarks/read_csv.py; passing dtype=float32 to the parser is twice as slow in pandas 3).
    A column that is text in one chunk and numbers in another ends as text, and the checks name
    its first text cell; numbers with a decimal comma or thousands commas are read as numbers
    (:func:`_comma_numbers`) unless ``comma_numbers`` is False."""
    head = _head_lines(path)
    if not head:
        raise VeeganError(f"data file {path} is empty")
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(head)
    rows = [row for row in csv.reader(head, delimiter=delimiter, skipinitialspace=True)]
    has_header = looks_like_header(rows) if header == "auto" else header == "yes"
    width = len(rows[0])
    if has_header:
        refuse_repeated_names([name.strip() for name in rows[0]], f"data file {path}")
    names = None if has_header else [f"c{i}" for i in range(width)]
    cells = [cell.strip() for row in rows[1 if has_header else 0:] for cell in row]
    options = {"sep": r"\s+" if delimiter == " " else delimiter, "header": 0 if has_header else None, "names": names,
               "decimal": "," if comma_numbers and delimiter != "," and _decimal_commas(cells) else "."}
    with pd.read_csv(path, chunksize=CHUNK_ROWS, **options) as reader:
        chunks = [_decimals_as_float32(_comma_numbers(chunk, path, delimiter, options["decimal"] == ",")
                                       if comma_numbers else chunk) for chunk in reader]
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _decimals_as_float32(chunk: pd.DataFrame) -> pd.DataFrame:
    """The chunk with its float64 columns as float32 (the rest as parsed)."""
    decimals = {name: np.float32 for name in chunk.columns if chunk[name].dtype == np.float64}
    return chunk.astype(decimals) if decimals else chunk


def _decimal_commas(cells: list[str]) -> bool:
    """Whether the sampled cells write numbers with a decimal comma (3,5), and none with a
    decimal point: then the parser reads the comma as the decimal mark."""
    return (any(DECIMAL_COMMA.fullmatch(cell) and not THOUSANDS.fullmatch(cell) for cell in cells)
            and not any("." in cell and _is_float(cell) for cell in cells))


def _comma_numbers(chunk: pd.DataFrame, path: Path, delimiter: str, decimal_comma: bool) -> pd.DataFrame:
    """The chunk with its text columns of decimal-comma numbers (3,5 or 1.234,5, integers among
    them) as numbers, where the fields are not separated by commas; in a file without a decimal
    comma (``decimal_comma`` False), a column of thousands grouped by commas (1,000) as those
    numbers. A column that is mostly such numbers but cannot be read so (among commas between
    fields, or beside 1.5) is refused in one line that names the column, the cell and the fix."""
    for name in chunk.columns:
        if chunk[name].dtype.kind != "O":
            continue
        text = chunk[name].dropna().astype(str).str.strip()
        if not decimal_comma and (text.str.fullmatch(THOUSANDS.pattern) | text.str.fullmatch(INTEGER.pattern)).all() \
                and text.str.contains(",", regex=False).any():
            plain = chunk[name].astype(str).str.strip().str.replace(",", "", regex=False)
            chunk[name] = pd.to_numeric(plain.where(chunk[name].notna()))
            continue
        comma = text.str.fullmatch(DECIMAL_COMMA.pattern)
        if not comma.any():
            continue
        readable = comma | text.str.fullmatch(INTEGER.pattern)
        if delimiter != "," and readable.all():
            plain = chunk[name].astype(str).str.strip().str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            chunk[name] = pd.to_numeric(plain.where(chunk[name].notna()))
        elif comma.mean() >= 0.5:
            source = f"column {name!r} of data file {path}"
            if delimiter == ",":
                raise VeeganError(f"{source} holds numbers written with a comma ({text[comma].iloc[0]!r} in data row "
                                  f"{comma.idxmax() + 1}), which a file of comma-separated fields cannot read as numbers: "
                                  "write them with a decimal point, or separate the fields with ';'")
            raise VeeganError(f"{source} holds numbers with a decimal comma, and {text[~readable].iloc[0]!r} in data row "
                              f"{(~readable).idxmax() + 1}: write every number in it alike (3,5 or 1.234,5)")
    return chunk


def _head_lines(path: Path) -> list[str]:
    """The file's first complete lines (up to 64 KiB), blank ones dropped."""
    with path.open("r", newline="", errors="strict") as handle:
        text = handle.read(SNIFF_BYTES)
    lines = text.splitlines()
    if len(text) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    return [line for line in lines if line.strip()][: SNIFF_ROWS + 1]


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits every sampled line into the same number (> 1) of fields,
    preferring , tab ; | space in that order, but another over ',' when the fields it makes hold
    decimal commas (3,5;4,25); ',' for a one-column file."""
    even = {}
    for candidate in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=candidate, skipinitialspace=candidate == " "))
        if len({len(row) for row in rows}) == 1 and len(rows[0]) > 1:
            even[candidate] = [cell.strip() for row in rows for cell in row]
    commas = [candidate for candidate, cells in even.items() if candidate != "," and _decimal_commas(cells)]
    if commas or even:
        return (commas or list(even))[0]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_number(cell: str) -> bool:
    """A number as Python writes it (3.5) or with a decimal comma (3,5)."""
    return _is_float(cell) or DECIMAL_COMMA.fullmatch(cell) is not None


def looks_like_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: none of its cells is a number, or it is the
    header ``df.to_csv()`` writes for unnamed columns (an empty cell over the index, then 0, 1,
    2, ...). (A table without any number is taken to have a header, as pandas guesses; say
    ``header="no"`` otherwise.)"""
    first = [cell.strip() for cell in rows[0]]
    if first[0] in PANDAS_INDEX_NAMES and first[1:] == [str(i) for i in range(len(first) - 1)]:
        return True
    return not any(_is_number(cell) for cell in first)


def _read_numpy(path: Path) -> pd.DataFrame:
    """An N x D .npy array (columns c0, c1, ...), or an .npz of one such array or of equal-length
    1-D arrays (one per column, named by key)."""
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        return _array_frame(loaded, path)
    if path.suffix.lower() == ".npy":
        loaded.close()
        raise VeeganError(f"data file {path} holds an archive of arrays (.npz?), not one N x D array")
    with loaded:
        arrays = {key: loaded[key] for key in loaded.files}
    if len(arrays) == 1:
        return _array_frame(next(iter(arrays.values())), path)
    lengths = {key: value.shape for key, value in arrays.items()}
    if any(value.ndim != 1 for value in arrays.values()) or len({value.shape for value in arrays.values()}) != 1:
        raise VeeganError(f"data file {path} holds several arrays {lengths}: it must hold one N x D array, "
                          "or one 1-D array per column, all of the same length")
    return pd.DataFrame(arrays)


def _array_frame(array: np.ndarray, path: Path) -> pd.DataFrame:
    if array.ndim != 2:
        raise VeeganError(f"data file {path} must hold an N x D array, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise VeeganError(f"data file {path} holds {array.dtype} values, not real numbers")
    return pd.DataFrame(array, columns=[f"c{i}" for i in range(array.shape[1])])
