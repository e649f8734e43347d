//! `hirelay backup` and `hirelay restore` on the SQLite database (issue 15, item 6).
//!
//! A backup is `VACUUM INTO` a new file: one read transaction, so it is a consistent copy taken
//! while the server keeps serving, compacted, with no WAL of its own. A restore checks the copy
//! (`PRAGMA integrity_check`, a hirelay schema this binary knows), makes sure no hirelay has the
//! database open, keeps the replaced file beside it, and moves the copy into place atomically.
//!
//! PostgreSQL has its own tools for both (`pg_dump`, `pg_restore`); the secret key is never in a
//! backup of the database, and must be kept apart (see "Backup and restore" in docs/deploying.md).
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::schema::{newest_known, unknown_migrations};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is PostgreSQL: back it up with `pg_dump --format=custom` and restore it \
         with `pg_restore`; `hirelay backup` and `hirelay restore` are for the SQLite file"
    )]
    Postgres,
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{0} already exists: a backup never overwrites a file, choose a new name")]
    Exists(PathBuf),
    #[error("{path} is not a hirelay backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error(
        "{path} was written by a newer hirelay (migration `{migration}` is unknown to this \
         binary, which knows up to `{known}`): use that hirelay or a newer one"
    )]
    Newer {
        path: PathBuf,
        migration: String,
        known: String,
    },
    #[error(
        "the database {0} is open in another process: stop every `hirelay serve` that uses it, \
         then restore"
    )]
    InUse(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

type Result<T> = std::result::Result<T, BackupError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sqlite(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub bytes: u64,
    /// The newest migration in the copy: the oldest hirelay that can restore it.
    pub schema: String,
}

/// Copies the live database at `database` into the new file `target` (mode 0600) while the
/// server may be writing to it.
pub fn backup(database: &Path, target: &Path) -> Result<Backup> {
    if !database.exists() {
        return Err(BackupError::Missing(database.to_owned()));
    }
    if target.exists() {
        return Err(BackupError::Exists(target.to_owned()));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_private_dirs(dir).map_err(io(dir))?;
    }
    // Empty and private before SQLite writes candidates' data into it (M9).
    crate::private_files::protect_sqlite(target).map_err(io(target))?;
    let written = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .and_then(|db| {
            db.busy_timeout(Duration::from_secs(30))?;
            let target = target.to_string_lossy();
            db.execute("VACUUM INTO ?1", [target.as_ref()])
        })
        .map_err(sqlite(database));
    if let Err(e) = written {
        let _ = std::fs::remove_file(target);
        return Err(e);
    }
    let schema = check(target)?;
    let bytes = std::fs::metadata(target).map_err(io(target))?.len();
    Ok(Backup { bytes, schema })
}

/// What a restore did.
#[derive(Debug)]
pub struct Restore {
    pub schema: String,
    /// Where the database it replaced now is, if there was one.
    pub replaced: Option<PathBuf>,
}

/// Puts the backup `from` in place of the database at `database`, which no process may have
/// open. The replaced database is kept as `DATABASE.before-restore-TIMESTAMP`.
pub fn restore(from: &Path, database: &Path) -> Result<Restore> {
    let schema = check(from)?;
    let replaced = if database.exists() {
        ensure_unused(database)?;
        let aside = sibling(
            database,
            &format!(
                ".before-restore-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ),
        );
        for suffix in ["", "-wal", "-shm"] {
            let file = sibling(database, suffix);
            if file.exists() {
                let to = sibling(&aside, suffix);
                std::fs::rename(&file, &to).map_err(io(&file))?;
            }
        }
        Some(aside)
    } else {
        if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_private_dirs(dir).map_err(io(dir))?;
        }
        None
    };
    let incoming = sibling(database, ".restoring");
    let _ = std::fs::remove_file(&incoming);
    crate::private_files::protect_sqlite(&incoming).map_err(io(&incoming))?;
    std::fs::copy(from, &incoming).map_err(io(&incoming))?;
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io(&incoming))?;
    std::fs::rename(&incoming, database).map_err(io(database))?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself survives a power cut only once the directory is synced.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(Restore { schema, replaced })
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A hirelay database, intact, whose every migration this binary knows; its newest migration.
fn check(path: &Path) -> Result<String> {
    if !path.exists() {
        return Err(BackupError::Missing(path.to_owned()));
    }
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: path.to_owned(),
        reason,
    };
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| not_a_backup(e.to_string()))?;
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| not_a_backup(e.to_string()))?;
    if integrity != "ok" {
        return Err(not_a_backup(format!("integrity check: {integrity}")));
    }
    let applied = db
        .prepare("SELECT version FROM seaql_migrations ORDER BY version")
        .and_then(|mut rows| {
            rows.query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|_| not_a_backup("it has no hirelay schema (no seaql_migrations)".into()))?;
    if let Some(migration) = unknown_migrations(&applied).into_iter().next() {
        return Err(BackupError::Newer {
            path: path.to_owned(),
            migration,
            known: newest_known(),
        });
    }
    applied
        .last()
        .cloned()
        .ok_or_else(|| not_a_backup("no migration was ever applied to it".into()))
}

/// No other connection has `database` open: an exclusive lock, which SQLite refuses while
/// any other process (a running `hirelay serve`) holds a connection to it.
fn ensure_unused(database: &Path) -> Result<()> {
    let db = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(sqlite(database))?;
    let locked = db
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| {
            db.execute_batch("BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_master; COMMIT;")
        });
    match locked {
        Ok(()) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Err(BackupError::InUse(database.to_owned()))
        }
        Err(e) => Err(sqlite(database)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_database_is_not_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        std::fs::write(
            &path,
            "not SQLite at all, just some text that is long enough",
        )
        .unwrap();
        let err = restore(&path, &dir.path().join("hirelay.db")).unwrap_err();
        assert!(matches!(err, BackupError::NotABackup { .. }), "{err}");
        assert!(!dir.path().join("hirelay.db").exists());
    }

    #[test]
    fn a_backup_never_overwrites_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.db");
        Connection::open(&live).unwrap();
        let target = dir.path().join("copy.db");
        std::fs::write(&target, "precious").unwrap();
        let err = backup(&live, &target).unwrap_err();
        assert!(matches!(err, BackupError::Exists(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }
}
