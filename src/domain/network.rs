//! Client addresses: which proxies are trusted to say who the client is
//! (`YONGJUN_TRUSTED_PROXIES`), who the client is given the TCP peer and
//! `X-Forwarded-For`, and the key under which failed attempts from an address are
//! counted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// An address block: `10.0.0.0/8`, `fd00::/8`, or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// `ADDRESS` or `ADDRESS/PREFIX`; the bits past the prefix must be zero.
    pub fn parse(raw: &str) -> Result<IpNet, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR block"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?}: the prefix length must be 0 to {max}"))?,
        };
        let net = IpNet { addr, prefix };
        if net.network() != addr {
            return Err(format!(
                "{raw:?}: bits are set past the prefix (did you mean {}/{prefix}?)",
                net.network()
            ));
        }
        Ok(net)
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask32(self.prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask128(self.prefix))),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask32(self.prefix);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask128(self.prefix);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// The reverse proxies (load balancers) whose `X-Forwarded-For` is believed. Empty
/// (the default): the TCP peer is the client, whatever the header says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated addresses or CIDR blocks: `10.0.0.0/8, 192.168.1.10`.
    fn from_str(raw: &str) -> Result<TrustedProxies, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(IpNet::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For`
    /// entries (every field line in order, already split at commas).
    ///
    /// An untrusted peer is the client. Otherwise the entries are read from the right
    /// (each proxy appends the address it received the request from) and the first one
    /// that is not a trusted proxy is the client: what is left of it was written by the
    /// client itself and is never believed. An entry that is no address ends the walk
    /// at the last trusted hop; when every entry is trusted, the leftmost is the client.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for entry in forwarded_for.rev().map(str::trim).filter(|e| !e.is_empty()) {
            match parse_forwarded_entry(entry) {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    let ip = entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .unwrap_or(entry)
                .parse::<IpAddr>()
        })
        .ok()?;
    Some(ip.to_canonical())
}

/// Under what failed attempts from `ip` are counted: the address itself for IPv4, its
/// /64 for IPv6 (one subscriber usually holds a whole /64, and could otherwise take a
/// new address for every guess).
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{}/64", Ipv6Addr::from(u128::from(v6) & mask128(64))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = IpNet::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNet::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "proxy", "10.0.0.0/", "::1/129"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_setting_is_a_comma_separated_list() {
        let proxies: TrustedProxies = " 127.0.0.1, 10.0.0.0/8 ,,fd00::/8".parse().unwrap();
        assert!(proxies.trusts(ip("10.1.1.1")) && proxies.trusts(ip("127.0.0.1")));
        assert!(!proxies.trusts(ip("192.168.0.1")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!("127.0.0.1, lb.internal".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn the_client_is_the_first_untrusted_address_from_the_right() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let client = |peer: &str, xff: &[&str]| proxies.client(ip(peer), xff.iter().copied());
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(client("198.51.100.9", &["203.0.113.7"]), ip("198.51.100.9"));
        // Through one trusted proxy.
        assert_eq!(client("10.0.0.2", &["203.0.113.7"]), ip("203.0.113.7"));
        // A client that writes its own header does not choose its address.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4", "203.0.113.7"]),
            ip("203.0.113.7")
        );
        // Through two trusted proxies.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4", "203.0.113.7", "10.0.0.3"]),
            ip("203.0.113.7")
        );
        // Ports and brackets.
        assert_eq!(
            client("10.0.0.2", &["[2001:db8::1]:4711"]),
            ip("2001:db8::1")
        );
        assert_eq!(client("10.0.0.2", &["203.0.113.7:80"]), ip("203.0.113.7"));
        // Garbage from a trusted hop: the last trusted hop is all that is known.
        assert_eq!(
            client("10.0.0.2", &["203.0.113.7", "unknown"]),
            ip("10.0.0.2")
        );
        // No header, or only trusted entries.
        assert_eq!(client("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", &["10.0.0.9"]), ip("10.0.0.9"));
        // Nothing trusted: the header is ignored.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.0.0.2"), ["203.0.113.7"].into_iter()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(client_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(client_key(ip("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
    }
}
