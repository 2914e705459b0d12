//! Signed snapshots of the whole public register (`registry export --to DIR`): one JSON Lines
//! file per entity, a manifest naming the publication-log sequence they are consistent with,
//! and the manifest signed (compact JWS, EdDSA) with the key whose public half the JWKS
//! endpoint serves. A mirror loads the files, checks hashes and signature, and then follows
//! `GET /api/v1/changes?since=<sequence>`, replacing each changed entity by what its `href`
//! answers.
//!
//! Each line is the entity's public **detail**, exactly what that `href` answers an anonymous
//! caller (a product's profile, a record with its status history, an enterprise's public view,
//! a standard), so the mirror stays one kind of document per entity.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sources::Source;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::records::certificates::CertRow;
use crate::records::designations::DesignationRow;
use crate::signing::{PublicKey, SigningKey};

pub const FORMAT: &str = "product-registry-snapshot/1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.jws";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The publication-log head the files are consistent with: follow the change feed from here.
    pub sequence: i64,
    pub files: Vec<FileEntry>,
    /// The key id (RFC 7638 thumbprint) that signed `manifest.jws`, as in the JWKS.
    pub kid: String,
    /// What each line of each file is.
    pub items: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub count: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<diesel::result::Error> for SnapshotError {
    fn from(e: diesel::result::Error) -> Self {
        SnapshotError::Api(e.into())
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SnapshotError + '_ {
    move |e| SnapshotError::Io(format!("{}: {e}", path.display()))
}

/// Counts and hashes what it writes.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The entities in file order: the holders before what they hold.
fn sources() -> [Source; 5] {
    [
        Source::Enterprises(Default::default()),
        Source::Products(Default::default()),
        Source::Standards(Default::default()),
        Source::Certifications(Default::default()),
        Source::Designations(Default::default()),
    ]
}

/// The public details of a page of list items (enterprises and standards: the item is the
/// detail).
fn details(
    conn: &mut DbConn,
    source: &Source,
    items: Vec<serde_json::Value>,
) -> Result<Vec<serde_json::Value>, SnapshotError> {
    let ids = items
        .iter()
        .filter_map(|i| i.get("id").and_then(|v| v.as_str()).map(str::to_owned));
    let value = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| SnapshotError::Api(ApiError::Internal(e.to_string())))
    };
    match source {
        Source::Enterprises(_) | Source::Standards(_) => Ok(items),
        Source::Products(_) => ids
            .map(|id| {
                let row = crate::products::repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                value(serde_json::to_value(crate::products::profile::build(
                    conn, row,
                )?))
            })
            .collect(),
        Source::Certifications(_) => ids
            .map(|id| {
                value(serde_json::to_value(crate::records::get::<CertRow>(
                    conn, None, &id,
                )?))
            })
            .collect(),
        Source::Designations(_) => ids
            .map(|id| {
                value(serde_json::to_value(crate::records::get::<DesignationRow>(
                    conn, None, &id,
                )?))
            })
            .collect(),
    }
}

/// Writes a snapshot of the public register into `dir` (created; it must be empty if it
/// exists): every file and the sequence read in one read transaction, so no change falls
/// between them, `page_size` rows per query. `progress` gets a line per file.
pub fn write(
    conn: &mut DbConn,
    key: &SigningKey,
    dir: &Path,
    page_size: i64,
    progress: &dyn Fn(&str),
) -> Result<Manifest, SnapshotError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        if entries.next().is_some() {
            return Err(SnapshotError::Io(format!(
                "{} is not empty; choose a new directory",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (sequence, files) = crate::db::read_tx(conn, |conn| {
        let sequence = crate::publication::head(conn)?;
        let mut files = Vec::new();
        for source in sources() {
            let name = format!("{}.jsonl", source.name());
            let path = dir.join(&name);
            let file = std::fs::File::create(&path).map_err(io(&path))?;
            let mut out = Hashing {
                inner: std::io::BufWriter::new(file),
                hash: Sha256::new(),
            };
            let mut count = 0u64;
            let mut after = None;
            loop {
                let (items, next) = source.page(conn, after, page_size)?;
                for item in details(conn, &source, items)? {
                    serde_json::to_writer(&mut out, &item)
                        .map_err(|e| SnapshotError::Io(format!("{}: {e}", path.display())))?;
                    out.write_all(b"\n").map_err(io(&path))?;
                    count += 1;
                }
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            out.flush().map_err(io(&path))?;
            progress(&format!("{name}: {count}"));
            files.push(FileEntry {
                name,
                count,
                sha256: hex::encode(out.hash.finalize()),
            });
        }
        Ok::<_, SnapshotError>((sequence, files))
    })?;
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: chrono::Utc::now(),
        sequence,
        files,
        kid: key.kid().to_owned(),
        items: "each line is the entity's public detail, as GET <href> of the change feed \
                answers it: enterprises GET /api/v1/enterprises/{id}, products \
                /api/v1/products/{id} (the profile), standards /api/v1/standards/{id}, \
                certifications /api/v1/certifications/{id} and designations \
                /api/v1/designations/{id} (with their status history)"
            .into(),
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| SnapshotError::Api(ApiError::Internal(e.to_string())))?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, &json).map_err(io(&path))?;
    let path = dir.join(SIGNATURE);
    std::fs::write(&path, key.jws(&json)).map_err(io(&path))?;
    progress(&format!(
        "{MANIFEST} and {SIGNATURE}: sequence {sequence}, key {}",
        key.kid()
    ));
    Ok(manifest)
}

/// Checks a snapshot: the JWS is a signature of `manifest.json` by one of `keys`, and every
/// file has the count and SHA-256 the manifest gives. Returns the manifest and what is wrong
/// (nothing when it is intact).
pub fn verify(dir: &Path, keys: &[PublicKey]) -> Result<(Manifest, Vec<String>), SnapshotError> {
    let read = |name: &str| -> Result<Vec<u8>, SnapshotError> {
        let path: PathBuf = dir.join(name);
        std::fs::read(&path).map_err(io(&path))
    };
    let json = read(MANIFEST)?;
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| SnapshotError::Io(format!("{MANIFEST}: {e}")))?;
    let jws = String::from_utf8_lossy(&read(SIGNATURE)?).trim().to_owned();
    let mut problems = Vec::new();
    if let Some(p) = check_jws(&jws, &json, keys) {
        problems.push(p);
    }
    if manifest.format != FORMAT {
        problems.push(format!("unknown format {:?}", manifest.format));
    }
    for f in &manifest.files {
        // A manifest names files of its own directory; one that names a path elsewhere (even
        // under a valid signature) would have us read and report on any file of this machine.
        if !plain_file_name(&f.name) {
            problems.push(format!("{:?} is not a file name of the snapshot", f.name));
            continue;
        }
        let path = dir.join(&f.name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{}: {e}", f.name));
                continue;
            }
        };
        let sha = hex::encode(Sha256::digest(&bytes));
        if sha != f.sha256 {
            problems.push(format!(
                "{}: SHA-256 {sha}, manifest says {}",
                f.name, f.sha256
            ));
        }
        let count = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        if count != f.count {
            problems.push(format!(
                "{}: {count} lines, manifest says {}",
                f.name, f.count
            ));
        }
    }
    Ok((manifest, problems))
}

/// A name without directories: no separator, not `.` or `..`, not empty.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !Path::new(name).is_absolute()
}

/// What is wrong with `jws` as a signature of `payload`, if anything.
fn check_jws(jws: &str, payload: &[u8], keys: &[PublicKey]) -> Option<String> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [header, body, signature] = parts[..] else {
        return Some(format!("{SIGNATURE} is not a compact JWS"));
    };
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        kid: String,
    }
    let header: Header = match B64
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
    {
        Some(h) => h,
        None => return Some(format!("{SIGNATURE}: unreadable header")),
    };
    if header.alg != "EdDSA" {
        return Some(format!("{SIGNATURE}: alg {}, expected EdDSA", header.alg));
    }
    if B64.decode(body).ok().as_deref() != Some(payload) {
        return Some(format!("{SIGNATURE} signs something other than {MANIFEST}"));
    }
    let Some(key) = keys.iter().find(|k| k.kid == header.kid) else {
        return Some(format!("{SIGNATURE}: signed by unknown key {}", header.kid));
    };
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    if !key.verifies(signing_input.as_bytes(), signature) {
        return Some(format!("{SIGNATURE}: bad signature"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::plain_file_name;

    #[test]
    fn a_manifest_names_only_files_of_its_directory() {
        for ok in ["products.jsonl", "证书.csv", "a..b.jsonl"] {
            assert!(plain_file_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "/etc/passwd",
            "sub/x.jsonl",
            "a\\b",
        ] {
            assert!(!plain_file_name(bad), "{bad}");
        }
    }
}
