"""Backups of the user's data: snapshots, rotation, restore, and moving to a new PC.

A backup is one zip file: ``manifest.json`` (what it is, who wrote it, what it holds, a checksum
of every part), a snapshot of the history database taken with SQLite's online backup API, the
settings without any secret, the prices and learnt model limits, and optionally the notes index.
:mod:`.archive` reads and writes the format, :mod:`.snapshot` gathers the parts, :mod:`.rotation`
decides which automatic backups to keep, :mod:`.service` is the workflow both faces call.
"""
