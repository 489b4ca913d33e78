//! Test support shared by the integration tests of every crate; real servers only, never mocks.
//!
//! - [`TestDatabase`]: a fresh database on the machine's PostgreSQL, one per test, so runs never collide;
//! - [`NatsServer`]: a nats-server process on a free loopback port with its own store directory, which a
//!   test can `kill -9` and restart (the machine's shared server on 4222 is left alone);
//! - [`NatsCluster`]: three such processes routed into one JetStream cluster, for R3 streams.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::Connection;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// The PostgreSQL server tests create their databases on: `ONELEDGER_TEST_DATABASE_URL`, or the
/// machine's server (trust auth, database `test`).
pub fn admin_url() -> String {
    std::env::var("ONELEDGER_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database of one test; [`drop_db`](Self::drop_db) removes it (a panicking test leaves it behind,
/// under a name no other run uses).
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    /// URL of the new database.
    pub url: String,
}

impl TestDatabase {
    /// Creates `oneledger_t_<random>`.
    pub async fn create() -> Result<Self> {
        let admin = admin_url();
        let name = format!("oneledger_t_{}", Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let base = admin
            .rsplit_once('/')
            .context("admin URL names no database")?
            .0;
        Ok(TestDatabase {
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// Drops the database, closing whatever connections are still open to it.
    pub async fn drop_db(self) -> Result<()> {
        self.drop_with_siblings(&[]).await
    }

    /// Drops the database and the databases `<name>_<suffix>` made beside it (as `oneledger up` makes
    /// one per store).
    pub async fn drop_with_siblings(self, suffixes: &[&str]) -> Result<()> {
        let mut conn = sqlx::PgConnection::connect(&admin_url()).await?;
        let names = std::iter::once(self.name.clone())
            .chain(suffixes.iter().map(|s| format!("{}_{s}", self.name)));
        for name in names {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await?;
        }
        Ok(())
    }
}

/// A nats-server with JetStream that one test owns.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn nats_binary() -> PathBuf {
    let debian = Path::new("/usr/sbin/nats-server");
    if debian.exists() {
        debian.to_path_buf()
    } else {
        PathBuf::from("nats-server")
    }
}

impl NatsServer {
    /// Starts a server on a free port with a fresh store directory (on another port should a concurrent
    /// test take the chosen one first).
    pub async fn start() -> Result<Self> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut server = NatsServer {
                port: free_port()?,
                dir: tempfile::tempdir()?,
                child: None,
            };
            match server.restart().await {
                Ok(()) => return Ok(server),
                Err(e) if attempt < 5 => eprintln!("nats-server start failed ({e}); retrying"),
                Err(e) => return Err(e),
            }
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and store directory, and waits until it listens.
    pub async fn restart(&mut self) -> Result<()> {
        let child = Command::new(nats_binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting nats-server")?;
        self.child = Some(child);
        for _ in 0..400 {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!("nats-server on port {} exited: {status}", self.port);
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("nats-server did not listen on port {}", self.port)
    }

    /// `kill -9`: the server gets no chance to flush.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }
}

/// A three-node nats-server cluster with JetStream on loopback that one test owns, for R3 streams.
#[derive(Debug)]
pub struct NatsCluster {
    /// Client ports, one per node.
    ports: Vec<u16>,
    /// Route ports, one per node.
    routes: Vec<u16>,
    dirs: Vec<tempfile::TempDir>,
    children: Vec<Option<Child>>,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl NatsCluster {
    /// Starts three nodes routed to each other, and waits until each listens. Ports are free when chosen
    /// but another test may take one before a node binds it: then the cluster starts again on new ones.
    pub async fn start() -> Result<Self> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once().await {
                Ok(cluster) => return Ok(cluster),
                Err(e) if attempt < 5 => eprintln!("NATS cluster start failed ({e}); retrying"),
                Err(e) => return Err(e),
            }
        }
    }

    async fn start_once() -> Result<Self> {
        const NODES: usize = 3;
        let mut cluster = NatsCluster {
            ports: (0..NODES).map(|_| free_port()).collect::<Result<_>>()?,
            routes: (0..NODES).map(|_| free_port()).collect::<Result<_>>()?,
            dirs: (0..NODES)
                .map(|_| tempfile::tempdir())
                .collect::<std::io::Result<_>>()?,
            children: (0..NODES).map(|_| None).collect(),
        };
        for node in 0..NODES {
            cluster.restart(node).await?;
        }
        Ok(cluster)
    }

    /// Every node's URL, comma-separated, as clients take them.
    pub fn urls(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts `node` (again) on its ports and store directory, and waits until it listens.
    pub async fn restart(&mut self, node: usize) -> Result<()> {
        let routes = self
            .routes
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let child = Command::new(nats_binary())
            .args(["-a", "127.0.0.1", "-p", &self.ports[node].to_string()])
            .args(["-js", "-sd"])
            .arg(self.dirs[node].path())
            .args(["--name", &format!("n{node}"), "--cluster_name", "oneledger"])
            .args([
                "--cluster",
                &format!("nats://127.0.0.1:{}", self.routes[node]),
                "--routes",
                &routes,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting nats-server")?;
        self.children[node] = Some(child);
        for _ in 0..400 {
            if let Some(child) = self.children[node].as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!("nats-server n{node} exited: {status}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.ports[node]))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!(
            "nats-server n{node} did not listen on port {}",
            self.ports[node]
        )
    }

    /// `kill -9` of one node.
    pub async fn kill(&mut self, node: usize) -> Result<()> {
        if let Some(mut child) = self.children[node].take() {
            child.kill().await?;
        }
        Ok(())
    }
}
