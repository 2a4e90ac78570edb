"""Corpus files for batch jobs: which files an input names, how each is read in chunks, how answers are written.

Inputs: parquet, jsonl (or .json lines), csv, or a directory of them. Outputs: parquet or jsonl,
chosen by suffix, with an id column and the answer columns of the task.

The output is written to `.NAME.partial` next to it and moved into place only when complete, so
an interrupted run leaves no output (and no half file to append to): running it again answers
every row once.
"""

from __future__ import annotations

import json
import os
from itertools import groupby
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from toolkit.config import PredictConfig
from toolkit.data.encoding import check_utf8
from toolkit.errors import DataError
from toolkit.progress import bar
from toolkit.runtime.answers import AnswerKind

INPUT_FORMATS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}
OUTPUT_FORMATS = (".parquet", ".jsonl")
ROW_COLUMN = "row"  # the id column when the input has none: the row's number in the input, from 0
# One entity of an NER answer (toolkit.runtime.entities) as a struct, so that readers get typed fields.
ENTITY = pa.struct([("entity", pa.string()), ("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                    ("score", pa.float64())])
# An answer field's type (toolkit.runtime.answers) as a column type: entities are a list of structs per text (in
# JSON lines, an array of objects).
FIELD_TYPES = {"entity_list": pa.list_(ENTITY), "string": pa.string(), "float": pa.float64()}


def read_as_input(path: Path, input_path: Path) -> bool:
    """Whether `input_path` (a file, or a directory read whole) names `path`, existing or not, as a file to read."""
    path, input_path = path.resolve(), input_path.resolve()
    if path == input_path:
        return True
    if input_path not in path.parents:
        return False
    return path.suffix.lower() in INPUT_FORMATS and not any(
        part.startswith((".", "_")) for part in path.relative_to(input_path).parts)


def input_files(input_path: Path) -> list[Path]:
    """The data files `input_path` names, in a stable order."""
    if not input_path.exists():
        raise DataError(f"{input_path}: no such file or directory; pass --input a parquet, jsonl or csv file, "
                        "or a directory of them.")
    if input_path.is_file():
        if input_path.suffix.lower() not in INPUT_FORMATS:
            raise DataError(f"{input_path}: unknown format {input_path.suffix or '(no suffix)'!r}; expected "
                            f"{', '.join(INPUT_FORMATS)} or a directory of such files.")
        return [input_path]
    files = sorted(p for p in input_path.rglob("*") if p.is_file() and read_as_input(p, input_path))
    if not files:
        raise DataError(f"{input_path}: no {', '.join(INPUT_FORMATS)} files in this directory; pass --input a "
                        "directory holding the texts.")
    return files


def file_format(path: Path, text_column: str):
    """Arrow's reader for `path`; CSV reads the text column as strings even when it looks like numbers."""
    kind = INPUT_FORMATS[path.suffix.lower()]
    if kind == "csv":
        return pads.CsvFileFormat(convert_options=pacsv.ConvertOptions(column_types={text_column: pa.string()}))
    return kind


def read_error(path: Path, error: Exception) -> DataError:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    kind = INPUT_FORMATS[path.suffix.lower()]
    return DataError(f"{path}: cannot read it as {kind} ({first_line}); check the file, or give it the suffix "
                     "of its format.")


def check_columns(path: Path, schema: pa.Schema, text_column: str, id_column: str | None) -> None:
    """Raise once naming every missing column and the columns the file has."""
    missing = [(name, flag) for name, flag in ((text_column, "--text-column"), (id_column, "--id-column"))
               if name is not None and name not in schema.names]
    if missing:
        names = " and ".join(f"{name!r}" for name, _ in missing)
        flags = " / ".join(flag for _, flag in missing)
        raise DataError(f"{path}: no column {names}; found {schema.names}. Pass {flags} to name the column.")
    kind = schema.field(text_column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise DataError(f"{path}: column {text_column!r} holds {kind}, expected strings; pass --text-column "
                        "the column of texts.")


def open_input(path: Path, text_column: str, id_column: str | None) -> pads.Dataset:
    """An Arrow dataset over one input file, its columns checked."""
    try:
        dataset = pads.dataset(path, format=file_format(path, text_column))
    except (pa.ArrowException, OSError) as error:
        raise read_error(path, error) from None
    check_columns(path, dataset.schema, text_column, id_column)
    return dataset


def input_columns(text_column: str, id_column: str | None) -> list[str]:
    return [text_column] + ([id_column] if id_column and id_column != text_column else [])


def read_batches(path: Path, text_column: str, id_column: str | None, batch_size: int):
    """Record batches of at most `batch_size` rows with the text (and id) columns, read as they are needed."""
    dataset = open_input(path, text_column, id_column)
    try:
        yield from dataset.to_batches(columns=input_columns(text_column, id_column), batch_size=batch_size)
    except (pa.ArrowException, OSError) as error:
        raise read_error(path, error) from None


def format_groups(files: list[Path]) -> list[tuple[str, list[Path]]]:
    """Consecutive files of one format, in order: the unit a job reads as one stream (one Ray dataset)."""
    return [(kind, list(group)) for kind, group in groupby(files, key=lambda p: INPUT_FORMATS[p.suffix.lower()])]


def read_chunks(paths: list[Path], text_column: str, id_column: str | None, chunk_size: int):
    """Tables of exactly `chunk_size` rows across `paths` (the last may be shorter), with the file each ends in.

    Exact chunks are what Ray Data's strict repartition makes too, so both runs put the same texts in
    each predictor call: int8-dynamic scales activations per ONNX run, and its answers then match
    row for row.
    """
    pending: list[pa.Table] = []
    rows = 0
    for path in paths:
        for batch in read_batches(path, text_column, id_column, chunk_size):
            pending.append(pa.Table.from_batches([batch]))
            rows += batch.num_rows
            while rows >= chunk_size:
                table = concat(pending, path)
                yield table.slice(0, chunk_size), path
                rest = table.slice(chunk_size)
                pending, rows = ([rest] if rest.num_rows else []), rest.num_rows
    if rows:
        yield concat(pending, paths[-1]), paths[-1]


def concat(tables: list[pa.Table], path: Path) -> pa.Table:
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise DataError(f"{path}: its columns {tables[-1].schema.types} differ from the earlier files' "
                        f"{tables[0].schema.types}; give every file the same column types.") from None


def count_rows(files: list[Path]) -> int | None:
    """Total rows when every file is parquet (from its footer); None when counting would read the texts."""
    if not all(INPUT_FORMATS[p.suffix.lower()] == "parquet" for p in files):
        return None
    try:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    except (pa.ArrowException, OSError):
        return None  # the reader will say what is wrong with the file


def answer_columns(predictor, texts: list) -> dict[str, list]:
    """The answer columns for `texts`: NER entities, or sentiment label and score; null for null.

    One predictor call: it sorts the texts' windows by length and runs them in its own batch size.
    """
    present = [i for i, text in enumerate(texts) if text is not None]
    answers = predictor([texts[i] for i in present]) if present else []
    kind = predictor.kind
    columns = {name: [None] * len(texts) for name in kind.field_names}
    for i, answer in zip(present, answers):
        for name, value in zip(kind.field_names, kind.to_fields(answer)):
            columns[name][i] = value
    return columns


def answers_to_table(columns: dict[str, list], kind: AnswerKind, ids: pa.Array | None = None,
                     id_name: str | None = None) -> pa.Table:
    """One output chunk: the id column (when given), then the task's answer columns with their fixed types."""
    names = list(kind.field_names)
    arrays = [pa.array(columns[name], type=FIELD_TYPES[type_name]) for name, type_name in kind.fields]
    if ids is not None:
        names, arrays = [id_name, *names], [ids, *arrays]
    return pa.Table.from_arrays(arrays, names=names)


def output_kind(output_path: Path) -> str:
    """"parquet" or "jsonl", from the output path's suffix."""
    if output_path.suffix.lower() not in OUTPUT_FORMATS:
        raise DataError(f"{output_path}: expected an output path ending in {' or '.join(OUTPUT_FORMATS)}, found "
                        f"{output_path.suffix or 'no suffix'!r}.")
    return output_path.suffix.lower().lstrip(".")


class OutputWriter:
    """Write answer tables, in order, to parquet (one schema: the first chunk's) or JSON lines."""

    def __init__(self, path: Path, kind: str, empty: pa.Table):
        self.path = path  # kind ("parquet" | "jsonl") is given: `path` may be a temporary name
        self.empty = empty  # written when there are no rows at all, so the file still has its columns
        self.rows = 0
        self._parquet = kind == "parquet"
        self._writer = None
        self._schema = None
        self._lines = None if self._parquet else open(path, "w", encoding="utf-8")

    def write(self, table: pa.Table, source: Path | str) -> None:
        if self._parquet:
            if self._writer is None:
                self._schema = table.schema
                self._writer = pq.ParquetWriter(self.path, self._schema)
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError(f"{source}: its columns {table.schema.types} differ from the earlier files' "
                                f"{self._schema.types}; give every file the same id column type.") from None
            self._writer.write_table(table)
        else:
            for row in table.to_pylist():
                self._lines.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        elif self._parquet:
            pq.write_table(self.empty, self.path)
        if self._lines is not None:
            self._lines.close()


def check_job(cfg: PredictConfig) -> list[Path]:
    """The input files of a job, once the output's suffix, an existing output and every file's columns are
    checked: a job refuses before it answers anything."""
    output_path, input_path = Path(cfg.output), Path(cfg.input)
    output_kind(output_path)
    if read_as_input(output_path, input_path):  # --overwrite would replace the corpus, or a file of it
        where = "is" if output_path.resolve() == input_path.resolve() else "would be read as part of"
        raise DataError(f"--output {output_path} {where} --input {input_path}: the answers must not replace the "
                        "texts. Write them outside the input (or in a folder of it whose name starts with _).")
    if output_path.exists() and not cfg.overwrite:
        raise DataError(f"{output_path} already exists; pass --overwrite to replace it, or another --output.")
    files = input_files(input_path)
    for path in files:
        if INPUT_FORMATS[path.suffix.lower()] != "parquet":  # Arrow reads bad bytes in JSON without a word
            check_utf8(path)
        open_input(path, cfg.text_column, cfg.id_column)
    return files


def local_tables(predictor, files: list[Path], cfg: PredictConfig):
    """Answer tables in input order, one per chunk of `cfg.chunk_size` rows, with this process's predictor."""
    for _, paths in format_groups(files):
        for chunk, path in read_chunks(paths, cfg.text_column, cfg.id_column, cfg.chunk_size):
            columns = answer_columns(predictor, chunk.column(cfg.text_column).to_pylist())
            ids = chunk.column(cfg.id_column) if cfg.id_column else None
            yield answers_to_table(columns, predictor.kind, ids, cfg.id_column), path


def write_answers(tables, cfg: PredictConfig, kind: AnswerKind, files: list[Path]) -> int:
    """Write (table, source) pairs to `cfg.output` through its `.partial` name; return the rows written."""
    output_path = Path(cfg.output)
    id_name = cfg.id_column or ROW_COLUMN
    empty = answers_to_table({name: [] for name in kind.field_names}, kind, pa.array([], pa.int64()), id_name)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.name}.partial")
    writer = OutputWriter(partial, output_kind(output_path), empty)
    progress = bar(count_rows(files), output_path.name, unit="texts")
    try:
        for table, source in tables:
            if cfg.id_column is None:
                table = table.add_column(0, ROW_COLUMN, pa.array(range(writer.rows, writer.rows + table.num_rows),
                                                                 pa.int64()))
            writer.write(table, source)
            progress.update(table.num_rows)
        writer.close()
        os.replace(partial, output_path)
    except BaseException:  # interrupted or failed: leave nothing a re-run could mistake for output
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
    return writer.rows
