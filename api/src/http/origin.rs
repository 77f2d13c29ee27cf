//! The CSRF check's notion of "this site": a cookie-authenticated change must carry an
//! `Origin` (or `Referer`) naming the desk's own origin.
//!
//! The desk's origin is `ATUM_PUBLIC_URL`'s, never the `Host` a client sent: any
//! client can write `Host`, `X-Forwarded-Host` or `Forwarded: host=`, so believing
//! them would let a page on another site name itself as this one. A trusted proxy's
//! forwarding headers are believed too (`ATUM_TRUSTED_PROXIES`; the shipped nginx
//! config sets `X-Forwarded-Host` and `X-Forwarded-Proto` itself), so a desk reached
//! under a second name through its proxy still works.

use actix_web::{HttpRequest, http::header};

use crate::Security;

/// `scheme://host[:port]` of a URL, lowercased, the scheme's default port left out —
/// the form browsers send in `Origin`. `None` for anything that is not an http(s) URL.
pub fn of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    // user:password@ never appears in an Origin; a Referer carrying it is not ours.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// Whether the request's `Origin` (or, without one, `Referer`) is this desk's origin.
pub fn is_same_site(req: &HttpRequest, security: &Security) -> bool {
    let source = req.headers().get(header::ORIGIN).or_else(|| req.headers().get(header::REFERER));
    let Some(source) = source.and_then(|v| v.to_str().ok()).and_then(of_url) else { return false };
    if of_url(&security.public_url).is_some_and(|own| own == source) {
        return true;
    }
    forwarded_origin(req, security).is_some_and(|proxied| proxied == source)
}

/// The origin a trusted proxy says the client used; `None` unless the socket's peer is
/// a trusted proxy that sent `X-Forwarded-Host`.
fn forwarded_origin(req: &HttpRequest, security: &Security) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    if !security.proxies.trusts(peer) {
        return None;
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let host = header("x-forwarded-host").filter(|h| !h.is_empty() && !h.contains(','))?;
    let proto = header("x-forwarded-proto").unwrap_or("http");
    of_url(&format!("{proto}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_without_the_default_port() {
        assert_eq!(of_url("https://Desk.Example.com/tickets?x=1").as_deref(), Some("https://desk.example.com"));
        assert_eq!(of_url("https://desk.example.com:443").as_deref(), Some("https://desk.example.com"));
        assert_eq!(of_url("http://127.0.0.1:8080/").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(of_url("http://[::1]:8080").as_deref(), Some("http://[::1]:8080"));
    }

    #[test]
    fn what_is_not_an_http_origin_names_no_site() {
        for bad in ["null", "", "desk.example.com", "ftp://desk.example.com", "https://", "https://u@desk.example.com"]
        {
            assert_eq!(of_url(bad), None, "{bad:?}");
        }
    }
}
