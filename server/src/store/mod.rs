//! Storage: the sea-orm entities and every query. Nothing above this module writes SQL.
//!
//! One [`Store`] wraps the connection pool for SQLite (the embedded default, WAL and
//! `synchronous=FULL`) or PostgreSQL (production, several instances side by side).
pub mod applications;
pub mod audit;
pub mod decisions;
pub mod documents;
pub mod entities;
pub mod erasure;
pub mod event_people;
pub mod events;
pub mod funnel;
pub mod group_accounts;
pub mod inbox;
pub mod invitations;
pub mod jobs;
pub mod kpis;
pub mod notifications;
pub mod opt_outs;
pub mod outbox;
mod person_lookup;
pub mod personal_data;
pub mod progress_sync;
pub mod recruiting;
pub mod referrals;
pub mod retention;
pub mod routing;
pub mod scheduler;
pub mod schema;
pub mod sessions;
pub mod sqlite_backup;
pub mod sqlite_ingest;
pub mod tokens;
pub mod users;
pub mod webhooks;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqlErr, Statement, TransactionTrait,
};
use std::time::Duration;

use crate::domain::time::now_millis;

/// A storage failure, as the layers above see it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// No connection to be had: the pool's wait ran out, the server refused or dropped the
    /// connection, or (SQLite) another process held the write lock past the busy timeout. A
    /// retry may succeed; nothing was written.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Db(DbErr),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// A save that expected another newest version (`If-Match`): someone saved since.
    #[error("{0}")]
    Stale(Box<StaleVersion>),
    /// A value the database cannot hold (PostgreSQL's data exceptions, SQLSTATE class 22: a
    /// NUL character in text, a number out of range): the input's fault, never a retry's.
    #[error("a value cannot be stored: {0}")]
    Unstorable(String),
}

/// What a refused save expected, and the newest version it found instead.
#[derive(Debug)]
pub struct StaleVersion {
    /// `rule `status`` or `template `career_relay_invitation``.
    pub what: String,
    pub expected: i32,
    pub current: i32,
    pub author: Option<String>,
    /// Unix milliseconds.
    pub created_at: Option<i64>,
}

impl std::fmt::Display for StaleVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is now at version {}{}, not {}: someone saved it after you opened it. \
             Nothing was saved; reload it, apply your change again, and save",
            self.what,
            self.current,
            self.author
                .as_deref()
                .map(|a| format!(" (saved by {a})"))
                .unwrap_or_default(),
            self.expected
        )
    }
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        if is_transient(&e) {
            StoreError::Unavailable(e.to_string())
        } else if let Some(message) = data_exception(&e) {
            StoreError::Unstorable(message)
        } else {
            StoreError::Db(e)
        }
    }
}

/// Whether a retry may succeed where `e` failed, by the error's kind and code (never its text):
/// no connection to be had, a connection lost mid-statement (PostgreSQL restarted, the network
/// dropped), the write lock held by another process past the busy timeout, or the disk full.
/// What failed was rolled back, so nothing was stored.
fn is_transient(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err)) => {
            match err {
                Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed => true,
                Sqlx::WorkerCrashed => true,
                Sqlx::Database(db) => db.code().is_some_and(|code| transient_code(&code)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// PostgreSQL's message for a data exception (SQLSTATE class 22), found by the code; the
/// message names the kind of value (`invalid byte sequence for encoding "UTF8": 0x00`), not
/// the value.
fn data_exception(e: &DbErr) -> Option<String> {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(Sqlx::Database(db)))
        | DbErr::Query(RuntimeErr::SqlxError(Sqlx::Database(db))) => db
            .code()
            .filter(|code| code.len() == 5 && code.starts_with("22"))
            .map(|_| db.message().to_owned()),
        _ => None,
    }
}

/// SQLite's result codes (primary code in the low byte of an extended one) and PostgreSQL's
/// SQLSTATEs that say "not now" rather than "not ever".
fn transient_code(code: &str) -> bool {
    // A SQLSTATE is always five characters, and may be all digits ("08006"); SQLite's
    // extended result codes have at most four digits.
    let sqlite = (code.len() < 5).then(|| code.parse::<i32>().ok()).flatten();
    if let Some(sqlite) = sqlite {
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL.
        return matches!(sqlite & 0xff, 5 | 6 | 10 | 13);
    }
    // 08: connection exception; 53: insufficient resources (disk full, too many connections);
    // 57P01-57P03: the server is shutting down or starting; 40001/40P01: serialization
    // failure and deadlock, which the next try does not meet.
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
}

impl StoreError {
    /// Whether the database refused the write for a unique key (by the error's kind, never its text).
    pub fn is_unique_violation(err: &DbErr) -> bool {
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database, shared by the HTTP handlers, the workers and the scheduler.
#[derive(Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    /// Event processing's own connections, one per worker (see [`Store::connect`] and
    /// [`Store::begin_processing`]); on SQLite their commits do not wait for the disk.
    processing: DatabaseConnection,
    /// SQLite has a single writer and its busy handler waits by sleeping (1 ms, 2 ms, 5 ms …),
    /// which would put those sleeps into webhook latency and event processing. The background
    /// writers of one process (the ingest writer, event workers, mail sender, webhook
    /// deliveries, scheduler ticks) take turns through this fair lock instead.
    /// `None` on PostgreSQL, where writers do not exclude each other.
    write_turn: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Set while webhooks wait to be stored: event workers on SQLite let them go first, so an
    /// acknowledgement does not wait behind event processing (processing catches up after).
    ingest_busy: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Until when (unix millis) the ingest writer counts as saturated (see
    /// [`Store::ingest_busy`]).
    ingest_saturated_until: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// When (unix millis) the ingest writer last stored a batch.
    ingest_last_batch_at: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// The path of the SQLite database file, for connections of its own
    /// ([`Store::sqlite_batch_writer`]); `None` on PostgreSQL and in-memory SQLite.
    sqlite_file: Option<std::sync::Arc<str>>,
}

/// A write that changes nothing: as the first statement of an SQLite transaction, it takes
/// the write lock at once (see [`Store::begin_writing`]).
const TAKE_WRITE_LOCK: &str = "UPDATE events SET id = id WHERE 0";

/// How long after a saturated ingest batch webhooks still count as arriving.
pub const INGEST_QUIET: Duration = Duration::from_millis(20);

/// An ingest batch this large means webhooks arrive faster than one commit takes.
pub const SATURATED_BATCH: usize = 8;

/// How long an SQLite pool connection is used before it is closed and opened afresh.
pub const SQLITE_CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// A turn at writing (see [`Store::write_turn`]); released when dropped.
pub type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

impl Store {
    /// Connects (creating the SQLite file and its directory if needed): at most `pool`
    /// connections for everything but event processing (SQLite uses at most 8: it has one writer
    /// anyway), and `processing` connections of event processing's own, one per worker (see
    /// [`Store::begin_processing`]).
    ///
    /// Processing's own pool means a worker never waits for a connection that webhooks or the
    /// admin API hold, and webhooks are acknowledged while every worker holds a transaction:
    /// with one pool, workers that each held a connection and needed a second one (or simply
    /// as many workers as connections) left the ingest writers waiting until the pool's
    /// timeout, and the senders got a 500.
    ///
    /// A failure names the database and says its cause once (issue 19): SQLite's "unable to
    /// open database file" came wrapped four times and without the path.
    pub async fn connect(url: &str, pool: u32, processing: u32) -> anyhow::Result<Store> {
        Self::open(url, pool, processing).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {}",
                database_location(url),
                e.root_cause()
            )
        })
    }

    async fn open(url: &str, pool: u32, processing: u32) -> anyhow::Result<Store> {
        if let Some(path) = sqlite_path(url) {
            let path = std::path::Path::new(path);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::private_files::create_private_dirs(dir)?;
            }
            // Before SQLite creates it with the umask's mode (M9).
            crate::private_files::protect_sqlite(path)?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .min_connections(1);
        let processing = processing.max(1);
        let (options, processing) = if url.starts_with("sqlite:") {
            use sea_orm::sqlx::sqlite::SqliteSynchronous::{Full, Normal};
            let sqlite = |mut options: ConnectOptions, connections: u32, synchronous| {
                options
                    .max_connections(connections)
                    // After a failed write (a full disk), SQLite may have rolled a transaction
                    // back that sqlx still counts as open; that connection's next rollback then
                    // leaves a real transaction holding the write lock. Recycling connections
                    // bounds how long such a lock can last (docs/performance.md).
                    .max_lifetime(SQLITE_CONNECTION_LIFETIME)
                    .map_sqlx_sqlite_opts(move |o| {
                        o.create_if_missing(true)
                            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                            .synchronous(synchronous)
                            .busy_timeout(Duration::from_secs(30))
                            .foreign_keys(false)
                            // Issue 16: freed space is zeroed, so an erased person's values
                            // do not linger in the file's free pages.
                            .pragma("secure_delete", "ON")
                    });
                options
            };
            (
                sqlite(options.clone(), pool.clamp(2, 8), Full),
                sqlite(options, processing.min(8), Normal),
            )
        } else {
            let mut processing_options = options.clone();
            processing_options.max_connections(processing);
            options.max_connections(pool);
            (options, processing_options)
        };
        let db = Database::connect(options).await?;
        let processing = Database::connect(processing).await?;
        let write_turn = url
            .starts_with("sqlite:")
            .then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        let sqlite_file = sqlite_path(url).map(std::sync::Arc::from);
        Ok(Store {
            db,
            processing,
            write_turn,
            ingest_busy: Default::default(),
            ingest_saturated_until: Default::default(),
            ingest_last_batch_at: Default::default(),
            sqlite_file,
        })
    }

    /// Waits for this process's turn to write (SQLite); immediate on PostgreSQL.
    pub async fn write_turn(&self) -> WriteTurn {
        match &self.write_turn {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// Begins a transaction that writes. On SQLite it takes the write lock at once (its first
    /// statement is a write that changes nothing), as `BEGIN IMMEDIATE` would: a transaction
    /// that read first would fail at its first write if another connection (an admin call,
    /// say) had committed in between (`SQLITE_BUSY_SNAPSHOT`); this one makes that connection
    /// wait instead.
    pub async fn begin_writing(&self) -> Result<DatabaseTransaction, DbErr> {
        let first = self.write_turn.is_some().then_some(TAKE_WRITE_LOCK);
        self.begin_on(&self.db, first).await
    }

    /// [`Store::begin_writing`] for event processing, whose commits do not wait for the disk:
    /// SQLite's `synchronous=NORMAL` in WAL mode, PostgreSQL's `synchronous_commit = off`.
    ///
    /// What such a transaction writes is derived from events that were stored durably, by
    /// actions that are idempotent: a crash of the process loses nothing (the commit is in the
    /// operating system's hands), and a power failure can only undo the last processed
    /// batches as a whole, which are then processed again. Nothing leaves the server before it
    /// is durable: the mail sender and webhook deliveries claim their work with an ordinary
    /// commit first, which makes everything committed before it durable too (one log for all
    /// connections), and progress sync calls [`Store::make_durable`] first.
    pub async fn begin_processing(&self) -> Result<DatabaseTransaction, DbErr> {
        let first = if self.is_postgres() {
            Some("SET LOCAL synchronous_commit TO OFF")
        } else {
            self.write_turn.is_some().then_some(TAKE_WRITE_LOCK)
        };
        self.begin_on(&self.processing, first).await
    }

    /// Closes both pools at shutdown. On SQLite the log is first checkpointed into the database
    /// and truncated (issue 15: the log's stale frames kept what the database had since
    /// overwritten, e.g. a sent mail's body with its approval link), and the last connection's
    /// close removes it. Bounded: a connection still held after 10 s is left to the process's
    /// exit, which loses nothing committed.
    pub async fn close(&self) {
        let closing = async {
            if !self.is_postgres() {
                if let Err(e) = self
                    .db
                    .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await
                {
                    tracing::warn!(error = %e, "the SQLite log could not be checkpointed at shutdown");
                }
            }
            for pool in [self.processing.clone(), self.db.clone()] {
                if let Err(e) = pool.close().await {
                    tracing::warn!(error = %e, "a database pool did not close cleanly");
                }
            }
        };
        if tokio::time::timeout(Duration::from_secs(10), closing)
            .await
            .is_err()
        {
            tracing::warn!("the database pools did not close within 10 s; exiting anyway");
        }
    }

    /// Makes everything committed so far durable, including processing's commits (see
    /// [`Store::begin_processing`]): on SQLite a checkpoint, which syncs the log first; on
    /// PostgreSQL a transaction that waits for its commit record to reach the disk, and with
    /// it every record before.
    pub async fn make_durable(&self) -> Result<(), DbErr> {
        if self.is_postgres() {
            let txn = self.db.begin().await?;
            txn.execute_unprepared("SELECT txid_current()").await?;
            txn.commit().await
        } else {
            self.db
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await
                .map(|_| ())
        }
    }

    /// Begins a transaction on `db` whose first statement is `first`, if any.
    async fn begin_on(
        &self,
        db: &DatabaseConnection,
        first: Option<&str>,
    ) -> Result<DatabaseTransaction, DbErr> {
        let txn = db.begin().await?;
        if let Some(first) = first {
            if let Err(e) = txn.execute_unprepared(first).await {
                let _ = txn.rollback().await;
                return Err(e);
            }
        }
        Ok(txn)
    }

    /// Marks whether webhooks are waiting to be stored (set by the ingest writer).
    pub fn set_ingest_busy(&self, busy: bool) {
        self.ingest_busy
            .store(busy, std::sync::atomic::Ordering::Release);
    }

    /// Notes a batch the ingest writer stored: `events` in it, now.
    pub fn note_ingest_batch(&self, events: usize) {
        let now = now_millis();
        self.ingest_last_batch_at
            .store(now, std::sync::atomic::Ordering::Release);
        let saturated = events >= SATURATED_BATCH;
        let until = if saturated {
            now + INGEST_QUIET.as_millis() as i64
        } else {
            0
        };
        self.ingest_saturated_until
            .store(until, std::sync::atomic::Ordering::Release);
    }

    /// Waits (at most `max`) while webhooks are waiting to be stored, or arrive faster than the
    /// writer commits them, so background work takes its turn in the gaps between ingest
    /// batches rather than ahead of them (on SQLite the single writer, everywhere the CPU).
    /// Moderate traffic (a few events per commit) never makes it wait longer than a commit.
    pub async fn yield_to_ingest(&self, max: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + max;
        while self.ingest_busy() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(INGEST_QUIET / 4).await;
        }
    }

    /// Whether webhooks are waiting to be stored right now, or the ingest writer is saturated
    /// (its last batch, less than [`INGEST_QUIET`] ago, had [`SATURATED_BATCH`] events or more:
    /// under such load its queue is empty only between the answer to one batch and the
    /// senders' next requests).
    pub fn ingest_busy(&self) -> bool {
        self.ingest_busy.load(std::sync::atomic::Ordering::Acquire)
            || now_millis()
                < self
                    .ingest_saturated_until
                    .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether the ingest writer stored a batch within `window` (webhooks are arriving, if
    /// not saturating it).
    pub fn ingest_recent(&self, window: Duration) -> bool {
        now_millis()
            < self
                .ingest_last_batch_at
                .load(std::sync::atomic::Ordering::Acquire)
                + window.as_millis() as i64
    }

    /// Runs every pending migration.
    /// Brings the schema up to this binary's; refuses a database a newer hirelay migrated.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        self.refuse_newer_schema().await?;
        Migrator::up(&self.db, None).await
    }

    async fn refuse_newer_schema(&self) -> Result<(), DbErr> {
        let sql = Statement::from_string(self.backend(), "SELECT version FROM seaql_migrations");
        // No table yet: a new database.
        let Ok(rows) = self.db.query_all(sql).await else {
            return Ok(());
        };
        let applied = rows
            .iter()
            .map(|row| row.try_get::<String>("", "version"))
            .collect::<Result<Vec<_>, _>>()?;
        match schema::unknown_migrations(&applied).first() {
            None => Ok(()),
            Some(unknown) => Err(DbErr::Custom(format!(
                "the database was migrated by a newer hirelay (migration `{unknown}` is unknown \
                 to this binary, which knows up to `{}`): run that hirelay or a newer one, or \
                 restore a backup made before the upgrade",
                schema::newest_known()
            ))),
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DatabaseBackend::Postgres
    }

    /// A trivial query, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.execute_unprepared("SELECT 1").await.map(|_| ())
    }
}

/// Ends `txn` with `result`: commits on `Ok`, rolls back on `Err` and waits for the rollback.
///
/// Every transaction that can fail half-way ends here rather than by being dropped: a dropped
/// transaction is rolled back later by the driver, and on SQLite its write lock would outlive
/// this process's write turn, so the next writer would find the database locked.
pub async fn end_transaction<T, E: From<DbErr>>(
    txn: DatabaseTransaction,
    result: Result<T, E>,
) -> Result<T, E> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rolling back a transaction failed");
            }
            Err(e)
        }
    }
}

impl Store {
    /// Runs one use case's writes (a change and its audit entry, say) in one writing
    /// transaction: all of them are committed when `change` answers `Ok`, none otherwise.
    pub async fn in_transaction<T, E, F>(&self, change: F) -> Result<T, E>
    where
        E: From<DbErr>,
        F: AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    {
        let _turn = self.write_turn().await;
        let txn = self.begin_writing().await?;
        let result = change(&txn).await;
        end_transaction(txn, result).await
    }
}

/// The file path of a `sqlite://path?…` URL.
/// Where the database of `url` is, for people: an SQLite file's absolute path, another
/// database's URL without its password.
pub fn database_location(url: &str) -> String {
    match sqlite_path(url) {
        Some(file) => {
            std::path::absolute(file).map_or_else(|_| file.to_owned(), |p| p.display().to_string())
        }
        None => crate::config::redact_url(url),
    }
}

pub fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Inserts `rows` with one statement, skipping each that conflicts with a stored row on the
/// unique `conflict` columns (`ON CONFLICT DO NOTHING` keeps the caller's PostgreSQL
/// transaction usable, where a failed insert would abort it). Answers, in order, whether each
/// was inserted; `ids` are the rows' primary keys (column `id_column`), looked up only when
/// some were not inserted.
pub(crate) async fn insert_each<E, C, R>(
    db: &C,
    rows: impl IntoIterator<Item = R>,
    ids: &[&str],
    id_column: E::Column,
    conflict: impl IntoIterator<Item = E::Column>,
) -> StoreResult<Vec<bool>>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
    R: sea_orm::IntoActiveModel<E::ActiveModel>,
    C: ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let inserted = E::insert_many(rows.into_iter().map(R::into_active_model))
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns(conflict)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == ids.len() as u64 {
        return Ok(vec![true; ids.len()]);
    }
    let stored: std::collections::HashSet<String> = E::find()
        .select_only()
        .column(id_column)
        .filter(id_column.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(ids.iter().map(|id| stored.contains(*id)).collect())
}

/// A statement written once for both databases: `?` placeholders (and no `?` of its own),
/// which PostgreSQL numbers `$1`, `$2`, …; and `{lock}` where a queue's claim takes
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes never claim one row (SQLite
/// has one writer, and nothing there).
pub(crate) fn statement(
    backend: DatabaseBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Statement {
    let sql = match backend {
        DatabaseBackend::Postgres => {
            numbered_placeholders(&sql.replace("{lock}", " FOR UPDATE SKIP LOCKED"))
        }
        _ => sql.replace("{lock}", ""),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn numbered_placeholders(sql: &str) -> String {
    let mut n = 0;
    sql.split('?')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                n += 1;
                format!("${n}{part}")
            }
        })
        .collect()
}

/// JSON text stored in a column, read back into a value.
pub fn json_column<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// What unit tests of several modules share.
#[cfg(test)]
pub(crate) mod test_support {
    /// A referral that used a slot at `used` and was hired at `hired`, reported at `used`.
    pub fn referral(id: &str, used: i64, hired: Option<i64>) -> super::entities::referral::Model {
        super::entities::referral::Model {
            id: id.into(),
            slot_used_at: Some(used),
            hired_at: hired,
            joined_at: None,
            retained_at: None,
            left_at: None,
            created_at: used,
            updated_at: used,
        }
    }

    use super::Store;

    /// A migrated store on an SQLite file in a fresh directory (kept while the guard lives).
    pub async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url, 4, 2).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::store;
    use super::*;

    #[test]
    fn busy_locked_full_and_lost_connections_are_transient_constraint_failures_not() {
        for code in [
            "5", "517", "6", "13", "778", "08006", "08001", "57P01", "53100", "40P01",
        ] {
            assert!(transient_code(code), "{code} is worth a retry");
        }
        for code in ["19", "2067", "1", "23505", "42P01", "22P02"] {
            assert!(!transient_code(code), "{code} fails again");
        }
    }

    #[test]
    fn postgres_placeholders_are_numbered_in_order() {
        let sql = "a = ? AND b IN (?, ?) LIMIT ?{lock}";
        let numbered = |backend| statement(backend, sql, Vec::new()).sql;
        assert_eq!(
            numbered(DatabaseBackend::Postgres),
            "a = $1 AND b IN ($2, $3) LIMIT $4 FOR UPDATE SKIP LOCKED"
        );
        assert_eq!(
            numbered(DatabaseBackend::Sqlite),
            "a = ? AND b IN (?, ?) LIMIT ?"
        );
    }

    /// Reads, lets another connection try to write, then writes: what a batch transaction does
    /// while an admin call writes. Answers how the transaction's write came out.
    async fn read_then_write_beside_another_writer(
        store: &Store,
        txn: DatabaseTransaction,
    ) -> Result<(), DbErr> {
        txn.execute_unprepared("SELECT count(*) FROM events")
            .await?;
        let other = store.db.clone();
        let beside = tokio::spawn(async move {
            other
                .execute_unprepared("INSERT INTO audit_log (actor, action, target, detail, at) VALUES ('admin', 'x', 'y', '{}', 0)")
                .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let written = txn
            .execute_unprepared("UPDATE events SET attempts = attempts WHERE 0 = 1")
            .await
            .map(|_| ());
        match written {
            Ok(()) => txn.commit().await?,
            Err(e) => {
                let _ = txn.rollback().await;
                return Err(e);
            }
        }
        beside.await.expect("the other writer")?;
        Ok(())
    }

    /// Event processing commits without waiting for the disk (WAL `synchronous=NORMAL`: safe
    /// from a crash of the process, see `begin_processing`); everything else waits for it.
    /// Otherwise its connections are set up as the pool's.
    #[tokio::test]
    async fn only_processing_commits_without_waiting_for_the_disk() {
        use sea_orm::{ConnectionTrait, Statement};
        let (_dir, store) = store().await;
        let settings = |txn: DatabaseTransaction| async move {
            let mut found = Vec::new();
            for pragma in [
                "synchronous",
                "journal_mode",
                "busy_timeout",
                "foreign_keys",
            ] {
                let row = txn
                    .query_one(Statement::from_string(
                        txn.get_database_backend(),
                        format!("PRAGMA {pragma}"),
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                let value = row
                    .try_get_by_index::<i64>(0)
                    .map(|v| v.to_string())
                    .or_else(|_| row.try_get_by_index::<String>(0))
                    .unwrap();
                found.push(value);
            }
            txn.commit().await.unwrap();
            found.join(" ")
        };
        let processing = settings(store.begin_processing().await.unwrap()).await;
        assert_eq!(processing, "1 wal 30000 0");
        assert_eq!(
            settings(store.begin_writing().await.unwrap()).await,
            "2 wal 30000 0"
        );
        assert_eq!(
            settings(store.db.begin().await.unwrap()).await,
            "2 wal 30000 0"
        );
    }

    /// A processing commit reaches the database file once `make_durable` has run (the
    /// checkpoint copies what the synced log holds); without it, it stays in the log.
    #[tokio::test]
    async fn make_durable_takes_processing_commits_to_the_database_file() {
        let (dir, store) = store().await;
        let file = dir.path().join("t.db");
        store.make_durable().await.unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        let txn = store.begin_processing().await.unwrap();
        let row = "z".repeat(4000);
        for i in 0..50 {
            txn.execute_unprepared(&format!(
                "INSERT INTO audit_log (actor, action, target, detail, at) VALUES ('a', 'x', 'y', '{row}', {i})"
            ))
            .await
            .unwrap();
        }
        txn.commit().await.unwrap();
        assert!(std::fs::metadata(&file).unwrap().len() < before + 200_000);
        store.make_durable().await.unwrap();
        let after = std::fs::metadata(&file).unwrap().len();
        assert!(after >= before + 200_000, "{before} -> {after} bytes");
    }

    /// A plain deferred transaction fails at its first write when another connection
    /// committed after its first read (SQLITE_BUSY_SNAPSHOT); `begin_writing` makes the other
    /// connection wait instead, and both writes land.
    #[tokio::test]
    async fn a_writing_transaction_is_not_failed_by_another_connection_writing() {
        let (_dir, store) = store().await;
        let plain = store.db.begin().await.unwrap();
        let err = read_then_write_beside_another_writer(&store, plain)
            .await
            .expect_err("a deferred transaction loses its snapshot");
        assert!(err.to_string().contains("locked"), "{err}");
        let (_dir, store) = super::test_support::store().await;
        let writing = store.begin_writing().await.unwrap();
        read_then_write_beside_another_writer(&store, writing)
            .await
            .expect("the other connection waits for the writing transaction");
    }
}
