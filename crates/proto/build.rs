//! Compiles every `.proto` under the workspace's `proto/` folder without a system `protoc`: protox parses
//! them into a descriptor set, tonic-prost-build generates the Rust code from it, and the set itself is
//! kept for gRPC reflection.

use std::path::{Path, PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir.join("../../proto");
    let mut files = Vec::new();
    collect_protos(&root, &root, &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }

    let fds = protox::compile(&files, [&root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("oneledger_descriptor.bin"),
        fds.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // The generated code names another package by a relative path that assumes one module per
        // package segment; `google.type` sits at the crate root instead (`type` is a keyword, so
        // `google_type`).
        .extern_path(".google.type", "crate::google_type")
        // prost's codec, a request that does not parse answered INVALID_ARGUMENT (`codec`).
        .codec_path("crate::codec::Codec")
        .compile_fds(fds)?;
    Ok(())
}

/// Adds the path (relative to `root`) of every `.proto` file below `dir`.
fn collect_protos(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto")
            && let Ok(relative) = path.strip_prefix(root)
        {
            out.push(relative.to_path_buf());
        }
    }
    Ok(())
}
