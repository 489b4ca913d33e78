//! `oneledger backup` and `oneledger restore`: `up`'s data directory copied while it runs and put back
//! into an empty one. The keys go to a place of their own: a backup of the data alone reads no
//! petitioner's personal data, so the two can be kept by different custodians (deploy/README.md).
//!
//! Each SQLite database is copied with `VACUUM INTO`, a consistent snapshot taken while writers go on.
//! The ledger is copied first and the stores after it, so the stores of a backup hold every event its
//! ledger has applied: restored, the projector goes on from the ledger's checkpoints and catches up on
//! whatever the stores took meanwhile. A ledger copied after its stores could stand past them and skip
//! the events appended at those positions after the restore.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use oneledger_domain::Agency;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Connection;

use crate::up::ISSUER_KEY_FILE;

/// The key files of a data directory: the master and pseudonym keys, and the dev issuer's key.
const KEY_FILES: [&str; 2] = ["keys.json", ISSUER_KEY_FILE];
/// What a backup says of itself.
const MANIFEST: &str = "manifest.json";

/// The databases of a data directory, in the order they are copied: the ledger first.
fn databases() -> Vec<String> {
    std::iter::once("ledger.db".to_owned())
        .chain(Agency::ALL.iter().map(|a| format!("{a}.db")))
        .collect()
}

/// What a backup holds, to check a restore against.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// When it was taken (UTC).
    taken_at: String,
    /// Each database file and the SHA-256 of its copy.
    files: Vec<(String, String)>,
    /// Whether the keys were copied (elsewhere) with it.
    keys_copied: bool,
}

/// Copies `data_dir`'s databases into `to` (created, and empty) and, when given, its keys into `keys_to`.
pub async fn backup(data_dir: &Path, to: &Path, keys_to: Option<&Path>) -> anyhow::Result<()> {
    if let Some(keys) = keys_to
        && same_or_inside(keys, to)
    {
        bail!(
            "--keys-to must be apart from --to: whoever holds the data backup must not hold its keys"
        );
    }
    fresh_dir(to, "--to")?;
    let mut files = Vec::new();
    for name in databases() {
        let from = data_dir.join(&name);
        if !from.exists() {
            bail!(
                "{} has no {name}: is it `up`'s data directory?",
                data_dir.display()
            );
        }
        let copy = to.join(&name);
        let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", from.display()))
            .await
            .with_context(|| format!("opening {}", from.display()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(copy.display().to_string())
            .execute(&mut db)
            .await
            .with_context(|| format!("copying {name}"))?;
        db.close().await?;
        files.push((name, sha256(&copy)?));
    }
    if let Some(keys) = keys_to {
        fresh_dir(keys, "--keys-to")?;
        for name in KEY_FILES {
            let from = data_dir.join(name);
            if from.exists() {
                std::fs::copy(&from, keys.join(name)).with_context(|| format!("copying {name}"))?;
            }
        }
    }
    let manifest = Manifest {
        taken_at: chrono::Utc::now().to_rfc3339(),
        files,
        keys_copied: keys_to.is_some(),
    };
    std::fs::write(to.join(MANIFEST), serde_json::to_string_pretty(&manifest)?)?;
    println!(
        "backed up {} databases into {}",
        manifest.files.len(),
        to.display()
    );
    match keys_to {
        Some(keys) => println!(
            "keys copied into {} — keep them apart from the data",
            keys.display()
        ),
        None => println!(
            "keys NOT copied: keep {}/keys.json safe on its own (without it no personal data can be read)",
            data_dir.display()
        ),
    }
    Ok(())
}

/// Puts the backup in `from` (and the keys in `keys_from`) into the empty data directory `data_dir`.
pub async fn restore(from: &Path, keys_from: Option<&Path>, data_dir: &Path) -> anyhow::Result<()> {
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(from.join(MANIFEST))
            .with_context(|| format!("{} holds no backup ({MANIFEST})", from.display()))?,
    )
    .context("the backup's manifest is unreadable")?;
    for (name, digest) in &manifest.files {
        if sha256(&from.join(name))? != *digest {
            bail!("{name} in the backup does not match its manifest: the backup is damaged");
        }
    }
    std::fs::create_dir_all(data_dir)?;
    if let Some(existing) = databases()
        .iter()
        .chain(KEY_FILES.map(str::to_owned).iter())
        .find(|n| data_dir.join(n).exists())
    {
        bail!(
            "{} already holds {existing}: a restore goes into an empty data directory",
            data_dir.display()
        );
    }
    match keys_from {
        Some(keys) => {
            for name in KEY_FILES {
                let key = keys.join(name);
                if key.exists() {
                    std::fs::copy(&key, data_dir.join(name))
                        .with_context(|| format!("restoring {name}"))?;
                }
            }
        }
        None => eprintln!(
            "no --keys-from: `up` makes new keys, and the restored petitioners' personal data stays sealed under the old ones"
        ),
    }
    for (name, _) in &manifest.files {
        std::fs::copy(from.join(name), data_dir.join(name))
            .with_context(|| format!("restoring {name}"))?;
    }
    println!(
        "restored the backup of {} into {}; start `oneledger up --data-dir {}`",
        manifest.taken_at,
        data_dir.display(),
        data_dir.display()
    );
    Ok(())
}

fn sha256(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Creates `dir`, refusing one that exists with something in it.
fn fresh_dir(dir: &Path, flag: &str) -> anyhow::Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{flag} {} is not empty: a backup goes into a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// True when `a` is `b` or inside it (compared as absolute paths, before either exists).
fn same_or_inside(a: &Path, b: &Path) -> bool {
    let absolute =
        |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_owned()) };
    absolute(a).starts_with(absolute(b))
}
