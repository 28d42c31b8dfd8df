"""The one atomic writer: files and folders appear whole or not at all.

Every file skmdl writes (model artifacts, library indexes, saved estimators,
catalogues, CLI tables, CSP results, caches) goes through :func:`atomic_file` or
:func:`atomic_dir`. Both write into a temporary sibling of the target (same file
system, so the final rename is atomic), fsync what was written, give it the
permissions the user's umask asks for (``mkstemp``/``mkdtemp`` make private
ones), and swap it in:

* a file by ``os.replace``: readers see the old file or the new one, never a part;
* a folder by ``renameat2(RENAME_EXCHANGE)`` where Linux offers it, so the target
  path never stops existing; elsewhere by two renames, with the old folder kept
  aside until the new one is in place (and put back if that fails).

On any exception, ``KeyboardInterrupt`` included, the temporary sibling is removed
and the target is left as it was. A process killed mid-write leaves at most a
hidden ``.<name>.*.tmp`` sibling, never a broken target.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def umask() -> int:
    """The process's umask (read without changing it for longer than one call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _finish_tree(root: Path) -> None:
    """fsync every file under ``root`` and give files and folders the umask's permissions."""
    mask = umask()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            _fsync_path(p)
            os.chmod(p, 0o666 & ~mask)
        for name in dirnames:
            os.chmod(Path(dirpath) / name, 0o777 & ~mask)
    os.chmod(root, 0o777 & ~mask)
    _fsync_path(root)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2``); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _swap_in_dir(tmp: Path, target: Path) -> None:
    """Put folder ``tmp`` at ``target``, replacing what is there; ``tmp`` is consumed."""
    if not target.exists():
        os.rename(tmp, target)
        return
    if target.is_dir() and _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(aside, target)
        raise
    if aside.is_dir():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        aside.unlink(missing_ok=True)


@contextmanager
def atomic_file(path):
    """Yield a temporary sibling path to write; on success it replaces ``path``.

    Parameters
    ----------
    path : str or Path
        The file to (re)write. Its folder is created if missing.

    Yields
    ------
    Path
        Where to write (any writer: ``open``, ``DataFrame.to_csv``, safetensors).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("new")
    >>> (folder / "a.txt").read_text()
    'new'
    >>> try:
    ...     with atomic_file(folder / "a.txt") as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise RuntimeError("interrupted")
    ... except RuntimeError:
    ...     pass
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('new', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_path(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextmanager
def atomic_dir(path):
    """Yield a temporary sibling folder to fill; on success it replaces folder ``path``.

    Parameters
    ----------
    path : str or Path
        The folder to (re)create. An existing folder there is replaced as a whole.

    Yields
    ------
    Path
        The empty temporary folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_dir(root / "model") as tmp:
    ...     _ = (tmp / "card.json").write_text("{}")
    >>> with atomic_dir(root / "model") as tmp:
    ...     _ = (tmp / "weights.bin").write_bytes(b"0")
    >>> sorted(p.name for p in (root / "model").iterdir()), sorted(p.name for p in root.iterdir())
    (['weights.bin'], ['model'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _finish_tree(tmp)
        _swap_in_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_path(path.parent)
