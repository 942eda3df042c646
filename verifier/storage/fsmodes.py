"""Files only the service account may read: the instance directory and the SQLite database.

The instance directory holds the database (every member's name, complaints with shoppers'
contacts) and the keys (import previews, once kept here too, are now in the database); the default umask left them 0644/0755, readable by
every local user. What we create is created private (0700 directories, 0600 files), and what an
older release left open is tightened at start-up when it is ours.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

_logger = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    if info.st_uid != os.getuid() or not stat.S_IMODE(info.st_mode) & 0o077:
        return  # not ours to change, or already private
    try:
        path.chmod(mode)
        _logger.warning("made %s private (mode %o)", path, mode)
    except OSError as exc:
        _logger.warning("could not make %s private: %s", path, exc)


def private_dir(path: Path, *, tighten: bool = True) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten it if it exists and is ours."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        created.chmod(DIR_MODE)  # mkdir's mode is masked by the umask
    if tighten:
        _tighten(path, DIR_MODE)
    return path


def private_database(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (its journals copy its mode); tighten old ones."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        _tighten(candidate, FILE_MODE)


def remove_old_previews(instance: Path) -> None:
    """Delete the import previews older releases left in ``instance/imports`` (members' names, never deleted).

    Previews now live in the database (``import_previews``) and expire there.
    """
    folder = instance / "imports"
    if not folder.is_dir() or folder.is_symlink():
        return
    removed = 0
    for old in folder.glob("*.csv"):
        try:
            if old.is_file() and not old.is_symlink() and old.stat().st_uid == os.getuid():
                old.unlink()
                removed += 1
        except OSError as exc:
            _logger.warning("could not remove the old import preview %s: %s", old, exc)
    if removed:
        _logger.warning("removed %d import previews an older release left in %s", removed, folder)
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty: something else is kept there
