"""Backups of the office's database, and their restore (docs/panduan.md, "Cadangan").

`antrian.backup.files` makes a backup with SQLite's online backup API (never a file copy while
the hub writes), into a temporary file in the target folder that is fsynced and then renamed,
so that a power cut or a kill during a backup leaves the last good backup as it was; it keeps
the last `[backup] keep_days` days. `antrian.backup.extension` makes the day's backup inside
the hub, `antrian.backup.cli` adds `antrian backup` and `antrian restore`.
"""
