"""Text files must be UTF-8: find the first line that is not, before a reader fails on it far from the file."""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import DataError


def check_utf8(path: Path) -> None:
    """Raise naming the file, the line and the byte when `path` is not UTF-8 text.

    Arrow's JSON reader (and so `datasets`) keeps undecodable bytes in string columns and fails only
    when a row is turned into Python, with a UnicodeDecodeError that names neither file nor line.
    """
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(f"{path}, line {number}: not UTF-8 text (byte 0x{line[error.start]:02x} at column "
                                f"{error.start + 1}); save the file as UTF-8, e.g. iconv -f latin1 -t utf-8.") from None
