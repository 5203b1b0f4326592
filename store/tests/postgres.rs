//! The PostgreSQL store against a real server: Debian's PostgreSQL (installed by
//! scripts/postgres-server.sh, which `make test` runs first), started here with initdb and
//! postgres in a temporary directory on a free 127.0.0.1 port — as `nobody` when the tests
//! run as root, which PostgreSQL refuses.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apisig::client::Slot;
use apisig_store::{KeyKind, MasterKey, Store, StoreError};

/// A PostgreSQL server of its own, stopped and started again on the same port and data.
pub struct PgServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    root: bool,
}

/// The newest PostgreSQL's binaries (Debian keeps them out of PATH, by major version).
fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, d)| d)
}

impl PgServer {
    pub fn start() -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            // A newcomer's `cargo test` without PostgreSQL: say so. `make test` installs it
            // first, and CI must not pass without it.
            assert!(std::env::var_os("CI").is_none(), "PostgreSQL is missing (scripts/postgres-server.sh)");
            eprintln!("skipped: PostgreSQL is not installed (scripts/postgres-server.sh installs it)");
            return None;
        };
        let id = Command::new("id").arg("-u").output().unwrap();
        let root = String::from_utf8_lossy(&id.stdout).trim() == "0";
        let dir = tempfile::tempdir().unwrap();
        if root {
            std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = PgServer { bin, dir, port, child: None, root };
        let data = server.data();
        let out = server
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        server.restart();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A PostgreSQL program, run as `nobody` when we are root (setpriv execs it: the child is
    /// the program itself, so it can be signalled).
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        let mut c = if self.root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        c.current_dir(self.dir.path()).stdin(Stdio::null());
        c
    }

    pub fn restart(&mut self) {
        let data = self.data();
        let log = std::fs::File::create(self.dir.path().join(format!("log-{}", self.port))).unwrap();
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .args(["-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", &format!("unix_socket_directories={}", self.dir.path().display())])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        // Accepting connections once a query goes through (the port opens a little earlier).
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok()
            {
                break;
            }
            assert!(Instant::now() < deadline, "postgres did not start: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("log-{}", self.port))).unwrap_or_default()
    }

    /// A fast shutdown (SIGINT): connections are closed, the data is kept.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
            child.wait().unwrap();
        }
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// A new empty database on this server.
    pub fn database(&self, name: &str) -> String {
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url(name)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn lifecycle_and_master_key_in_postgres() {
    let Some(pg) = PgServer::start() else { return };
    let store = Store::open(&pg.database("lifecycle"), MasterKey::generate().unwrap()).unwrap();
    common::lifecycle(&store);
    common::wrong_master_key(&pg.database("master"));
}

/// Several workers opening one new database at once: one migrates, the others wait for it
/// (an advisory lock); all end up with the same store.
#[test]
fn workers_opening_a_new_database_together_migrate_it_once() {
    let Some(pg) = PgServer::start() else { return };
    let url = pg.database("together");
    let master = MasterKey::generate().unwrap();
    let stores: Vec<Store> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| Store::open(&url, master.clone()).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    stores[0].create_client("c").unwrap();
    assert!(stores.iter().all(|s| s.client("c").unwrap().is_some()));
}

/// The server stopped: every call fails as unavailable (a verifier answers 503) — except a
/// mistyped key, refused by its checksum without asking the store. Restarted: the same
/// store works again, without being reopened.
#[test]
fn stopped_postgres_is_unavailable_and_a_restart_recovers() {
    let Some(mut pg) = PgServer::start() else { return };
    let store = Store::open(&pg.database("restart"), MasterKey::generate().unwrap()).unwrap();
    store.create_client("c").unwrap();
    let key = store.issue("c", Slot::Primary, KeyKind::Static).unwrap();
    assert!(store.load_by_static_key(key.as_str().as_bytes()).unwrap().is_some());

    pg.stop();
    assert!(matches!(store.load_by_static_key(key.as_str().as_bytes()), Err(StoreError::Unavailable(_))));
    assert!(matches!(store.load("c"), Err(StoreError::Unavailable(_))));
    assert!(matches!(store.issue("c", Slot::Secondary, KeyKind::Static), Err(StoreError::Unavailable(_))));
    let mut typo = key.as_str().as_bytes().to_vec();
    typo[30] = if typo[30] == b'a' { b'b' } else { b'a' };
    assert_eq!(store.load_by_static_key(&typo).unwrap_err(), StoreError::Core(apisig::Error::InvalidKeyFormat));

    pg.restart();
    assert_eq!(store.load_by_static_key(key.as_str().as_bytes()).unwrap().unwrap().info.id, "c");
    // The failed issue wrote nothing.
    assert_eq!(store.client("c").unwrap().unwrap().keys.len(), 1);
}

/// Workers verifying through caches when PostgreSQL stops: an entry past its time-to-live
/// fails closed ([`apisig::Error::StoreUnavailable`], HTTP 503) — unless the worker opted
/// into serving stale entries — and a restarted server is used again by the same caches.
#[test]
fn caches_fail_closed_while_postgres_is_down_and_recover() {
    use apisig::store::ClientStore;
    use apisig_store::{CacheConfig, CachedStore};

    let Some(mut pg) = PgServer::start() else { return };
    let url = pg.database("cache");
    let master = MasterKey::generate().unwrap();
    let ttl = Duration::from_millis(200);
    let strict =
        CachedStore::new(Store::open(&url, master.clone()).unwrap(), CacheConfig { ttl, ..CacheConfig::default() });
    let lenient = CachedStore::new(
        Store::open(&url, master).unwrap(),
        CacheConfig { ttl, serve_stale: Some(Duration::from_secs(60)), ..CacheConfig::default() },
    );
    strict.store().create_client("c").unwrap();
    let key = strict.store().issue("c", Slot::Primary, KeyKind::Static).unwrap();
    let k = key.as_str().as_bytes();
    assert_eq!(strict.by_static_key(k).unwrap().unwrap().id(), "c");
    assert_eq!(lenient.by_static_key(k).unwrap().unwrap().id(), "c");

    pg.stop();
    std::thread::sleep(ttl + Duration::from_millis(50));
    assert_eq!(strict.by_static_key(k).unwrap_err(), apisig::Error::StoreUnavailable);
    assert_eq!(strict.by_id(b"c").unwrap_err(), apisig::Error::StoreUnavailable);
    assert_eq!(apisig::Error::StoreUnavailable.http_status(), 503);
    assert_eq!(lenient.by_static_key(k).unwrap().unwrap().id(), "c", "served stale, as chosen");
    assert_eq!(lenient.by_id(b"c").unwrap_err(), apisig::Error::StoreUnavailable, "never fetched: nothing to serve");

    pg.restart();
    assert_eq!(strict.by_static_key(k).unwrap().unwrap().id(), "c");
    assert_eq!(lenient.by_id(b"c").unwrap().unwrap().id(), "c");
}
