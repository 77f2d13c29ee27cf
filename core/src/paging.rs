//! Keyset pages over `(time, id)`: the cursor names the last row of the page before,
//! so a deep page costs what the first does and rows written while a client pages do
//! not shift or repeat entries. A cursor is opaque to clients (hex of
//! `tag|microseconds|id`) and carries a tag naming the listing and its order, so a
//! cursor from one listing is refused by another instead of cutting it wrongly.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::FieldErrors;

/// Where a cursor continues a listing: after this row, in the listing's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub at: DateTime<Utc>,
    pub id: i64,
}

pub fn encode(tag: &str, at: DateTime<Utc>, id: i64) -> String {
    data_encoding::HEXLOWER.encode(format!("{tag}|{}|{id}", at.timestamp_micros()).as_bytes())
}

pub fn decode(raw: &str, tag: &str) -> Option<After> {
    if raw.len() > 128 {
        return None;
    }
    let bytes = data_encoding::HEXLOWER_PERMISSIVE.decode(raw.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('|');
    let t = parts.next()?;
    let at = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
    let id = parts.next()?.parse().ok()?;
    (t == tag && parts.next().is_none()).then_some(After { at, id })
}

/// `limit` from the query string: a whole number from 1 to `max`, else `default`
/// and a field error.
pub fn limit(f: &mut FieldErrors, raw: Option<&str>, default: i64, max: i64) -> i64 {
    match raw.map(|l| l.trim().parse::<i64>()) {
        None => default,
        Some(Ok(l)) if (1..=max).contains(&l) => l,
        Some(_) => {
            f.add("limit", format!("must be a whole number from 1 to {max}"));
            default
        }
    }
}

/// Which end of a conversation a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Oldest,
    Newest,
}

impl Order {
    pub fn sql(self) -> &'static str {
        match self {
            Order::Oldest => "ASC",
            Order::Newest => "DESC",
        }
    }

    /// The comparison that keeps the rows after a cursor.
    pub fn after(self) -> &'static str {
        match self {
            Order::Oldest => ">",
            Order::Newest => "<",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Order::Oldest => "o",
            Order::Newest => "n",
        }
    }
}

pub const THREAD_DEFAULT_LIMIT: i64 = 50;
pub const THREAD_MAX_LIMIT: i64 = 200;

/// Paging a ticket's comments or history: from either end, a page at a time.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ThreadQuery {
    /// `oldest` first (default) or `newest` first.
    #[param(pattern = r"^\s*(oldest|newest)\s*$")]
    pub order: Option<String>,
    /// `next_cursor` of the previous page, with the same `order`.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    #[param(pattern = r"^\s*[+]?0*([1-9][0-9]?|1[0-9][0-9]|200)\s*$")]
    pub limit: Option<String>,
}

/// A `ThreadQuery` checked: which end, after which row, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thread {
    pub order: Order,
    pub after: Option<After>,
    pub limit: i64,
    /// Names the listing in its cursors (`c` comments, `h` history).
    listing: &'static str,
}

impl ThreadQuery {
    /// Checks the parameters for the listing named `listing`; every bad one is a
    /// field error.
    pub fn check(&self, listing: &'static str) -> crate::error::Result<Thread> {
        let mut f = FieldErrors::default();
        let order = match self.order.as_deref().map(str::trim) {
            None | Some("oldest") => Order::Oldest,
            Some("newest") => Order::Newest,
            Some(_) => {
                f.add("order", "must be one of: oldest, newest");
                Order::Oldest
            }
        };
        let tag = format!("{listing}{}", order.tag());
        let after = match self.cursor.as_deref().map(str::trim) {
            None => None,
            Some(raw) => match decode(raw, &tag) {
                Some(a) => Some(a),
                None => {
                    f.add("cursor", "is not a cursor from this listing (or the order changed)");
                    None
                }
            },
        };
        let limit = limit(&mut f, self.limit.as_deref(), THREAD_DEFAULT_LIMIT, THREAD_MAX_LIMIT);
        f.finish()?;
        Ok(Thread { order, after, limit, listing })
    }
}

impl Thread {
    /// Cuts the one row fetched past the limit (it only says there is more) and
    /// names the cursor that continues after the last row kept.
    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> (DateTime<Utc>, i64)) -> (Vec<T>, Option<String>) {
        if rows.len() as i64 <= self.limit {
            return (rows, None);
        }
        rows.truncate(self.limit as usize);
        let next = rows.last().map(|r| {
            let (at, id) = key(r);
            encode(&format!("{}{}", self.listing, self.order.tag()), at, id)
        });
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp_micros(1_795_000_000_123_456).unwrap()
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_tag() {
        let c = encode("cn", at(), 42);
        assert_eq!(decode(&c, "cn"), Some(After { at: at(), id: 42 }));
        assert_eq!(decode(&c, "co"), None);
        for junk in ["", "zz", "abc", "00", &"a".repeat(400)] {
            assert_eq!(decode(junk, "cn"), None, "{junk}");
        }
    }

    #[test]
    fn a_cursor_from_one_order_or_listing_is_refused_by_another() {
        let q =
            |order: &str, cursor: String| ThreadQuery { order: Some(order.into()), cursor: Some(cursor), limit: None };
        let newest = encode("cn", at(), 7);
        assert_eq!(q("newest", newest.clone()).check("c").unwrap().after, Some(After { at: at(), id: 7 }));
        assert!(q("oldest", newest.clone()).check("c").is_err());
        assert!(q("newest", newest).check("h").is_err());
    }

    #[test]
    fn limits_outside_one_to_the_maximum_are_field_errors() {
        let q = |l: &str| ThreadQuery { limit: Some(l.into()), ..Default::default() }.check("c");
        assert_eq!(q("200").unwrap().limit, 200);
        assert_eq!(q(" +7 ").unwrap().limit, 7);
        for bad in ["0", "201", "-1", "x", ""] {
            assert!(q(bad).is_err(), "{bad}");
        }
        assert_eq!(ThreadQuery::default().check("c").unwrap().limit, THREAD_DEFAULT_LIMIT);
    }

    #[test]
    fn a_page_names_a_cursor_only_when_a_row_was_left_over() {
        let t = ThreadQuery { limit: Some("2".into()), order: Some("newest".into()), cursor: None }.check("c").unwrap();
        let rows = vec![(at(), 3), (at(), 2), (at(), 1)];
        let (kept, next) = t.page(rows, |r| *r);
        assert_eq!(kept.len(), 2);
        assert_eq!(decode(&next.unwrap(), "cn"), Some(After { at: at(), id: 2 }));
        let (kept, next) = t.page(vec![(at(), 1)], |r| *r);
        assert_eq!((kept.len(), next), (1, None));
    }
}
