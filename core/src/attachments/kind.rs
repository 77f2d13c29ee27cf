//! What a file is: its type is read from its first bytes (the `infer` crate's magic
//! numbers, then a look for markup and text), never taken from its name or from what
//! the uploader declared. The declared type is kept when it differs, so an admin can
//! see a file that lied; the detected one is what is checked and served.

/// How many leading bytes detection reads.
pub use crate::storage::HEAD_BYTES;

/// The types shown in the browser (`Content-Disposition: inline`): raster images and
/// PDFs. Everything else — SVG, HTML, XML, scripts, text — is always a download.
pub const INLINE: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];

/// What customers may send unless their organisation's admins say otherwise:
/// pictures, PDFs, plain text and logs, and office documents. Not archives, programs,
/// markup or scripts (agents may send any type).
pub const CUSTOMER_DEFAULT: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/heic",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/rtf",
];

/// The type of a file whose first bytes are `head` (at most [`HEAD_BYTES`]) and whose
/// name is `name` (which only tells CSV from other text).
pub fn detect(head: &[u8], name: &str) -> String {
    // Markup first: `infer` would call an SVG with an XML declaration plain XML.
    if let Some(markup) = markup(head) {
        return markup.to_owned();
    }
    if let Some(t) = infer::get(head) {
        return t.mime_type().to_owned();
    }
    if is_text(head) {
        let csv = name.rsplit_once('.').is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("csv"));
        return if csv { "text/csv" } else { "text/plain" }.to_owned();
    }
    "application/octet-stream".to_owned()
}

/// The declared type to keep beside the detected one: none when it says the same
/// (parameters and case aside) or says nothing.
pub fn mismatch(declared: Option<&str>, detected: &str) -> Option<String> {
    let declared = declared?.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let generic = declared.is_empty() || declared == "application/octet-stream";
    (!generic && declared != detected).then_some(declared)
}

/// Whether a file of `content_type` may be shown in the browser.
pub fn inline(content_type: &str) -> bool {
    INLINE.contains(&content_type)
}

/// Whether `content_type` is on `allowed`, whose entries are whole types or a family
/// (`image/*`).
pub fn allowed(allowed: &[String], content_type: &str) -> bool {
    allowed.iter().any(|a| match a.strip_suffix("/*") {
        Some(family) => content_type.split_once('/').is_some_and(|(f, _)| f == family),
        None => a == content_type,
    })
}

/// Whether `t` reads as a media type an allow list may name (`type/subtype` or
/// `type/*`, lowercase).
pub fn is_media_type(t: &str) -> bool {
    let Some((family, sub)) = t.split_once('/') else { return false };
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
    };
    token(family) && (sub == "*" || token(sub))
}

/// SVG, HTML and XML, which a browser would run script in: recognised so that they
/// are named for what they are (and never shown inline).
fn markup(head: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]).to_ascii_lowercase();
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if !start.starts_with('<') {
        return None;
    }
    if text.contains("<svg") {
        Some("image/svg+xml")
    } else if ["<!doctype html", "<html", "<head", "<body", "<script", "<iframe"].iter().any(|t| start.starts_with(t)) {
        Some("text/html")
    } else if start.starts_with("<?xml") {
        Some("application/xml")
    } else {
        None
    }
}

/// Valid UTF-8 without NUL (a character cut at the end of the head is allowed).
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn the_bytes_decide_the_type_not_the_name() {
        assert_eq!(detect(PNG, "photo.pdf"), "image/png");
        assert_eq!(detect(b"PK\x03\x04\x14\0\0\0\x08\0", "screenshot.png"), "application/zip");
        assert_eq!(detect(b"%PDF-1.7\n", "x"), "application/pdf");
        assert_eq!(detect(b"2026-12-06 error: disk full\n", "app.log"), "text/plain");
        assert_eq!(detect(b"a,b\n1,2\n", "export.CSV"), "text/csv");
        assert_eq!(detect(b"\x00\x01\x02\x03", "blob"), "application/octet-stream");
    }

    #[test]
    fn markup_is_named_for_what_it_is_and_never_shown_inline() {
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        assert_eq!(detect(svg, "logo.png"), "image/svg+xml");
        assert_eq!(detect(b"\xef\xbb\xbf  <!DOCTYPE html><p>hi", "a.txt"), "text/html");
        assert_eq!(detect(b"<?xml version=\"1.0\"?><a/>", "a.txt"), "application/xml");
        for t in ["image/svg+xml", "text/html", "application/xml", "text/plain", "application/zip"] {
            assert!(!inline(t), "{t}");
        }
        assert!(inline("image/png") && inline("application/pdf"));
    }

    #[test]
    fn a_declared_type_is_kept_only_when_it_differs() {
        assert_eq!(mismatch(Some("image/png"), "application/zip").as_deref(), Some("image/png"));
        assert_eq!(mismatch(Some("Image/PNG; charset=x"), "image/png"), None);
        assert_eq!(mismatch(Some("application/octet-stream"), "image/png"), None);
        assert_eq!(mismatch(None, "image/png"), None);
    }

    #[test]
    fn allow_lists_name_types_or_families() {
        let list = vec!["image/*".to_owned(), "application/pdf".to_owned()];
        assert!(allowed(&list, "image/webp"));
        assert!(allowed(&list, "application/pdf"));
        assert!(!allowed(&list, "application/zip"));
        assert!(is_media_type("image/*") && is_media_type("application/vnd.ms-excel"));
        assert!(!is_media_type("*/*") && !is_media_type("image") && !is_media_type("Image/PNG"));
    }

    #[test]
    fn text_cut_inside_a_character_is_still_text() {
        let mut head = "é".repeat(10).into_bytes();
        head.pop();
        assert!(is_text(&head));
        assert!(!is_text(b"a\0b"));
    }
}
