"""The command-line boundary shared by every ``baq-*`` tool: malformed input gives ONE line,
``baq-X: error: <what and where>``, on stderr and exit code 2 -- never a traceback.

Readers raise :class:`BaqError` (or a subclass: ``CheckpointError``, ``TokenizerError``,
``FormatError``, ...) where they detect a problem, with a message naming the file and the
place in it. :func:`run` catches those and ``OSError`` (a file that cannot be opened,
read or written) once, at the boundary; any other exception is a bug and keeps its
traceback. Argument errors go through :class:`ArgumentParser`, which also prints one
line (``--help`` shows the usage) and exits 2. Exit code 1 stays "ran, but a result
failed" (a sweep row, an incomplete results matrix).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

EXIT_INPUT = 2  # malformed input or options, as argparse


class BaqError(Exception):
    """Malformed input, reported where it was found: the message says what and where."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` with a one-line error (no usage block): ``prog: error: message``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {one_line(message)} (see --help)\n")


def one_line(message: object) -> str:
    """The message on one line (inner line breaks become ' | ')."""
    return " | ".join(ln.strip() for ln in str(message).splitlines() if ln.strip())


def describe_os_error(e: OSError) -> str:
    """``path: reason`` for an OSError (``[Errno 2] ...`` without the errno noise)."""
    if e.filename is not None and e.strerror:
        where = f"{e.filename}" + (f" -> {e.filename2}" if e.filename2 is not None else "")
        return f"{where}: {e.strerror}"
    return str(e)


def read_text(path: str | Path, what: str = "text") -> str:
    """A UTF-8 text file; bytes that are not UTF-8 are a located :class:`BaqError`.
    (``OSError`` propagates: :func:`run` reports it with the path.)"""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise BaqError(f"{path}: not UTF-8 {what}: byte 0x{data[e.start]:02x} at offset "
                       f"{e.start} (line {line})") from None


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """A JSON document; invalid JSON is a located :class:`BaqError`."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BaqError(f"{path}:{e.lineno}:{e.colno}: not a valid {what}: {e.msg}") from None
    except RecursionError:
        raise BaqError(f"{path}: not a valid {what}: nested too deeply") from None


def run(prog: str, main: Callable[[Sequence[str] | None], int],
        argv: Sequence[str] | None = None) -> int:
    """``main(argv)`` with known input errors turned into one line and exit code 2."""
    try:
        return main(argv)
    except BaqError as e:
        message = one_line(e)
    except OSError as e:
        message = one_line(describe_os_error(e))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_INPUT
