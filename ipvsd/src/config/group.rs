//! `virtual_server_group` members: address ranges (`10.0.0.1-10 80`,
//! `10.0.0.0/29 80`) and marks (`fwmark 1 [inet|inet6]`), and their
//! expansion into the kernel services they make (keepalived.conf(5),
//! "Virtual server group(s)"; `alloc_vsg_entry` in keepalived's
//! `check_data.c` for the range forms).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::{AddressFamily, Protocol, ServiceKey};

use super::model::GroupMember;

/// The most services one member may expand to (a `/8` by mistake would
/// otherwise make 16 million).
pub const MAX_MEMBER_SERVICES: u128 = 65_536;

/// Reads one member from its words (`IP[-END] [PORT]`, `IP/PREFIX [PORT]`,
/// `fwmark N [inet|inet6]`).
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_member(words: &[&str]) -> Result<GroupMember, String> {
    match words {
        ["fwmark", mark, rest @ ..] => {
            let mark = mark
                .parse::<u32>()
                .map_err(|_| format!("fwmark `{mark}` is not a number"))?;
            let family = match rest {
                [] => None,
                ["inet"] => Some(AddressFamily::Ipv4),
                ["inet6"] => Some(AddressFamily::Ipv6),
                _ => return Err("a fwmark member is `fwmark N [inet|inet6]`".into()),
            };
            Ok(GroupMember::Fwmark { mark, family })
        }
        [range] => parse_range(range, 0),
        [range, port] => {
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("port `{port}` is not in 0..=65535"))?;
            parse_range(range, port)
        }
        _ => Err("a member is `IP[-END] PORT`, `IP/PREFIX PORT` or `fwmark N`".into()),
    }
}

fn parse_range(text: &str, port: u16) -> Result<GroupMember, String> {
    let bad = |why: &str| format!("`{text}`: {why}");
    if let Some((addr, prefix)) = text.split_once('/') {
        let first: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
        let bits = match first {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix: u32 = prefix
            .parse()
            .ok()
            .filter(|p| (1..=bits).contains(p))
            .ok_or_else(|| bad("bad prefix length"))?;
        let host_bits = bits - prefix;
        let host_mask = if host_bits == 0 {
            0
        } else {
            u128::MAX >> (128 - host_bits)
        };
        let start = to_u128(first);
        if start & host_mask != 0 {
            return Err(bad("address has bits set past the prefix"));
        }
        let last = from_u128(start | host_mask, &first);
        return Ok(GroupMember::Range { first, last, port });
    }
    let (addr, end) = match text.split_once('-') {
        Some((a, e)) => (a, Some(e)),
        None => (text, None),
    };
    let first: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
    let last = match (end, first) {
        (None, _) => first,
        (Some(end), IpAddr::V4(_)) if end.contains('.') => {
            IpAddr::V4(end.parse::<Ipv4Addr>().map_err(|_| bad("bad range end"))?)
        }
        (Some(end), IpAddr::V6(_)) if end.contains(':') => {
            IpAddr::V6(end.parse::<Ipv6Addr>().map_err(|_| bad("bad range end"))?)
        }
        (Some(end), IpAddr::V4(v4)) => {
            let byte: u8 = end.parse().map_err(|_| bad("bad range end"))?;
            let mut o = v4.octets();
            o[3] = byte;
            IpAddr::V4(Ipv4Addr::from(o))
        }
        (Some(end), IpAddr::V6(v6)) => {
            let group = u16::from_str_radix(end, 16).map_err(|_| bad("bad range end"))?;
            let mut s = v6.segments();
            s[7] = group;
            IpAddr::V6(Ipv6Addr::from(s))
        }
    };
    if end.is_some() && to_u128(last) <= to_u128(first) {
        return Err(bad("the range end is not above its start"));
    }
    Ok(GroupMember::Range { first, last, port })
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_u128(n: u128, like: &IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX))),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

/// The member as written in keepalived.conf (also the native form):
/// `10.0.0.1-10.0.0.10 80`, `10.0.0.1 80`, `fwmark 1 inet6`.
pub fn member_text(m: &GroupMember) -> String {
    match m {
        GroupMember::Range { first, last, port } => {
            let mut s = first.to_string();
            if last != first {
                let _ = write!(s, "-{last}");
            }
            let _ = write!(s, " {port}");
            s
        }
        GroupMember::Fwmark { mark, family } => match family {
            None => format!("fwmark {mark}"),
            Some(AddressFamily::Ipv4) => format!("fwmark {mark} inet"),
            Some(AddressFamily::Ipv6) => format!("fwmark {mark} inet6"),
        },
    }
}

/// The family of a group's addresses, if it has any (all must agree).
///
/// # Errors
/// A message if members mix families.
pub fn address_family(members: &[GroupMember]) -> Result<Option<AddressFamily>, String> {
    let mut family = None;
    for m in members {
        if let GroupMember::Range { first, .. } = m {
            let f = AddressFamily::of(first);
            if family.is_some_and(|g| g != f) {
                return Err("a group mixes IPv4 and IPv6 addresses".into());
            }
            family = Some(f);
        }
    }
    Ok(family)
}

/// The kernel services of a group's members: every address of a range
/// with the port and `protocol`, and every mark (of its family, else `family`).
///
/// # Errors
/// A message if a member expands past [`MAX_MEMBER_SERVICES`].
pub fn expand(
    members: &[GroupMember],
    protocol: Protocol,
    family: AddressFamily,
) -> Result<Vec<ServiceKey>, String> {
    let mut keys = Vec::new();
    for m in members {
        match m {
            GroupMember::Range { first, last, port } => {
                let (a, b) = (to_u128(*first), to_u128(*last));
                if b.saturating_sub(a) >= MAX_MEMBER_SERVICES {
                    return Err(format!(
                        "`{}` makes more than {MAX_MEMBER_SERVICES} services",
                        member_text(m)
                    ));
                }
                for n in a..=b {
                    keys.push(ServiceKey::Inet {
                        protocol,
                        address: from_u128(n, first),
                        port: *port,
                    });
                }
            }
            GroupMember::Fwmark { mark, family: f } => {
                keys.push(ServiceKey::fwmark(f.unwrap_or(family), *mark));
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(text: &str) -> Result<GroupMember, String> {
        parse_member(&text.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn ranges_expand_to_each_address() {
        let m = member("192.168.200.3-10 80").unwrap();
        let keys = expand(std::slice::from_ref(&m), Protocol::Tcp, AddressFamily::Ipv4).unwrap();
        assert_eq!(keys.len(), 8);
        assert_eq!(keys[0].to_string(), "tcp 192.168.200.3:80");
        assert_eq!(keys[7].to_string(), "tcp 192.168.200.10:80");
        assert_eq!(member_text(&m), "192.168.200.3-192.168.200.10 80");
        assert_eq!(member(&member_text(&m)).unwrap(), m);
    }

    #[test]
    fn ipv6_ranges_and_prefixes() {
        let m = member("ae00::2-9 80").unwrap();
        assert_eq!(
            expand(&[m], Protocol::Tcp, AddressFamily::Ipv6)
                .unwrap()
                .len(),
            8
        );
        let m = member("10.0.0.0/29 443").unwrap();
        let keys = expand(&[m], Protocol::Udp, AddressFamily::Ipv4).unwrap();
        assert_eq!(keys.len(), 8);
        assert_eq!(keys[7].to_string(), "udp 10.0.0.7:443");
        assert!(
            member("10.0.0.1/29 80")
                .unwrap_err()
                .contains("past the prefix")
        );
        assert!(member("10.0.0.0/8 80").is_ok());
        let big = member("10.0.0.0/8 80").unwrap();
        assert!(expand(&[big], Protocol::Tcp, AddressFamily::Ipv4).is_err());
    }

    #[test]
    fn marks_and_bad_members() {
        let m = member("fwmark 2 inet6").unwrap();
        assert_eq!(
            expand(&[m], Protocol::Tcp, AddressFamily::Ipv4).unwrap(),
            [ServiceKey::fwmark(AddressFamily::Ipv6, 2)]
        );
        assert!(member("10.0.0.9-3 80").unwrap_err().contains("not above"));
        assert!(member("nonsense 80").is_err());
        assert!(member("fwmark x").is_err());
        assert!(member("10.0.0.1 80 extra").is_err());
    }
}
