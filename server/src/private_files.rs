//! Files only hirelay's user may read (issue 18, M9). The data directory holds the SQLite
//! database (candidates' personal data, sealed secrets), the mail outbox (messages with live
//! tokens) and, by default, the key file: taking the umask left them readable by every local
//! user. The directory is `0700` (an existing one is tightened, and the log says so), the
//! database files and `.eml` files `0600`.
use std::io;
use std::path::Path;

/// The mode of hirelay's directories.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// The mode of hirelay's files.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700, or tightens it to 0700 when it exists
/// with access for others.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    create_private_dirs(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
            tracing::warn!(
                dir = %dir.display(),
                was = format!("{mode:o}"),
                now = format!("{DIR_MODE:o}"),
                "tightened the permissions of the data directory: others could read it"
            );
        }
    }
    Ok(())
}

/// Creates the missing directories of `dir` with mode 0700; leaves existing ones as they are.
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// Makes the SQLite database at `path` private before it is opened: creates it empty with
/// mode 0600 when missing (SQLite gives its `-wal` and `-shm` files the database's mode), or
/// tightens it and its companion files to 0600 when others may read them.
pub fn protect_sqlite(path: &Path) -> io::Result<()> {
    match private_options().open(path) {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            let Ok(meta) = std::fs::metadata(file) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(FILE_MODE))?;
                tracing::warn!(
                    file = %file.display(),
                    was = format!("{mode:o}"),
                    "tightened the permissions of a database file to 600: others could read it"
                );
            }
        }
    }
    Ok(())
}

/// Creates the file `path` with `bytes`, readable by the owner only, all at once: written
/// under a temporary name beside it and linked into place, so no reader (a test, a mail pickup
/// tool, another instance reading the key file) ever sees it part-written. Fails if `path`
/// exists.
pub fn create_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = private_options().open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    let _ = std::fs::remove_file(&temp);
    written
}

/// [`create_private`] on the blocking pool.
pub async fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (path, bytes) = (path.to_owned(), bytes.to_vec());
    tokio::task::spawn_blocking(move || create_private(&path, &bytes))
        .await
        .map_err(io::Error::other)?
}

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn m9_files_appear_whole_private_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        create_private(&path, b"secret").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = create_private(&path, b"other").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn m9_directories_are_created_private_and_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a").join("data");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn m9_database_files_are_created_private_and_tightened() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("hirelay.db");
        protect_sqlite(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        let wal = root.path().join("hirelay.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        protect_sqlite(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }
}
