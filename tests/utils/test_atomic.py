"""The one atomic writer: a killed or failing write leaves the old file or folder intact."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from skmdl.utils.atomic import atomic_dir, atomic_file, write_text

KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from skmdl.utils.atomic import atomic_dir, atomic_file
    target, kind = Path(sys.argv[1]), sys.argv[2]
    ctx = atomic_file(target) if kind == "file" else atomic_dir(target)
    with ctx as tmp:
        out = tmp if kind == "file" else tmp / "card.json"
        with open(out, "w") as fh:
            fh.write("half-written")
            fh.flush()
            print("writing", flush=True)
            time.sleep(60)
""")


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_kill_mid_write_keeps_the_old_one(tmp_path, kind):
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("old")
    else:
        target.mkdir()
        (target / "card.json").write_text("old")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), kind],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    old = target if kind == "file" else target / "card.json"
    assert old.read_text() == "old"
    if kind == "dir":
        assert sorted(p.name for p in target.iterdir()) == ["card.json"]


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_exception_removes_the_temporary_sibling(tmp_path, kind):
    target = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with (atomic_file(target) if kind == "file" else atomic_dir(target)) as tmp:
            (tmp if kind == "file" else tmp / "x").write_text("partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "t.txt", "x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "sub").mkdir()
            (tmp / "sub" / "f").write_text("y")
    finally:
        os.umask(old)
    assert (tmp_path / "t.txt").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "d" / "sub").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "d" / "sub" / "f").stat().st_mode & 0o777 == 0o640


def test_folder_is_never_missing_during_a_swap(tmp_path):
    """A reader polling the folder while it is replaced 50 times always finds it."""
    target = tmp_path / "lib"
    with atomic_dir(target) as tmp:
        (tmp / "index.json").write_text("0")
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        missing = 0
        end = time.time() + 3
        while time.time() < end:
            if not os.path.isdir({str(target)!r}):
                missing += 1
        print(missing)
    """)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    for i in range(50):
        with atomic_dir(target) as tmp:
            (tmp / "index.json").write_text(str(i))
    out, _ = reader.communicate(timeout=30)
    assert (target / "index.json").read_text() == "49"
    if sys.platform.startswith("linux"):  # renameat2(RENAME_EXCHANGE)
        assert int(out) == 0
