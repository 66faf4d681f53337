//! Where the bytes live: a content-addressed directory or a database table. Both backends share
//! the `blobs` registry table (the row a writer of a key locks); only where the bytes are kept
//! differs. Keys are the lower-case hex SHA-256 of the bytes, checked before any path is made
//! from one, so a path never comes from user input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::BlobBackend;
use crate::store::Tx;

use super::repo;

/// The key of some bytes: their SHA-256 in lower-case hex.
pub fn key_of(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// True for strings that can be keys; anything else never reaches the file system.
pub fn is_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The backend bound to a data directory (a cheap value; made on demand from the handle).
#[derive(Debug, Clone)]
pub enum BlobStore {
    Dir(DirBlobs),
    Db,
}

impl BlobStore {
    pub fn new(backend: BlobBackend, dir: &Path) -> BlobStore {
        match backend {
            BlobBackend::Dir => BlobStore::Dir(DirBlobs {
                root: dir.to_path_buf(),
            }),
            BlobBackend::Db => BlobStore::Db,
        }
    }

    pub fn backend(&self) -> BlobBackend {
        match self {
            BlobStore::Dir(_) => BlobBackend::Dir,
            BlobStore::Db => BlobBackend::Db,
        }
    }

    /// Before the staging transaction: the directory backend makes the file durable. The
    /// database backend writes its bytes inside the transaction instead (`register`).
    pub async fn write_before(&self, key: &str, bytes: &[u8]) -> Result<()> {
        match self {
            BlobStore::Dir(d) => d.write(key, bytes).await,
            BlobStore::Db => Ok(()),
        }
    }

    /// Records `key` in the registry (with the bytes, for the database backend) and locks its
    /// row until the transaction ends. Waits for a deletion of the same key in progress.
    pub async fn register(
        &self,
        tx: &mut Tx,
        key: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let data = matches!(self, BlobStore::Db).then_some(bytes);
        repo::register_blob(tx, key, bytes.len() as i64, data, now).await
    }

    /// After the staging transaction: a deletion that held the key's lock while we waited may
    /// have removed the file we wrote; now that our staged row protects the key, write it again.
    pub async fn ensure_after(&self, key: &str, bytes: &[u8]) -> Result<()> {
        match self {
            BlobStore::Dir(d) => d.write(key, bytes).await,
            BlobStore::Db => Ok(()),
        }
    }

    /// Removes the bytes of `key`; the caller holds the key's registry lock and has checked that
    /// nothing references it, and deletes the registry row in the same transaction.
    pub async fn remove(&self, key: &str) -> Result<()> {
        match self {
            BlobStore::Dir(d) => d.remove(key).await,
            // The registry row is the blob.
            BlobStore::Db => Ok(()),
        }
    }

    pub async fn exists(&self, tx: &mut Tx, key: &str) -> Result<bool> {
        match self {
            BlobStore::Dir(d) => Ok(d.path(key)?.is_file()),
            BlobStore::Db => repo::blob_has_data(tx, key).await,
        }
    }

    pub async fn read(&self, tx: &mut Tx, key: &str) -> Result<Option<Vec<u8>>> {
        if !is_key(key) {
            return Ok(None);
        }
        match self {
            // A terminal still running through `blobs move-to-db` finds the bytes in the
            // registry row once the files are gone.
            BlobStore::Dir(d) => match d.read(key).await? {
                Some(bytes) => Ok(Some(bytes)),
                None => repo::blob_data(tx, key).await,
            },
            BlobStore::Db => repo::blob_data(tx, key).await,
        }
    }
}

/// `<blob dir>/ab/cdef…` (`<data_dir>/blobs` unless set): two hex digits of fan-out keep directories small; `tmp/` holds
/// files being written.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    root: PathBuf,
}

/// A stored file as the directory lists it.
pub struct DirEntry {
    pub key: String,
    pub modified: SystemTime,
}

impl DirBlobs {
    pub fn path(&self, key: &str) -> Result<PathBuf> {
        if !is_key(key) {
            return Err(Error::BadInput(format!("{key:?} is not a blob key")));
        }
        Ok(self.root.join(&key[..2]).join(&key[2..]))
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Temp file → fsync → rename → fsync of the directory: after this returns, the file is
    /// complete under its final name even across a power cut, and a reader never sees half a
    /// file. A file already there is complete (it got there by rename) and is left alone.
    async fn write(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        let tmp_dir = self.tmp_dir();
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
                return Ok(());
            }
            let dir = path.parent().expect("blob paths have a parent");
            let made_dir = !dir.is_dir();
            std::fs::create_dir_all(dir)?;
            std::fs::create_dir_all(&tmp_dir)?;
            let tmp = tmp_dir.join(format!("{}.tmp", Uuid::now_v7().simple()));
            let result = (|| {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)?;
                sync_dir(dir)?;
                if made_dir {
                    // The new fan-out directory's own entry must be durable too.
                    sync_dir(dir.parent().expect("fan-out dirs have a parent"))?;
                }
                Ok(())
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    pub async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Io(e)),
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
    }

    async fn remove(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            match std::fs::remove_file(&path) {
                Ok(()) => sync_dir(path.parent().expect("blob paths have a parent")),
                // Already gone (an earlier attempt got this far): the goal is reached.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// Every stored blob file. Names that are not keys are not ours and are left alone.
    pub fn list(&self) -> Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for shard in shards {
            let shard = shard?;
            let prefix = shard.file_name().to_string_lossy().to_string();
            if prefix.len() != 2 || !shard.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(shard.path())? {
                let f = f?;
                let key = format!("{prefix}{}", f.file_name().to_string_lossy());
                if is_key(&key) && f.file_type()?.is_file() {
                    out.push(DirEntry {
                        key,
                        modified: f.metadata()?.modified()?,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Whether `dir` holds no blob file (a fresh image directory).
    pub fn holds_no_blobs(dir: &Path) -> Result<bool> {
        let blobs = DirBlobs {
            root: dir.to_path_buf(),
        };
        Ok(blobs.list()?.is_empty())
    }

    /// Removes every blob file and the shop's marker (the images moved into the database);
    /// returns how many files went.
    pub async fn remove_all(&self) -> Result<i64> {
        let mut n = 0;
        for entry in self.list()? {
            self.remove(&entry.key).await?;
            n += 1;
        }
        match std::fs::remove_file(self.root.join(super::storage::MARKER)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        Ok(n)
    }

    /// Files left in `tmp/` (by a process that died mid-write), with their times.
    pub fn temp_files(&self) -> Result<Vec<(PathBuf, SystemTime)>> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.tmp_dir()) else {
            return Ok(out);
        };
        for e in entries {
            let e = e?;
            out.push((e.path(), e.metadata()?.modified()?));
        }
        Ok(out)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashes_and_nothing_else_makes_a_path() {
        let k = key_of(b"hello");
        assert_eq!(
            k,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(is_key(&k));
        let d = DirBlobs {
            root: PathBuf::from("/data/blobs"),
        };
        assert_eq!(
            d.path(&k).unwrap(),
            PathBuf::from("/data/blobs/2c").join(&k[2..])
        );
        for bad in [
            "../../etc/passwd",
            "",
            &k.to_uppercase(),
            &format!("{k}/.."),
        ] {
            assert!(d.path(bad).is_err(), "{bad}");
        }
    }
}
