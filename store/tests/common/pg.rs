//! A PostgreSQL server of the test's (or benchmark's) own: Debian's PostgreSQL (installed by
//! scripts/postgres-server.sh), initdb and postgres in a temporary directory on a free
//! 127.0.0.1 port, as `nobody` when run as root (PostgreSQL refuses root).
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
