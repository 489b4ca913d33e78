//! Test support shared by the integration tests of every crate; real servers only, never mocks.
//!
//! - [`TestDatabase`]: a fresh database on the machine's PostgreSQL, one per test, so runs never collide;
//! - [`NatsServer`]: a nats-server process on a free loopback port with its own store directory, which a
//!   test can `kill -9` and restart (the machine's shared server on 4222 is left alone);
//! - [`NatsCluster`]: three such processes routed into one JetStream cluster, for R3 streams;
//! - [`PgServer`]: a PostgreSQL server of a test's own, which it can stop as in a crash and start again
//!   (and run with TLS);
//! - [`TestCa`]: a certificate authority made in the test, with server and client certificates;
//! - [`issuer`], [`token`], [`authorized`], [`request_id`]: what every test's client needs to call a
//!   service (the services under test verify with [`issuer`]'s key set, as with a district's provider).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use std::sync::LazyLock;

use oneledger_auth::{DevIssuer, Role};
use oneledger_domain::Agency;
use sqlx::Connection;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// The district the tests' tokens act in.
pub const DISTRICT: &str = "binhai";

/// One issuer per test process, with a key of its own: what the services under test verify against.
static ISSUER: LazyLock<DevIssuer> = LazyLock::new(|| match DevIssuer::generate(DISTRICT) {
    Ok(issuer) => issuer,
    Err(e) => panic!("the tests' issuer: {e}"),
});

/// The tests' issuer (`issuer().verifier()` is what a service under test verifies with).
pub fn issuer() -> &'static DevIssuer {
    &ISSUER
}

/// A token for `unit` of `agency` with `roles`, valid for ten minutes, signed by `issuer`.
pub fn token(issuer: &DevIssuer, agency: Agency, unit: &str, roles: &[Role]) -> String {
    let ttl = Duration::from_secs(600);
    match issuer.token(&format!("{unit}/test"), agency, unit, roles, ttl) {
        Ok(token) => token,
        Err(e) => panic!("test token: {e}"),
    }
}

/// The verifier of the tests' issuer.
pub fn verifier() -> oneledger_auth::Verifier {
    match issuer().verifier() {
        Ok(verifier) => verifier,
        Err(e) => panic!("the tests' verifier: {e}"),
    }
}

/// `message` with `token` as its bearer.
pub fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    match oneledger_auth::authorized(message, token) {
        Ok(request) => request,
        Err(e) => panic!("test token: {e}"),
    }
}

/// A fresh request id (UUIDv7), as clients send with every command.
pub fn request_id() -> String {
    Uuid::now_v7().to_string()
}

/// A certificate authority made in a test, and the certificates it signs: for servers, `localhost` and
/// `127.0.0.1`; for clients, a name. Written as PEM files into its own directory.
pub struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pem: String,
    /// Where the PEM files are written.
    pub dir: tempfile::TempDir,
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct TestCert {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Result<Self> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let pem = params.self_signed(&key)?.pem();
        let ca = TestCa {
            issuer: rcgen::Issuer::new(params, key),
            pem,
            dir: tempfile::tempdir()?,
        };
        std::fs::write(ca.ca_path(), &ca.pem)?;
        Ok(ca)
    }

    /// The CA's certificate file.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The CA's certificate (PEM).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `localhost` and `127.0.0.1`.
    pub fn server(&self, name: &str) -> Result<TestCert> {
        self.sign(name, vec!["localhost".into(), "127.0.0.1".into()])
    }

    /// A client certificate for `name`.
    pub fn client(&self, name: &str) -> Result<TestCert> {
        self.sign(name, Vec::new())
    }

    fn sign(&self, name: &str, names: Vec<String>) -> Result<TestCert> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.issuer)?;
        let out = TestCert {
            cert: self.dir.path().join(format!("{name}.pem")),
            key: self.dir.path().join(format!("{name}.key")),
        };
        std::fs::write(&out.cert, cert.pem())?;
        std::fs::write(&out.key, key.serialize_pem())?;
        Ok(out)
    }
}

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
    /// Arguments given at every start (TLS).
    extra: Vec<String>,
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
        Self::start_with(Vec::new()).await
    }

    /// [`start`](Self::start) with TLS required of every client, under the server's `cert`/`key` and
    /// verifying client certificates against `ca` (PEM files).
    pub async fn start_tls(cert: &Path, key: &Path, ca: &Path) -> Result<Self> {
        let arg = |p: &Path| p.display().to_string();
        Self::start_with(vec![
            "--tls".into(),
            "--tlscert".into(),
            arg(cert),
            "--tlskey".into(),
            arg(key),
            "--tlscacert".into(),
            arg(ca),
            "--tlsverify".into(),
        ])
        .await
    }

    async fn start_with(extra: Vec<String>) -> Result<Self> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut server = NatsServer {
                port: free_port()?,
                dir: tempfile::tempdir()?,
                child: None,
                extra: extra.clone(),
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
            .args(&self.extra)
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

/// A PostgreSQL server that one test owns: its own data directory and port, which the test can stop in
/// immediate mode (as a crash: no checkpoint, clients cut off) and start again on the same data. The
/// machine's server on 5432 is left alone. When the test runs as root the server runs as `postgres`, as
/// PostgreSQL refuses root.
#[derive(Debug)]
pub struct PgServer {
    port: u16,
    /// Settings given to the server at every start (`-c name=value`).
    settings: Vec<String>,
    /// Data directory and socket directory, removed with the server.
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// `postgres` when the test runs as root.
    run_as: Option<(u32, u32)>,
    child: Option<Child>,
}

fn pg_bindir() -> Result<PathBuf> {
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .context("no PostgreSQL server binaries (initdb) found")
}

fn id_of(args: &[&str]) -> Result<u32> {
    let out = std::process::Command::new("id").args(args).output()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .with_context(|| format!("id {args:?}"))
}

impl PgServer {
    /// Creates a cluster (trust auth, UTF-8) and starts it on a free port.
    pub async fn start() -> Result<Self> {
        Self::start_with(None).await
    }

    /// [`start`](Self::start), with TLS on (and only TLS accepted over TCP) under `cert`/`key` (PEM).
    pub async fn start_tls(cert: &str, key: &str) -> Result<Self> {
        Self::start_with(Some((cert, key))).await
    }

    async fn start_with(tls: Option<(&str, &str)>) -> Result<Self> {
        let run_as = if id_of(&["-u"])? == 0 {
            Some((id_of(&["-u", "postgres"])?, id_of(&["-g", "postgres"])?))
        } else {
            None
        };
        let mut server = PgServer {
            settings: Vec::new(),
            port: free_port()?,
            dir: tempfile::tempdir()?,
            bin: pg_bindir()?,
            run_as,
            child: None,
        };
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(server.dir.path(), Some(uid), Some(gid))?;
        }
        let status = server
            .command("initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .arg("-D")
            .arg(server.data())
            .stdout(Stdio::null())
            .status()
            .await
            .context("running initdb")?;
        if !status.success() {
            bail!("initdb failed: {status}");
        }
        if let Some((cert, key)) = tls {
            server.use_tls(cert, key)?;
        }
        server.restart().await?;
        Ok(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Writes the server's certificate and key (the key its user's alone, as PostgreSQL requires) and
    /// makes TCP connections TLS-only (`hostssl` in pg_hba.conf).
    fn use_tls(&mut self, cert: &str, key: &str) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let (cert_path, key_path) = (
            self.dir.path().join("server.crt"),
            self.dir.path().join("server.key"),
        );
        std::fs::write(&cert_path, cert)?;
        std::fs::write(&key_path, key)?;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
        let hba = self.data().join("pg_hba.conf");
        std::fs::write(
            &hba,
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )?;
        if let Some((uid, gid)) = self.run_as {
            for path in [&cert_path, &key_path, &hba] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
            }
        }
        self.settings = vec![
            "ssl=on".into(),
            format!("ssl_cert_file={}", cert_path.display()),
            format!("ssl_key_file={}", key_path.display()),
        ];
        Ok(())
    }

    /// A command of the server's binaries, as the user the server runs as.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.args([
                    format!("--reuid={uid}"),
                    format!("--regid={gid}"),
                    "--clear-groups".to_owned(),
                ])
                .arg("--")
                .arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the server (again) on its port and data, and waits until it accepts connections.
    pub async fn restart(&mut self) -> Result<()> {
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(self.settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting postgres")?;
        self.child = Some(child);
        for _ in 0..600 {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!("postgres on port {} exited: {status}", self.port);
            }
            if sqlx::PgConnection::connect(&self.url("postgres"))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("postgres did not accept connections on port {}", self.port)
    }

    /// Immediate shutdown (SIGQUIT to the postmaster, as `pg_ctl stop -m immediate`): every connection
    /// is cut at once and nothing is checkpointed; the next start recovers from the WAL.
    pub async fn stop_immediate(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().context("postgres already exited")?;
            let status = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status()
                .await?;
            if !status.success() {
                bail!("kill -QUIT {pid}: {status}");
            }
            child.wait().await?;
        }
        Ok(())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Backends outlive a killed postmaster; SIGQUIT takes them all down with it.
        if let Some(pid) = self.child.as_ref().and_then(Child::id) {
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
        }
    }
}
