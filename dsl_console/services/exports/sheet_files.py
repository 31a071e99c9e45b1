"""openpyxl's working files kept beside the export, private, and removed whatever happens.

In write-only mode openpyxl writes each sheet's XML to a temporary file first, in the system's
temporary folder (`/tmp/openpyxl.*`): an XLSX log of 100,000 cases left there in plaintext by
an export killed part-way, readable by whoever can read /tmp. Here those files are made
(0600, by mkstemp) in the target's own folder, which the export's file goes to anyway, and
removed when the export ends, finished or not (or, if it is killed outright, by the next export
into that folder: atomic.work_file).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import work_file

_LOCK = threading.Lock()  # openpyxl's hook is one module global: one XLSX export at a time


@contextlib.contextmanager
def sheet_files_beside(folder: Path) -> Iterator[list[str]]:
    """Within the block, openpyxl's sheet files are made in `folder`; yields their names."""
    from openpyxl.worksheet import _writer

    if not folder.is_dir():
        # Said before openpyxl's first sheet file is made there, which would fail with the
        # name of that file instead of the folder.
        raise InputError(f"cannot write there: the folder {folder} does not exist")
    made: list[str] = []

    def beside(suffix: str = "") -> str:
        fd, name = work_file(folder, "openpyxl", suffix)
        os.close(fd)
        _writer.ALL_TEMP_FILES.append(name)  # openpyxl removes it when the sheet is saved
        made.append(name)
        return name

    with _LOCK:
        original = _writer.create_temporary_file
        _writer.create_temporary_file = beside
        try:
            yield made
        finally:
            _writer.create_temporary_file = original
            for name in made:
                with contextlib.suppress(OSError):
                    os.remove(name)
                with contextlib.suppress(ValueError):
                    _writer.ALL_TEMP_FILES.remove(name)
