//! Which address a request comes from.
//!
//! The socket's peer, unless that peer is a trusted proxy (`ATUM_TRUSTED_PROXIES`,
//! e.g. the nginx on this host): then the forwarding headers are believed.
//! `X-Forwarded-For` is read from the right, skipping trusted proxies, so the first
//! untrusted hop is the client — an address a client wrote at the left of the header
//! itself is never taken. `X-Real-IP` is used when there is no `X-Forwarded-For`.
//! With no trusted proxies (the default), headers are ignored entirely: a direct
//! client cannot claim to be somewhere else.

use std::net::IpAddr;

use actix_web::HttpRequest;
use atum_core::auth::allowlist::parse_net;
use atum_runtime::config::{ConfigError, Env};
use ipnet::IpNet;

pub const VAR: &str = "ATUM_TRUSTED_PROXIES";

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        match env.get(VAR) {
            None => Ok(Self::default()),
            Some(list) => Self::parse(&list).map_err(|reason| ConfigError::Invalid { var: VAR.into(), reason }),
        }
    }

    /// Comma-separated addresses or networks: `127.0.0.1, ::1, 10.0.0.0/8`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let nets = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(parse_net).collect::<Result<_, _>>()?;
        Ok(TrustedProxies(nets))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client's address under `trusted` (see the module docs).
pub fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    real_ip: Option<&str>,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !trusted.trusts(peer) {
        return Some(peer);
    }
    if let Some(xff) = forwarded_for {
        let hops: Vec<&str> = xff.split(',').map(str::trim).collect();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                // A garbled hop: stop believing the header here.
                return Some(peer);
            };
            let ip = ip.to_canonical();
            if !trusted.trusts(ip) {
                return Some(ip);
            }
        }
        return Some(peer);
    }
    real_ip.and_then(|v| v.trim().parse::<IpAddr>().ok()).map(|ip| ip.to_canonical()).or(Some(peer))
}

/// The client address of `req`.
pub fn of(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    resolve(req.peer_addr().map(|a| a.ip()), header("x-forwarded-for"), header("x-real-ip"), trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            resolve(Some(ip("198.51.100.9")), Some("10.0.0.1"), Some("10.0.0.2"), &none),
            Some(ip("198.51.100.9"))
        );
        let lo = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(resolve(Some(ip("198.51.100.9")), Some("10.0.0.1"), None, &lo), Some(ip("198.51.100.9")));
    }

    #[test]
    fn behind_a_trusted_proxy_the_first_untrusted_hop_from_the_right_is_the_client() {
        let t = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let peer = Some(ip("127.0.0.1"));
        assert_eq!(resolve(peer, Some("203.0.113.5"), None, &t), Some(ip("203.0.113.5")));
        // The client forged a left-most entry; nginx appended the real address.
        assert_eq!(resolve(peer, Some("1.2.3.4, 203.0.113.5"), None, &t), Some(ip("203.0.113.5")));
        // Two proxies of ours in the chain.
        assert_eq!(resolve(peer, Some("203.0.113.5, 10.1.1.1"), None, &t), Some(ip("203.0.113.5")));
        assert_eq!(resolve(peer, None, Some("2001:db8::7"), &t), Some(ip("2001:db8::7")));
        assert_eq!(resolve(peer, Some("garbage"), None, &t), Some(ip("127.0.0.1")));
        assert_eq!(resolve(peer, None, None, &t), Some(ip("127.0.0.1")));
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_match_ipv4_entries() {
        let t = TrustedProxies::parse("127.0.0.1").unwrap();
        assert!(t.trusts(ip("::ffff:127.0.0.1")));
        assert!(!t.trusts(ip("::1")));
        assert!(TrustedProxies::parse("::/0").unwrap().trusts(ip("2001:db8::1")));
        assert!(TrustedProxies::parse("not-an-ip").is_err());
    }
}
