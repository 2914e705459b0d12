//! Who is asking: the client's address, which keys the rate limits and the sign-in throttle.
//!
//! The TCP peer is the client unless it is one of `REGISTRY_TRUSTED_PROXIES`: only then do
//! `Forwarded` (RFC 7239) or `X-Forwarded-For` say who the client is, read from the right and
//! skipping the trusted proxies themselves, so a client cannot choose its own address by
//! sending the header.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The client's address for this request, put in the request's extensions on arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs; a bare address is one host (`10.0.0.5` = `10.0.0.5/32`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not an address or CIDR"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        let hops = forwarded_for(headers);
        // Right to left: the nearest hop a trusted proxy did not add itself is the client.
        hops.iter()
            .rev()
            .copied()
            .find(|ip| !self.trusts(*ip))
            .or_else(|| hops.first().copied())
            .map(canonical)
            .unwrap_or_else(|| canonical(peer))
    }
}

/// An IPv4 client seen over an IPv6 socket is the IPv4 client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The addresses a chain of proxies recorded, client first: `Forwarded`'s `for=` when present,
/// else `X-Forwarded-For`. Obfuscated or unknown entries are left out.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .flat_map(|element| element.split(';'))
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| node(v))?
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(node)
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 10.1.2.3")]);
        // From the proxy: the right-most address the proxies did not add.
        assert_eq!(proxies.client(ip("10.0.0.1"), &xff), ip("203.0.113.9"));
        assert_eq!(proxies.client(ip("192.0.2.7"), &xff), ip("203.0.113.9"));
        // From anyone else the header is the client's own claim, and ignored.
        assert_eq!(proxies.client(ip("198.51.100.1"), &xff), ip("198.51.100.1"));
        // A client prepending a forged address does not move its own place in the chain.
        let forged = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &forged), ip("203.0.113.9"));
        // No proxies configured: the peer, whatever the headers say.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &xff),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_is_read_before_x_forwarded_for() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.2",
            ),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("2001:db8::1"));
        let h = headers(&[("forwarded", "for=192.0.2.60:80;by=10.0.0.1")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("192.0.2.60"));
        // Only proxies and unknowns in the chain: the first hop, else the peer.
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn a_bad_proxy_list_is_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        // An IPv4 proxy seen through an IPv6 socket is still that proxy.
        let v4 = TrustedProxies::parse("10.0.0.1").unwrap();
        assert!(v4.trusts(ip("::ffff:10.0.0.1")));
    }
}
