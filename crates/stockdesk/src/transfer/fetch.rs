//! Where an import's image bytes come from: a file beside the CSV (or anywhere), an http(s) URL
//! (as a Shopify export has them), or an image already in the shop (`stockdesk:<key>`, as
//! Stockdesk's export writes them). Downloads are a few at a time, bounded in size and time;
//! every file goes through the same checks as any upload (`images::stage_*`). A source that
//! fails is the row's problem, never the import's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

use crate::ctx::Ctx;
use crate::error::Error;
use crate::images::{self, MAX_BYTES};
use crate::model::StagedBlob;

/// Downloads at once, across the whole import.
pub const PARALLEL_DOWNLOADS: usize = 4;
/// How long one download may take, from connecting to the last byte.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The prefix of an image Stockdesk already has, by the SHA-256 of its bytes.
pub const BLOB_PREFIX: &str = "stockdesk:";

/// Where an image's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// In the shop's blob store, by key.
    Blob(String),
    Path(PathBuf),
    Url(String),
}

impl ImageSource {
    /// Reads an Image Src cell; relative paths are taken from `dir` (the CSV's folder).
    pub fn parse(src: &str, dir: &Path) -> Result<ImageSource, String> {
        let src = src.trim();
        if let Some(key) = src.strip_prefix(BLOB_PREFIX) {
            return if images::is_key(key) {
                Ok(ImageSource::Blob(key.to_string()))
            } else {
                Err(format!(
                    "{src:?} is not an image of a Stockdesk shop ({BLOB_PREFIX} and 64 hex digits)"
                ))
            };
        }
        let lower = src.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(ImageSource::Url(src.to_string()));
        }
        if let Some(path) = src.strip_prefix("file://") {
            return Ok(ImageSource::Path(PathBuf::from(path)));
        }
        if lower.contains("://") {
            return Err(format!(
                "{src:?}: only http(s) addresses, files and {BLOB_PREFIX}… images can be read"
            ));
        }
        let path = PathBuf::from(src);
        Ok(ImageSource::Path(if path.is_absolute() {
            path
        } else {
            dir.join(path)
        }))
    }

    /// Whether reading it needs the network or the disk (a preview counts these).
    pub fn is_fetched(&self) -> bool {
        !matches!(self, ImageSource::Blob(_))
    }
}

/// Reads image sources for one import: one HTTP client, a few downloads at a time.
pub struct Fetcher {
    client: OnceCell<reqwest::Client>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl Default for Fetcher {
    fn default() -> Fetcher {
        Fetcher::new(DOWNLOAD_TIMEOUT)
    }
}

impl Fetcher {
    pub fn new(timeout: Duration) -> Fetcher {
        Fetcher {
            client: OnceCell::new(),
            permits: Arc::new(Semaphore::new(PARALLEL_DOWNLOADS)),
            timeout,
        }
    }

    /// The bytes of `source`, at most `MAX_BYTES`; the reason when they cannot be had.
    pub async fn bytes(&self, ctx: &Ctx, source: &ImageSource) -> Result<Vec<u8>, String> {
        match source {
            ImageSource::Blob(key) => match images::file(ctx, key).await {
                Ok(file) => Ok(file.bytes),
                Err(Error::NotFound { .. }) => Err(format!(
                    "this shop has no image {BLOB_PREFIX}{key} (was the file exported from \
                     another shop?)"
                )),
                Err(e) => Err(e.to_string()),
            },
            ImageSource::Path(path) => read_file(path).await,
            ImageSource::Url(url) => {
                let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
                let client = self
                    .client
                    .get_or_try_init(|| async { client(self.timeout) })
                    .await?;
                download(client, url).await
            }
        }
    }

    /// Stages `bytes` from `source` as an upload, through the same checks as any upload (a
    /// file's extension must match its content).
    pub async fn stage(
        &self,
        ctx: &Ctx,
        actor: &str,
        source: &ImageSource,
        bytes: Vec<u8>,
    ) -> Result<StagedBlob, String> {
        let staged = match source {
            ImageSource::Path(path) => images::stage_file(ctx, actor, path).await,
            _ => images::stage_bytes(ctx, actor, bytes).await,
        };
        staged.map_err(|e| match e {
            Error::Validation(errors) => errors
                .iter()
                .map(|e| e.reason.clone())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("Stockdesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

async fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    if meta.len() > MAX_BYTES {
        return Err(too_large(meta.len()));
    }
    tokio::fs::read(path)
        .await
        .map_err(|e| format!("cannot read {shown}: {e}"))
}

async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            "no complete answer within the time limit".to_string()
        } else if e.is_connect() {
            format!("could not connect: {}", root_cause(&e))
        } else {
            root_cause(&e)
        }
    };
    let mut response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    if let Some(len) = response.content_length().filter(|&n| n > MAX_BYTES) {
        return Err(too_large(len));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if (bytes.len() + chunk.len()) as u64 > MAX_BYTES {
            return Err(too_large((bytes.len() + chunk.len()) as u64));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large(size: u64) -> String {
    format!(
        "larger than {} MB ({} bytes): not an image a product page needs",
        MAX_BYTES / 1024 / 1024,
        size
    )
}

/// The innermost error's message (reqwest wraps hyper wraps io).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart() {
        let dir = Path::new("/shop/files");
        let key = "a".repeat(64);
        assert_eq!(
            ImageSource::parse(&format!("stockdesk:{key}"), dir),
            Ok(ImageSource::Blob(key))
        );
        assert!(ImageSource::parse("stockdesk:abc", dir).is_err());
        assert_eq!(
            ImageSource::parse("https://cdn.example/x.jpg", dir),
            Ok(ImageSource::Url("https://cdn.example/x.jpg".into()))
        );
        assert_eq!(
            ImageSource::parse("img/front.png", dir),
            Ok(ImageSource::Path(PathBuf::from(
                "/shop/files/img/front.png"
            )))
        );
        assert_eq!(
            ImageSource::parse("file:///tmp/a.png", dir),
            Ok(ImageSource::Path(PathBuf::from("/tmp/a.png")))
        );
        assert!(ImageSource::parse("ftp://host/a.png", dir).is_err());
    }
}
