//! What a free-text field may hold, said once for the server and for the OpenAPI
//! document, so the two agree.
//!
//! - A **line** (a name, a subject, a title, a label): no control character at all,
//!   and not only spaces.
//! - **Prose** (a description, a comment, an article's body): no control character but
//!   tab, line feed and carriage return.
//!
//! Control characters are Unicode's `Cc` (U+0000–U+001F, U+007F–U+009F); spaces are
//! Rust's `char::is_whitespace`. The patterns spell both out as ranges rather than
//! `\s`/`\S`, whose meaning differs between regex engines (Python's `\s` takes
//! U+001C–U+001F as spaces, ECMAScript's does not), so every client reads the
//! document's rule the way the server applies it. Each field's `#[schema(pattern)]`
//! repeats one of these constants literally (utoipa takes literals only); a test of the
//! OpenAPI document holds every free-text field to them.

use crate::error::FieldErrors;

/// An organisation's short name, as it appears in addresses (`/help/{slug}`): the
/// OpenAPI document states the same rule as [`SLUG_PATTERN`].
pub fn is_slug(slug: &str) -> bool {
    (1..=63).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// A slug as a JSON Schema pattern (with `maxLength: 63`).
pub const SLUG_PATTERN: &str = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$";

/// What [`is_slug`] asks, as a field error says it.
pub const SLUG_RULE: &str = "must be 1 to 63 lowercase letters, digits or dashes, not starting or ending with a dash";

/// The pattern of a line: [`is_line`].
pub const LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$";

/// The pattern of prose that may be empty: [`is_prose`].
pub const PROSE: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The pattern of prose that must say something: [`is_prose`] and not only spaces.
pub const PROSE_NOT_BLANK: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// No control character, and something besides spaces.
pub fn is_line(s: &str) -> bool {
    !s.chars().any(char::is_control) && !s.trim().is_empty()
}

/// No control character but tab, line feed and carriage return.
pub fn is_prose(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Checks a line of at most `max` characters (as sent), naming `field` when it fails.
pub fn line(f: &mut FieldErrors, field: &str, s: &str, max: usize) {
    if !is_line(s) || s.chars().count() > max {
        f.add(field, format!("must be 1 to {max} characters, not all spaces, without control characters"));
    }
}

/// Checks prose of at most `max` characters (as sent); `required`: not only spaces.
pub fn prose(f: &mut FieldErrors, field: &str, s: &str, max: usize, required: bool) {
    let blank = required && s.trim().is_empty();
    if blank || !is_prose(s) || s.chars().count() > max {
        let least = if required { 1 } else { 0 };
        f.add(
            field,
            format!("must be {least} to {max} characters, without control characters other than tabs and line breaks"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_separator_is_a_control_character_not_a_space() {
        assert!(!is_line("\u{1e}"), "refused, and for the right reason");
        assert!(!is_line("Ada\u{1e}"));
        assert!(!is_line(" \u{3000} "));
        assert!(is_line("Ada Lovelace"));
        assert!(is_line("発送 ✓"));
        assert!(is_prose("line one\r\n\tline two"));
        assert!(!is_prose("bell\u{7}"));
        assert!(!is_prose("next line\u{85}"));
        let mut f = FieldErrors::default();
        line(&mut f, "display_name", "\u{1e}", 200);
        prose(&mut f, "body", "   ", 10, true);
        prose(&mut f, "description", "", 10, false);
        assert_eq!(f.to_string().matches("must be").count(), 2, "the empty optional prose passes");
    }
}
