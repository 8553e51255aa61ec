"""Atomic file writes: a short temp file beside the target, fsync, rename; the normal mode; errors name your path.

Every file the package (and tools/nbstrip.py) writes goes through `write_bytes` or `write_text`, so a crash
mid-write never leaves a half-written notebook or checkpoint, and the result looks like a normal write:
mode 0o666 minus the umask for a new file (0o644 under umask 022), the old file's mode on overwrite.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path


def target(path: str | os.PathLike) -> Path:
    """The file a write to `path` lands in: `path` itself, or the end of its symlink chain (links are kept).

    Used by atomic.ensure_folder and atomic.write_bytes; not called from a notebook.
    """
    if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
        raise ValueError(f"path must be a file name (str or pathlib.Path), got {type(path).__name__}")
    text = os.fspath(path)
    if isinstance(text, bytes) or not text.strip():
        raise ValueError(f"path must name a file, got {text!r}")
    if text.endswith(("/", os.sep)):
        raise ValueError(f"path must name a file, not a folder, got {text!r}")
    p = Path(text)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (/proc), else by a set-and-restore."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _mode_for(dest: Path, shown: str) -> int:
    """The mode the written file gets: the existing file's (refusing read-only ones), else 0o666 & ~umask."""
    try:
        st = dest.stat()
    except FileNotFoundError:
        return 0o666 & ~_umask()
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"{shown} is a folder; give a file name inside it", shown)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"path must be a regular file, got {shown!r} (a device, socket or pipe)")
    if not st.st_mode & stat.S_IWUSR or not os.access(dest, os.W_OK):
        raise PermissionError(errno.EACCES, f"{shown} is read-only (mode {stat.S_IMODE(st.st_mode):04o}); "
                              "make it writable (chmod u+w) if you mean to replace it", shown)
    return stat.S_IMODE(st.st_mode)


def _named(e: OSError, shown: str) -> OSError:
    """The same kind of OSError, naming the user's path instead of the hidden temp file."""
    why = e.strerror or str(e)
    err = type(e)(e.errno, f"cannot write {shown}: {why} (in folder {os.path.dirname(shown) or '.'})", shown)
    return err


def ensure_folder(path: str | os.PathLike, create: bool = False) -> None:
    """Check (or, with `create`, make) the folder a write to `path` goes into; errors name `path` and the folder.

    Used by atomic.write_bytes, checkpoint.save; not called from a notebook.
    """
    dest, shown = target(path), os.fspath(path)
    folder = dest.parent
    existing = next(p for p in (folder, *folder.parents) if os.path.lexists(p) or p == p.parent)
    if existing.exists() and not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {shown}: {existing} is a file, not a folder", shown)
    if folder.is_dir():
        return
    if not create:
        raise FileNotFoundError(errno.ENOENT, f"cannot write {shown}: the folder {folder} does not exist", shown)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _named(e, shown) from None


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (temp beside it, fsync, rename), keeping the normal mode: -> the path.

    Used by atomic.write_text, checkpoint.save; not called from a notebook.
    """
    dest = target(path)
    shown = os.fspath(path)
    ensure_folder(path)
    mode = _mode_for(dest, shown)
    tmp = None
    try:
        for _ in range(100):  # a short random name: a long but valid target name must still fit NAME_MAX
            tmp = dest.parent / f".{secrets.token_hex(4)}.tmp"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, "no free temp name", shown)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        tmp = None
        _fsync_dir(dest.parent)
    except OSError as e:
        raise _named(e, shown) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically in `encoding` (UTF-8 by default): -> the path.

    Used by tools/nbstrip.py and benchmarks/_results.py; not called from a notebook.
    """
    return write_bytes(path, text.encode(encoding))


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (fsync the folder); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
