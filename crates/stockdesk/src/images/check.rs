//! Input checks for image files: decode with a real decoder (JPEG, PNG, WebP and GIF only), with
//! limits on bytes and pixels, and make the list-size thumbnail. Nothing here touches storage, so
//! a file that fails a check leaves nothing behind.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result};

/// Larger files are refused before they are read.
pub const MAX_BYTES: u64 = 20 * 1024 * 1024;
/// 50 megapixels: more than any shop camera, and small enough to decode on a till.
pub const MAX_PIXELS: u64 = 50_000_000;
/// No side longer than this, whatever the pixel count.
pub const MAX_SIDE: u32 = 20_000;
/// Thumbnails fit in a square of this side (two list rows on a high-density screen).
pub const THUMB_SIDE: u32 = 256;

/// A file that passed the checks, with its thumbnail.
pub struct CheckedImage {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub thumb: Vec<u8>,
}

/// Reads and checks the file at `path`. The extension must name the format the bytes really are,
/// so a renamed file is caught here rather than shown broken later.
pub fn check_file(path: &Path) -> Result<CheckedImage> {
    let name = path.display().to_string();
    let bad = |reason: String| Error::validation("file", format!("{name}: {reason}"));
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let named = match ext.as_str() {
        "jpg" | "jpeg" => ImageFormat::Jpeg,
        "png" => ImageFormat::Png,
        "webp" => ImageFormat::WebP,
        "gif" => ImageFormat::Gif,
        _ => {
            return Err(bad(format!(
                "the extension {ext:?} is not one of .jpg, .jpeg, .png, .webp, .gif"
            )))
        }
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(bad("not a regular file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(bad(too_big(meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the file: {e}")))?;
    let checked = check_bytes(bytes).map_err(|e| match e {
        Error::Validation(mut errs) => {
            errs[0].reason = format!("{name}: {}", errs[0].reason);
            Error::Validation(errs)
        }
        other => other,
    })?;
    let actual = format_of(checked.content_type);
    if actual != named {
        return Err(bad(format!(
            "the file is a {} image but its name ends in .{ext}",
            format_name(actual)
        )));
    }
    Ok(checked)
}

/// Checks bytes that came without a name (pasted, dragged from a browser).
pub fn check_bytes(bytes: Vec<u8>) -> Result<CheckedImage> {
    let bad = |reason: String| Error::validation("file", reason);
    if bytes.is_empty() {
        return Err(bad("the file is empty".into()));
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(bad(too_big(bytes.len() as u64)));
    }
    let format = image::guess_format(&bytes)
        .ok()
        .filter(|f| {
            matches!(
                f,
                ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
            )
        })
        .ok_or_else(|| bad("not a JPEG, PNG, WebP or GIF image".into()))?;

    // Header first: a file declaring a huge size is refused before anything is allocated.
    let unreadable = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => bad(format!(
            "the image is too large (at most {MAX_PIXELS} pixels, {MAX_SIDE} per side)"
        )),
        e => bad(format!("not a readable {} image: {e}", format_name(format))),
    };
    let (width, height) = reader(&bytes, format)
        .into_dimensions()
        .map_err(unreadable)?;
    if width == 0 || height == 0 {
        return Err(bad("the image has no pixels".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(bad(format!(
            "{width}×{height} pixels is too large (at most {MAX_PIXELS} pixels, {MAX_SIDE} per side)"
        )));
    }
    // The decoder keeps the same limits, for formats whose later frames could claim more.
    let image = reader(&bytes, format).decode().map_err(unreadable)?;
    let thumb = thumbnail(&image).map_err(|e| bad(format!("could not make a thumbnail: {e}")))?;
    Ok(CheckedImage {
        bytes,
        content_type: content_type(format),
        width,
        height,
        thumb,
    })
}

/// The MIME type of stored bytes (blobs are images or their thumbnails, nothing else).
pub fn sniff_content_type(bytes: &[u8]) -> &'static str {
    image::guess_format(bytes)
        .map(content_type)
        .unwrap_or("application/octet-stream")
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA at the pixel limit, plus room for the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    let mut r = ImageReader::with_format(Cursor::new(bytes), format);
    r.limits(limits);
    r
}

/// JPEG for opaque images (small), PNG where there is transparency to keep. Encoders are
/// deterministic, so the same upload gives the same thumbnail and it is stored once.
fn thumbnail(image: &DynamicImage) -> image::ImageResult<Vec<u8>> {
    let small = image.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let mut out = Cursor::new(Vec::new());
    if small.color().has_alpha() {
        DynamicImage::ImageRgba8(small.to_rgba8()).write_to(&mut out, ImageFormat::Png)?;
    } else {
        let rgb = small.to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82).encode_image(&rgb)?;
    }
    Ok(out.into_inner())
}

fn too_big(len: u64) -> String {
    format!(
        "{:.1} MB is larger than the limit of {} MB",
        len as f64 / 1_048_576.0,
        MAX_BYTES / 1_048_576
    )
}

fn content_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::WebP => "image/webp",
        ImageFormat::Gif => "image/gif",
        _ => "application/octet-stream",
    }
}

fn format_of(content_type: &str) -> ImageFormat {
    match content_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        _ => ImageFormat::Gif,
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        _ => "GIF",
    }
}
