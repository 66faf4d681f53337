//! The backup file: a tar archive (POSIX ustar, readable with `tar tvf`) whose first entry is
//! `stockdesk-backup/manifest.json` (what it is and the SHA-256 of every other entry), then the
//! database copy, then the image files named by their SHA-256. Written to a temporary file,
//! made durable, then renamed into place, so a backup file that exists is complete.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{damaged, too_new, FORMAT, FORMAT_VERSION};
use crate::error::{Error, Result};
use crate::model::{BackupEntry, BackupManifest};

/// Every entry lives under this folder inside the archive.
pub const ROOT: &str = "stockdesk-backup";
pub const MANIFEST: &str = "manifest.json";
/// The largest manifest read (a million image entries is far below).
const MAX_MANIFEST: u64 = 512 * 1024 * 1024;

/// A file to put into the archive: its path inside, and where its bytes are now.
pub struct Member {
    pub path: String,
    pub from: PathBuf,
}

/// The SHA-256 and size of a file, read once.
pub fn digest_file(path: &Path) -> Result<(String, i64)> {
    let mut file = BufReader::new(File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0i64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as i64;
    }
    Ok((format!("{:x}", hasher.finalize()), size))
}

/// Writes the archive to `path` (via `path.partial`): the manifest, then `members` in order.
/// Returns the SHA-256 and size of the whole file.
pub fn write(path: &Path, manifest: &BackupManifest, members: &[Member]) -> Result<(String, i64)> {
    let partial = partial_path(path);
    let result = write_to(&partial, manifest, members);
    match result {
        Ok(sum) => {
            std::fs::rename(&partial, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)?.sync_all()?;
            }
            Ok(sum)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn write_to(path: &Path, manifest: &BackupManifest, members: &[Member]) -> Result<(String, i64)> {
    let file = File::create(path)?;
    let mut tar = tar::Builder::new(Hashing::new(BufWriter::new(file)));
    tar.mode(tar::HeaderMode::Deterministic);
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("manifest not serialisable: {e}")))?;
    append(&mut tar, MANIFEST, json.len() as u64, &json[..])?;
    for m in members {
        let file = File::open(&m.from)?;
        let size = file.metadata()?.len();
        append(&mut tar, &m.path, size, BufReader::new(file))?;
    }
    let hashing = tar.into_inner()?;
    let (mut out, sum, size) = hashing.finish();
    out.flush()?;
    out.into_inner()
        .map_err(|e| Error::Io(e.into_error()))?
        .sync_all()?;
    Ok((sum, size))
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: impl Read,
) -> Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, format!("{ROOT}/{path}"), data)?;
    Ok(())
}

/// Only the manifest of the archive at `path` (its first entry), checked for format and version.
pub fn read_manifest(path: &Path) -> Result<BackupManifest> {
    let file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", path.display())))?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    let mut entries = tar
        .entries()
        .map_err(|e| damaged(format!("not a tar archive: {e}")))?;
    match entries.next() {
        Some(Ok(first)) => manifest_of(first),
        Some(Err(e)) => Err(damaged(format!("not a tar archive: {e}"))),
        None => Err(damaged("the file is empty".into())),
    }
}

fn manifest_of<R: Read>(mut first: tar::Entry<'_, R>) -> Result<BackupManifest> {
    let name = entry_name(&first)?;
    if name != MANIFEST {
        return Err(damaged(format!(
            "not a Stockdesk backup: its first entry is {name:?}, not {ROOT}/{MANIFEST}"
        )));
    }
    let mut text = Vec::new();
    (&mut first).take(MAX_MANIFEST).read_to_end(&mut text)?;
    parse_manifest(&text)
}

/// Reads the archive at `path`: checks the manifest (format, version), then every entry against
/// it, handing each entry's bytes to `keep` (which may write them somewhere) as they are read.
/// Fails as `damaged` on anything missing, extra, or not matching its checksum.
pub fn read(
    path: &Path,
    mut keep: impl FnMut(&BackupEntry, &mut dyn Read) -> Result<()>,
) -> Result<BackupManifest> {
    let file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {}: {e}", path.display())))?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    let mut entries = tar
        .entries()
        .map_err(|e| damaged(format!("not a tar archive: {e}")))?;
    let manifest = match entries.next() {
        Some(Ok(first)) => manifest_of(first)?,
        Some(Err(e)) => return Err(damaged(format!("not a tar archive: {e}"))),
        None => return Err(damaged("the file is empty".into())),
    };
    let mut seen = std::collections::HashSet::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged(format!("the archive is cut short: {e}")))?;
        let name = entry_name(&entry)?;
        let expected = manifest
            .entries
            .iter()
            .find(|e| e.path == name)
            .ok_or_else(|| damaged(format!("{name:?} is in the file but not in its manifest")))?;
        if !seen.insert(name.clone()) {
            return Err(damaged(format!("{name:?} is in the file twice")));
        }
        let mut checked = Checked::new(&mut entry);
        keep(expected, &mut checked)?;
        // Whatever `keep` left unread still counts for the checksum.
        std::io::copy(&mut checked, &mut std::io::sink())?;
        let (sum, size) = checked.finish();
        if sum != expected.sha256 || size != expected.size {
            return Err(damaged(format!(
                "{name:?} does not match its checksum (the file was changed or cut short)"
            )));
        }
    }
    if let Some(missing) = manifest.entries.iter().find(|e| !seen.contains(&e.path)) {
        return Err(damaged(format!(
            "{:?} is listed in the manifest but missing from the file",
            missing.path
        )));
    }
    Ok(manifest)
}

fn parse_manifest(text: &[u8]) -> Result<BackupManifest> {
    // The format and version first, so a newer backup says so instead of failing to parse.
    #[derive(serde::Deserialize)]
    struct Head {
        format: String,
        format_version: u32,
    }
    let head: Head = serde_json::from_slice(text)
        .map_err(|e| damaged(format!("its manifest cannot be read: {e}")))?;
    if head.format != FORMAT {
        return Err(damaged(format!(
            "not a Stockdesk backup ({:?})",
            head.format
        )));
    }
    if head.format_version > FORMAT_VERSION {
        return Err(too_new(format!(
            "the file is in backup format {} and this Stockdesk reads up to {FORMAT_VERSION}: \
             restore it with a newer Stockdesk",
            head.format_version
        )));
    }
    serde_json::from_slice(text).map_err(|e| damaged(format!("its manifest cannot be read: {e}")))
}

fn entry_name<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String> {
    let path = entry
        .path()
        .map_err(|e| damaged(format!("an entry has no readable name: {e}")))?;
    let text = path.to_string_lossy();
    text.strip_prefix(&format!("{ROOT}/"))
        .map(str::to_string)
        .ok_or_else(|| damaged(format!("{text:?} is not under {ROOT}/")))
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: i64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn finish(self) -> (W, String, i64) {
        (
            self.inner,
            format!("{:x}", self.hasher.finalize()),
            self.size,
        )
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as i64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what is read through it.
struct Checked<'r> {
    inner: &'r mut dyn Read,
    hasher: Sha256,
    size: i64,
}

impl<'r> Checked<'r> {
    fn new(inner: &'r mut dyn Read) -> Checked<'r> {
        Checked {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn finish(self) -> (String, i64) {
        (format!("{:x}", self.hasher.finalize()), self.size)
    }
}

impl Read for Checked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as i64;
        Ok(n)
    }
}
