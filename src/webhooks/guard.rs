//! Where a webhook may send: never into the registry's own network (loopback, private,
//! link-local, carrier-grade NAT, unique-local, multicast …) unless the operator allows it. The
//! check runs on the addresses DNS answered, and the connection goes to exactly those, so a
//! name that resolves elsewhere between a check and the connection cannot slip through.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use actix_tls::connect::Resolve;
use futures_util::future::LocalBoxFuture;

/// Whether a webhook may reach this address without `REGISTRY_WEBHOOK_ALLOW_PRIVATE`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10, carrier-grade NAT; 198.18.0.0/15, benchmarking; 240.0.0.0/4, reserved.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
        // 192.0.0.0/24, protocol assignments.
        || (a == 192 && b == 0 && ip.octets()[2] == 0))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // fec0::/10 site-local (deprecated, still routed inside some networks).
        || (first & 0xffc0) == 0xfec0
        // 64:ff9b::/32 NAT64 (the well-known /96 and the local-use 64:ff9b:1::/48), 2002::/16
        // 6to4, 2001::/32 Teredo and ::/96 IPv4-compatible would reach IPv4 space indirectly.
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
        || first == 0x2002
        || (first == 0x2001 && ip.segments()[1] == 0)
        || ip.segments()[..6].iter().all(|s| *s == 0))
}

#[derive(Debug, thiserror::Error)]
/// The message names the host only: it is stored in the subscriber's delivery log, and what a
/// name resolves to inside the registry's network is not the subscriber's to learn (the server
/// log has the address).
#[error("{host} resolves to an address webhooks may not reach")]
pub struct Refused {
    pub host: String,
    pub ip: IpAddr,
}

/// A resolver for the webhook client: every address a name resolves to must be public (or the
/// operator allows private ones), else the delivery fails without connecting.
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn StdError>>> {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            if !self.allow_private {
                if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                    tracing::warn!(host, ip = %bad.ip(), "webhook delivery refused: private address");
                    return Err(Box::new(Refused {
                        host: host.to_owned(),
                        ip: bad.ip(),
                    }) as Box<dyn StdError>);
                }
            }
            Ok(addrs)
        })
    }
}

/// The client's resolver skips names that are IP literals, so those are checked here, before a
/// request is made (and when a subscription is created).
pub fn check_literal(host: &str, allow_private: bool) -> Result<(), Refused> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) if !allow_private && !is_public(ip) => Err(Refused {
            host: host.to_owned(),
            ip,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::a00:1",
            "2002:a00:1::1",
            "2001:0:4136:e378::1",
            "fec0::1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "8.8.8.8",
            "202.96.128.86",
            "2400:3200::1",
            "1.1.1.1",
            "2001:4860::8888",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn literals_are_checked_unless_allowed() {
        let refused = check_literal("127.0.0.1", false).unwrap_err();
        assert!(refused.to_string().contains("may not reach"), "{refused}");
        assert!(check_literal("[::1]", false).is_err());
        assert!(check_literal("127.0.0.1", true).is_ok());
        assert!(check_literal("example.com", false).is_ok());
        assert!(check_literal("8.8.8.8", false).is_ok());
    }
}
