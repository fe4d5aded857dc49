#!/usr/bin/env python3
"""Which tables and indexes the pages in a SQLite WAL belong to.

Usage: wal-pages.py DATA_DIR_OR_DB_FILE

Copies the database and its -wal file (a server may be writing them: the
copy is read, never the originals), reads the frames of the WAL's current
generation (those whose salts match its header, up to the last commit
frame), and names the b-tree of each page with SQLite's dbstat table.
Prints, per table or index, the frames, their share and frames per commit.
Python's standard library only (its sqlite3 module needs dbstat, which
Debian's has). BENCHMARKS.md, tenth pass, shows how it was used.
"""
import collections
import os
import shutil
import sqlite3
import struct
import sys
import tempfile


def main(path):
    db = os.path.join(path, "openprofiles.db") if os.path.isdir(path) else path
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "copy.db")
        wal = open(db + "-wal", "rb").read()  # the WAL first: frames the copy's pages may not have yet
        shutil.copyfile(db, copy)
        commits = frames_by_commit(wal)
        # The copy, opened with the WAL copied beside it, maps pages to b-trees.
        open(copy + "-wal", "wb").write(wal)
        conn = sqlite3.connect(copy)
        owner = {page: name for name, page in conn.execute("SELECT name, pageno FROM dbstat")}
        conn.close()
    counts = collections.Counter(owner.get(p, "(free or new)") for c in commits for p in c)
    total = sum(counts.values())
    print(f"{len(commits)} commits, {total} frames, {total / max(len(commits), 1):.1f} frames a commit")
    print(f"{'b-tree':32} {'frames':>8} {'share':>7} {'a commit':>9}")
    for name, n in counts.most_common():
        print(f"{name:32} {n:8} {n / total:7.1%} {n / len(commits):9.1f}")


def frames_by_commit(wal):
    """The page numbers of the WAL's current frames, one list per commit."""
    if len(wal) < 32:
        return []
    _, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">8I", wal[:32])
    commits, current, off = [], [], 32
    while off + 24 + page_size <= len(wal):
        page, commit_size, s1, s2, _, _ = struct.unpack(">6I", wal[off:off + 24])
        if (s1, s2) != (salt1, salt2):
            break
        current.append(page)
        if commit_size:
            commits.append(current)
            current = []
        off += 24 + page_size
    return commits


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
