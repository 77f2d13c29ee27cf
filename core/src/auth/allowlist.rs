//! Per-organisation IP allowlists: where an org's users may sign in and work from.
//!
//! An empty list allows every address. A non-empty one is enforced at sign-in and on
//! every authenticated request (the session lookup checks it, see
//! [`super::session::authenticate`]). The address is the one the API resolved from the
//! socket or, behind a trusted proxy only, from its forwarding headers.

use crate::auth::policy::Action;
use crate::ids::OrgId;
use std::net::IpAddr;

use ipnet::IpNet;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::{
    Principal,
    audit::{self, Record, event},
};
use crate::error::{Error, FieldErrors, Result};

pub const MAX_ENTRIES: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    /// An address (`203.0.113.7`, `2001:db8::1`) or a network (`203.0.113.0/24`,
    /// `2001:db8::/32`) whose host bits are zero.
    #[schema(min_length = 2, max_length = 64, pattern = r"^\s*[0-9A-Fa-f:.]+(/[0-9]{1,3})?\s*$")]
    pub cidr: String,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AllowlistEntry)]
pub struct Entry {
    pub id: i64,
    /// Canonical form, always with the prefix length.
    pub cidr: String,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A network in canonical form (`a.b.c.d/len`), or why `input` is not one. Host bits
/// must be zero: `10.1.2.3/8` is almost always a typo for `10.1.2.3/32` or `10.0.0.0/8`,
/// and silently widening it would open the door further than the admin meant.
pub fn parse_cidr(input: &str) -> Result<String, String> {
    parse_net(input).map(|net| net.to_string())
}

/// [`parse_cidr`]'s network itself (an address alone is its /32 or /128).
pub fn parse_net(input: &str) -> Result<IpNet, String> {
    let input = input.trim();
    let (addr, len) = match input.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (input, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| format!("{input:?} is not an IPv4 or IPv6 address or network"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len {
        None => max,
        Some(l) => l
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("the prefix length must be a number from 0 to {max}"))?,
    };
    let net = IpNet::new(addr, len).map_err(|e| e.to_string())?;
    if net.trunc() != net {
        return Err(format!("{input} has host bits set: did you mean {} or {addr}/{max}?", net.trunc()));
    }
    Ok(net)
}

pub async fn list(db: &impl GenericClient, who: &Principal) -> Result<Vec<Entry>> {
    who.require(Action::Configure)?;
    let rows = db
        .query(
            "SELECT id, cidr::text AS cidr, note, created_by, created_at FROM org_ip_allowlist WHERE org_id = $1 ORDER BY cidr",
            &[&who.org_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Entry {
            id: r.get("id"),
            cidr: r.get("cidr"),
            note: r.get("note"),
            created_by: r.get("created_by"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// Replaces the org's list. Refused when the new list would shut out the admin saving
/// it (from `ip`): the way back in would be the database.
pub async fn replace(
    db: &impl GenericClient,
    who: &Principal,
    entries: &[EntryInput],
    ip: Option<IpAddr>,
) -> Result<Vec<Entry>> {
    who.require(Action::Configure)?;
    let mut f = FieldErrors::default();
    if entries.len() > MAX_ENTRIES {
        f.add("entries", format!("at most {MAX_ENTRIES} entries"));
    }
    let mut cidrs = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        match parse_cidr(&e.cidr) {
            Ok(c) if cidrs.contains(&c) => f.add(&format!("entries[{i}].cidr"), format!("{c} is listed twice")),
            Ok(c) => cidrs.push(c),
            Err(why) => f.add(&format!("entries[{i}].cidr"), why),
        }
        crate::text::prose(&mut f, &format!("entries[{i}].note"), &e.note, 200, false);
    }
    f.finish()?;
    if !cidrs.is_empty() {
        let covered = match ip {
            Some(ip) => db
                .query_one("SELECT bool_or($1::inet <<= c) FROM unnest($2::text[]::cidr[]) AS c", &[&ip, &cidrs])
                .await?
                .get::<_, Option<bool>>(0)
                .unwrap_or(false),
            None => false,
        };
        if !covered {
            let you = ip.map_or("unknown".to_string(), |ip| ip.to_string());
            return Err(Error::Conflict {
                code: crate::error::Code::AllowlistExcludesYou,
                message: format!(
                    "the list does not include the address you are saving it from ({you}); \
                     add it, or you would be locked out"
                ),
            });
        }
    }
    let before: Vec<String> = list(db, who).await?.into_iter().map(|e| e.cidr).collect();
    db.execute("DELETE FROM org_ip_allowlist WHERE org_id = $1", &[&who.org_id]).await?;
    let notes: Vec<String> = entries.iter().map(|e| e.note.trim().to_owned()).collect();
    db.execute(
        "INSERT INTO org_ip_allowlist (org_id, cidr, note, created_by)
         SELECT $1, c::cidr, n, $4 FROM unnest($2::text[], $3::text[]) AS t(c, n)",
        &[&who.org_id, &cidrs, &notes, &who.user_id],
    )
    .await?;
    let after = list(db, who).await?;
    let detail = serde_json::json!({
        "before": before,
        "after": after.iter().map(|e| e.cidr.clone()).collect::<Vec<_>>(),
    });
    audit::record(db, Record::by(who, event::ALLOWLIST_CHANGED, ip).detail(detail)).await?;
    Ok(after)
}

/// Whether `ip` may act for `org_id` (always, when its list is empty).
pub async fn allows(db: &impl GenericClient, org_id: OrgId, ip: Option<IpAddr>) -> Result<bool> {
    let stmt = db.prepare_cached(ALLOWED_SQL).await?;
    Ok(db.query_one(&stmt, &[&org_id, &ip]).await?.get(0))
}

/// `$1` org id, `$2` client address (NULL: unknown, allowed only by an empty list).
pub const ALLOWED_SQL: &str = "SELECT NOT EXISTS (SELECT 1 FROM org_ip_allowlist WHERE org_id = $1)
    OR EXISTS (SELECT 1 FROM org_ip_allowlist WHERE org_id = $1 AND $2::inet <<= cidr)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks_of_both_families_are_canonicalised() {
        assert_eq!(parse_cidr("203.0.113.7").unwrap(), "203.0.113.7/32");
        assert_eq!(parse_cidr(" 10.0.0.0/8 ").unwrap(), "10.0.0.0/8");
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(parse_cidr("2001:db8::/32").unwrap(), "2001:db8::/32");
        assert_eq!(parse_cidr("::/0").unwrap(), "::/0");
        assert!(parse_cidr("::1/0").is_err());
        assert_eq!(parse_cidr("2001:DB8::1").unwrap(), "2001:db8::1/128");
    }

    #[test]
    fn malformed_entries_are_refused_with_a_reason() {
        assert!(parse_cidr("10.1.2.3/8").unwrap_err().contains("did you mean 10.0.0.0/8 or 10.1.2.3/32"));
        assert!(parse_cidr("10.0.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(parse_cidr("2001:db8::1/64").unwrap_err().contains("2001:db8::/64"));
        assert!(parse_cidr("example.com").is_err());
        assert!(parse_cidr("10.0.0.0/x").is_err());
        assert!(parse_cidr("").is_err());
    }
}
