//! The two databases behind one small interface: a connection runs a closure inside one
//! transaction (committed when it returns `Ok`, rolled back otherwise), and the closure runs
//! SQL with `?` placeholders over a handful of typed values. The schema and every statement
//! are written once, in the subset SQLite and PostgreSQL share.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::StoreError;

/// A parameter or column value. Nulls are typed: PostgreSQL checks a parameter's type even
/// when it is null.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl Val {
    fn is_null(&self) -> bool {
        matches!(self, Val::Int(None) | Val::Text(None) | Val::Blob(None))
    }
}

/// One result row.
pub(crate) struct Row(Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, StoreError> {
        self.0.get(i).ok_or_else(|| StoreError::Corrupt(format!("a row has no column {i}")))
    }

    pub(crate) fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Val::Int(v) => Ok(*v),
            v if v.is_null() => Ok(None),
            _ => Err(StoreError::Corrupt(format!("column {i} is not an integer"))),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Val::Text(v) => Ok(v.clone()),
            v if v.is_null() => Ok(None),
            _ => Err(StoreError::Corrupt(format!("column {i} is not text"))),
        }
    }

    pub(crate) fn blob(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        match self.at(i)? {
            Val::Blob(v) => Ok(v.clone()),
            v if v.is_null() => Ok(None),
            _ => Err(StoreError::Corrupt(format!("column {i} is not bytes"))),
        }
    }

    pub(crate) fn req_int(&self, i: usize) -> Result<i64, StoreError> {
        self.int(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is null")))
    }

    pub(crate) fn req_text(&self, i: usize) -> Result<String, StoreError> {
        self.text(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is null")))
    }
}

/// Statements inside one transaction.
pub(crate) trait Tx {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    /// Runs a query; its rows.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError>;
}

/// The tables, in the SQL both databases accept; `BYTES` is each one's byte-string type.
/// Every statement is idempotent (`IF NOT EXISTS`): opening a store migrates it.
pub(crate) const SCHEMA_V1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS apisig_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS apisig_clients (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        role TEXT,
        user_id TEXT,
        allowed TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        last_nonce BIGINT)",
    "CREATE TABLE IF NOT EXISTS apisig_keys (
        client_id TEXT NOT NULL REFERENCES apisig_clients(id) ON DELETE CASCADE,
        slot BIGINT NOT NULL,
        kind TEXT NOT NULL,
        digest BYTES UNIQUE,
        sealed BYTES,
        master_key_id TEXT,
        created BIGINT NOT NULL,
        expires BIGINT,
        revoked BIGINT,
        PRIMARY KEY (client_id, slot))",
    "CREATE TABLE IF NOT EXISTS apisig_pins (
        client_id TEXT NOT NULL REFERENCES apisig_clients(id) ON DELETE CASCADE,
        slot BIGINT NOT NULL,
        kind TEXT NOT NULL,
        fingerprint BYTES NOT NULL UNIQUE,
        PRIMARY KEY (client_id, slot))",
];

/// The schema version this crate writes; a store with a newer one is refused.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Connections a store keeps to its database unless its URL says otherwise (`pool_size=N`).
pub(crate) const POOL_SIZE: usize = 4;
/// Most connections a store's URL may ask for.
pub(crate) const POOL_MAX: usize = 64;
/// How long a call waits for one of the pool's connections before failing as unavailable.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// A store URL without this crate's own parameter, and the pool size it asks for:
/// `pool_size=N` (1 to [`POOL_MAX`]) among the query parameters (`sqlite:keys.db?pool_size=8`,
/// `postgres://…/db?sslmode=disable&pool_size=8`); the default [`POOL_SIZE`]. An in-memory
/// SQLite database is one connection's own: its pool is one connection.
pub(crate) fn pool_url(url: &str) -> Result<(String, usize), StoreError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut size = None;
    let mut rest = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        match param.strip_prefix("pool_size=") {
            Some(n) => {
                let n = n.parse::<usize>().ok().filter(|n| (1..=POOL_MAX).contains(n)).ok_or_else(|| {
                    StoreError::InvalidUrl(format!("pool_size is a number from 1 to {POOL_MAX}: {n:?}"))
                })?;
                size = Some(n);
            }
            None => rest.push(param),
        }
    }
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    let memory = matches!(url.as_str(), "sqlite::memory:" | "sqlite://:memory:");
    Ok((url, if memory { 1 } else { size.unwrap_or(POOL_SIZE) }))
}

/// A bounded pool of connections to one database: a call takes an idle connection, or opens
/// one while fewer than `size` are open, or waits (up to 5 s, then
/// [`StoreError::Unavailable`]) for one to come back. Lookups from several threads run on
/// several connections at once; a PostgreSQL connection that broke is made again by its next
/// use, and one that cannot be made fails the call as unavailable (failing closed).
pub(crate) struct Pool {
    url: String,
    size: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    open: usize,
}

impl Pool {
    /// A pool of at most `size` connections to `url`, holding `first`, already open. An
    /// SQLite file is named by its absolute path from then on, so connections opened later
    /// reach the same file whatever the process's working directory has become.
    pub(crate) fn new(url: String, size: usize, first: Conn) -> Pool {
        let url = match url.strip_prefix("sqlite:").map(|rest| rest.strip_prefix("//").unwrap_or(rest)) {
            Some(path) if path != ":memory:" => {
                std::fs::canonicalize(path).map_or(url.clone(), |p| format!("sqlite:{}", p.display()))
            }
            _ => url,
        };
        let state = PoolState { idle: vec![first], open: 1 };
        Pool { url, size: size.max(1), state: Mutex::new(state), returned: Condvar::new() }
    }

    /// How many connections the pool keeps at most.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    fn state(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection, given back to the pool when dropped.
    pub(crate) fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let deadline = Instant::now().checked_add(POOL_WAIT);
        let mut state = self.state();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Pooled { pool: self, conn: Some(conn) });
            }
            if state.open < self.size {
                state.open = state.open.saturating_add(1);
                drop(state);
                return match Conn::open(&self.url) {
                    Ok(conn) => Ok(Pooled { pool: self, conn: Some(conn) }),
                    Err(e) => {
                        let mut state = self.state();
                        state.open = state.open.saturating_sub(1);
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.and_then(|d| d.checked_duration_since(Instant::now())).unwrap_or_default();
            if left.is_zero() {
                return Err(StoreError::Unavailable(format!(
                    "all {} of the store's connections stayed busy for {} s",
                    self.size,
                    POOL_WAIT.as_secs()
                )));
            }
            state = self.returned.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// A connection taken from a [`Pool`].
pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Pooled<'_> {
    /// [`Conn::transaction`] on this connection.
    pub(crate) fn transaction<T>(
        &mut self,
        write: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.conn.as_mut() {
            Some(conn) => conn.transaction(write, f),
            None => Err(StoreError::Unavailable("no connection".into())),
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.state().idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}

/// An open database.
pub(crate) enum Conn {
    #[cfg(feature = "sqlite")]
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<pg::Pg>),
}

impl Conn {
    /// Opens the database a URL names: `sqlite:PATH` (also `sqlite://PATH`,
    /// `sqlite:///ABSOLUTE/PATH`, and `sqlite::memory:`), `postgres://…` or `postgresql://…`
    /// (libpq's URL form).
    pub(crate) fn open(url: &str) -> Result<Conn, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            #[cfg(feature = "sqlite")]
            return sqlite::open(rest.strip_prefix("//").unwrap_or(rest)).map(Conn::Sqlite);
            #[cfg(not(feature = "sqlite"))]
            return Err(StoreError::InvalidUrl(format!("{rest}: built without the `sqlite` feature")));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return pg::Pg::open(url).map(|p| Conn::Postgres(Box::new(p)));
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::InvalidUrl("built without the `postgres` feature".into()));
        }
        Err(StoreError::InvalidUrl("a store URL starts with sqlite: or postgres://".into()))
    }

    /// Runs `f` inside one transaction: committed when `f` returns `Ok`, rolled back
    /// otherwise (nothing half-written). `write` takes the database's write lock at the start
    /// (SQLite's `BEGIN IMMEDIATE`), so concurrent writers queue instead of failing mid-way.
    pub(crate) fn transaction<T>(
        &mut self,
        write: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => sqlite::transaction(c, write, f),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.transaction(f),
        }
    }

    /// The database's name for byte strings, for the schema.
    pub(crate) fn bytes_type(&self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => "BLOB",
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => "BYTEA",
        }
    }

    /// Whether this is PostgreSQL (several processes may migrate at once: they take a lock).
    pub(crate) fn is_postgres(&self) -> bool {
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(_) = self {
            return true;
        }
        false
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use rusqlite::types::{Value, ValueRef};
    use rusqlite::{Connection, OpenFlags, TransactionBehavior};

    use super::{Row, Tx, Val};
    use crate::StoreError;

    fn err(e: rusqlite::Error) -> StoreError {
        StoreError::Unavailable(format!("SQLite: {e}"))
    }

    pub(super) fn open(path: &str) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            if path == ":memory:" { Connection::open_in_memory() } else { Connection::open_with_flags(path, flags) }
                .map_err(err)?;
        // WAL: readers (other workers) are not blocked by a writer; writers wait for each
        // other up to 5 s rather than failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        Ok(conn)
    }

    pub(super) fn transaction<T>(
        conn: &mut Connection,
        write: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let behavior = if write { TransactionBehavior::Immediate } else { TransactionBehavior::Deferred };
        let mut tx = conn.transaction_with_behavior(behavior).map_err(err)?;
        let out = f(&mut tx)?;
        tx.commit().map_err(err)?;
        Ok(out)
    }

    fn param(v: &Val) -> Value {
        match v {
            Val::Int(Some(i)) => Value::Integer(*i),
            Val::Text(Some(t)) => Value::Text(t.clone()),
            Val::Blob(Some(b)) => Value::Blob(b.clone()),
            Val::Int(None) | Val::Text(None) | Val::Blob(None) => Value::Null,
        }
    }

    impl Tx for rusqlite::Transaction<'_> {
        fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
            let params: Vec<Value> = params.iter().map(param).collect();
            // Cached: a bulk import runs the same statements a million times.
            let n = self.prepare_cached(sql).map_err(err)?.execute(rusqlite::params_from_iter(params)).map_err(err)?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        }

        fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
            let params: Vec<Value> = params.iter().map(param).collect();
            let mut stmt = self.prepare_cached(sql).map_err(err)?;
            let columns = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(err)? {
                let mut vals = Vec::with_capacity(columns);
                for i in 0..columns {
                    // SQLite's columns are dynamically typed: a null reads as whichever type
                    // the caller asks for (`Row::int` etc. accept any null).
                    vals.push(match row.get_ref(i).map_err(err)? {
                        ValueRef::Null => Val::Text(None),
                        ValueRef::Integer(i) => Val::Int(Some(i)),
                        ValueRef::Real(_) => return Err(StoreError::Corrupt("a real number in the store".into())),
                        ValueRef::Text(t) => Val::Text(Some(
                            String::from_utf8(t.to_vec())
                                .map_err(|_| StoreError::Corrupt("text is not UTF-8".into()))?,
                        )),
                        ValueRef::Blob(b) => Val::Blob(Some(b.to_vec())),
                    });
                }
                out.push(Row(vals));
            }
            Ok(out)
        }
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod pg {
    use std::time::Duration;

    use postgres::types::{ToSql, Type};
    use postgres::{Client, Config, NoTls};

    use super::{Row, Tx, Val};
    use crate::StoreError;

    fn err(e: postgres::Error) -> StoreError {
        StoreError::Unavailable(format!("PostgreSQL: {e}"))
    }

    /// A PostgreSQL connection, re-established on the next call after it broke (a restarted
    /// server is used again without reopening the store).
    pub(crate) struct Pg {
        config: Config,
        client: Option<Client>,
    }

    impl Pg {
        pub(super) fn open(url: &str) -> Result<Pg, StoreError> {
            let mut config: Config = url.parse().map_err(|e| StoreError::InvalidUrl(format!("{e}")))?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(Duration::from_secs(5));
            }
            let mut pg = Pg { config, client: None };
            pg.client()?;
            Ok(pg)
        }

        fn client(&mut self) -> Result<&mut Client, StoreError> {
            if self.client.as_ref().is_none_or(Client::is_closed) {
                self.client = Some(self.config.connect(NoTls).map_err(err)?);
            }
            self.client.as_mut().ok_or_else(|| StoreError::Unavailable("PostgreSQL: not connected".into()))
        }

        pub(super) fn transaction<T>(
            &mut self,
            f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
        ) -> Result<T, StoreError> {
            let result = (|| {
                let mut tx = self.client()?.transaction().map_err(err)?;
                let out = f(&mut tx)?;
                tx.commit().map_err(err)?;
                Ok(out)
            })();
            // A broken connection is dropped, so the next call connects again.
            if result.is_err() && self.client.as_ref().is_some_and(Client::is_closed) {
                self.client = None;
            }
            result
        }
    }

    /// `?` placeholders as PostgreSQL's `$1`, `$2`, … (the statements hold no `?` in quotes).
    fn numbered(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len().saturating_add(8));
        let mut n = 0u32;
        for c in sql.chars() {
            if c == '?' {
                n = n.saturating_add(1);
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    fn param(v: &Val) -> &(dyn ToSql + Sync) {
        match v {
            Val::Int(i) => i,
            Val::Text(t) => t,
            Val::Blob(b) => b,
        }
    }

    impl Tx for postgres::Transaction<'_> {
        fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
            let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(param).collect();
            self.execute(numbered(sql).as_str(), &params).map_err(err)
        }

        fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
            let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(param).collect();
            let rows = postgres::Transaction::query(self, numbered(sql).as_str(), &params).map_err(err)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut vals = Vec::with_capacity(row.len());
                for (i, col) in row.columns().iter().enumerate() {
                    let ty = col.type_();
                    vals.push(if *ty == Type::INT8 {
                        Val::Int(row.try_get(i).map_err(err)?)
                    } else if *ty == Type::INT4 {
                        Val::Int(row.try_get::<_, Option<i32>>(i).map_err(err)?.map(i64::from))
                    } else if *ty == Type::BYTEA {
                        Val::Blob(row.try_get(i).map_err(err)?)
                    } else {
                        Val::Text(row.try_get(i).map_err(err)?)
                    });
                }
                out.push(Row(vals));
            }
            Ok(out)
        }
    }
}
