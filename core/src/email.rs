//! An e-mail address as a request carries it, with its one rule: checked by
//! [`Email::check`] on the server and stated by the same pattern ([`PATTERN`]) in the
//! OpenAPI document, so a field that holds an address is typed, not a `String` with a
//! pattern copied beside it.
//!
//! It deserialises from any string, unchecked: a malformed address is a field error
//! (422 naming the field, with the request's other problems), not a parse failure.

use std::{fmt, ops::Deref};

use serde::{Deserialize, Serialize};
use utoipa::openapi::{ObjectBuilder, RefOr, schema::Schema, schema::Type};

use crate::error::FieldErrors;

/// What [`Email::check`] accepts, as a JSON Schema pattern: one `@`, no spaces or
/// control characters, a dot inside the domain, surrounding spaces ignored.
pub const PATTERN: &str = r"^\s*[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f.][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@\s\x00-\x1f\x7f-\x9f.]\s*$";

/// The longest address accepted, in characters as sent.
pub const MAX_CHARS: usize = 254;

/// An e-mail address as sent (surrounding spaces kept until [`Email::trimmed`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Adds a field error under `field` unless the address follows the rule.
    pub fn check(&self, fields: &mut FieldErrors, field: &str) {
        if !is_valid(&self.0) {
            fields.add(field, "must be an email address such as name@example.com");
        }
    }

    /// The address without the spaces around it, as it is stored.
    pub fn trimmed(&self) -> &str {
        self.0.trim()
    }
}

/// The rule [`PATTERN`] states.
pub fn is_valid(email: &str) -> bool {
    let sent_len = email.chars().count();
    let email = email.trim();
    sent_len <= MAX_CHARS
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.matches('@').count() == 1
}

impl Deref for Email {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Email {
    fn from(s: &str) -> Self {
        Email(s.to_owned())
    }
}

impl From<String> for Email {
    fn from(s: String) -> Self {
        Email(s)
    }
}

/// Inline in each field that holds one (`#[schema(inline)]`): the document states the
/// rule where a client reads the field.
impl utoipa::PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).max_length(Some(MAX_CHARS)).pattern(Some(PATTERN)).build().into()
    }
}

impl utoipa::ToSchema for Email {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_needs_one_at_a_dotted_domain_and_no_spaces_inside() {
        for ok in ["ann@example.com", "  ann@example.com ", "a.b+c@mail.example.co.uk"] {
            assert!(is_valid(ok), "{ok:?}");
        }
        for bad in
            ["ann", "ann@", "@example.com", "ann@example", "ann@.com", "ann@example.", "a b@example.com", "a@b@c.de"]
        {
            assert!(!is_valid(bad), "{bad:?}");
        }
        assert!(!is_valid(&format!("{}@example.com", "a".repeat(250))), "longer than 254 characters");
    }

    #[test]
    fn a_bad_address_is_a_field_error_not_a_parse_failure() {
        let email: Email = serde_json::from_str("\"not an address\"").unwrap();
        let mut f = FieldErrors::default();
        email.check(&mut f, "email");
        assert_eq!(f.0.get("email").map(String::as_str), Some("must be an email address such as name@example.com"));
    }
}
