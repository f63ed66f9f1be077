//! ipvsadm's order of services and real servers, reproduced exactly: its
//! comparators subtract 32-bit values into an `int`, which is not a valid
//! order (addresses 2^31 or more apart compare backwards, so 10.0.0.1 sorts
//! after 192.168.1.1), and glibc's `qsort` (a top-down merge sort in glibc
//! 2.36) then gives an order that depends on the input order. Reproducing
//! both keeps `-L` and `-S` output byte-identical to ipvsadm's.

use std::cmp::Ordering;
use std::net::IpAddr;

/// `a - b` of two u32s, stored in a C `int`.
fn diff32(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn words(addr: Option<&IpAddr>) -> [u32; 4] {
    match addr {
        Some(IpAddr::V4(a)) => [u32::from(*a), 0, 0, 0],
        Some(IpAddr::V6(a)) => {
            let o = a.octets();
            [0, 4, 8, 12].map(|i| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]))
        }
        None => [0; 4],
    }
}

/// What ipvsadm compares of a service.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSortKey<'a> {
    pub fwmark: u32,
    pub af: u16,
    pub protocol: u16,
    pub addr: Option<&'a IpAddr>,
    pub port: u16,
}

/// libipvs's `ipvs_cmp_services`.
pub fn cmp_services(a: &ServiceSortKey<'_>, b: &ServiceSortKey<'_>) -> i32 {
    let r = diff32(a.fwmark, b.fwmark);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.af) - i32::from(b.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.protocol) - i32::from(b.protocol);
    if r != 0 {
        return r;
    }
    let r = cmp_addr(a.af, a.addr, b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// The address part of the comparators, by the family of the left side.
fn cmp_addr(af: u16, a: Option<&IpAddr>, b: Option<&IpAddr>) -> i32 {
    let (wa, wb) = (words(a), words(b));
    if af == 10 {
        let mut r = 0;
        for i in 0..4 {
            r = diff32(wa[i], wb[i]);
            if r != 0 {
                break;
            }
        }
        r
    } else {
        diff32(wa[0], wb[0])
    }
}

/// libipvs's `ipvs_cmp_dests`: address (by the first's family), then port.
pub fn cmp_dests(a: (u16, &IpAddr, u16), b: (u16, &IpAddr, u16)) -> i32 {
    let r = cmp_addr(a.0, Some(a.1), Some(b.1));
    if r != 0 {
        return r;
    }
    i32::from(a.2) - i32::from(b.2)
}

/// glibc 2.36's `qsort`: a top-down merge sort that splits `n` as `n / 2`
/// and `n - n / 2` and takes from the left run while `cmp(left, right) <= 0`.
pub fn glibc_qsort<T: Clone>(items: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let (n1, _) = (n / 2, n - n / 2);
    glibc_qsort(&mut items[..n1], cmp);
    glibc_qsort(&mut items[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&items[i], &items[j]) <= 0 {
            merged.push(items[i].clone());
            i += 1;
        } else {
            merged.push(items[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&items[i..n1]);
    merged.extend_from_slice(&items[j..n]);
    items.clone_from_slice(&merged);
}

/// A valid total order on the same fields, for the JSON and table views.
pub fn correct_order(a: &ServiceSortKey<'_>, b: &ServiceSortKey<'_>) -> Ordering {
    (a.fwmark, a.af, a.protocol, words(a.addr), a.port).cmp(&(
        b.fwmark,
        b.af,
        b.protocol,
        words(b.addr),
        b.port,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(addr: &IpAddr) -> ServiceSortKey<'_> {
        ServiceSortKey {
            fwmark: 0,
            af: 2,
            protocol: 6,
            addr: Some(addr),
            port: 80,
        }
    }

    #[test]
    fn addresses_far_apart_compare_backwards_as_in_ipvsadm() {
        let ten: IpAddr = "10.0.0.1".parse().unwrap();
        let high: IpAddr = "192.168.1.1".parse().unwrap();
        let mid: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(cmp_services(&key(&ten), &key(&high)) > 0);
        assert!(cmp_services(&key(&ten), &key(&mid)) < 0);
        assert!(cmp_services(&key(&mid), &key(&high)) < 0);
        let mut v = vec![high, ten, mid];
        glibc_qsort(&mut v, &|a, b| cmp_services(&key(a), &key(b)));
        // [high] merged with the sorted [ten, mid]: high "<" ten, so high first.
        assert_eq!(
            v,
            ["192.168.1.1", "10.0.0.1", "127.0.0.1"].map(|s| s.parse::<IpAddr>().unwrap())
        );
    }

    #[test]
    fn merge_sort_is_stable_and_sorts() {
        let mut v: Vec<(u32, u32)> = vec![(3, 0), (1, 0), (2, 0), (1, 1), (3, 1), (0, 0)];
        glibc_qsort(&mut v, &|a, b| a.0 as i32 - b.0 as i32);
        assert_eq!(v, [(0, 0), (1, 0), (1, 1), (2, 0), (3, 0), (3, 1)]);
    }
}
