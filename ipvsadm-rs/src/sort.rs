//! ipvsadm's order of services and real servers, reproduced exactly: its
//! comparators subtract 32-bit values into an `int`, which is not a valid
//! order (addresses 2^31 or more apart compare backwards, so 10.0.0.1 sorts
//! after 192.168.1.1), and glibc's `qsort` (a top-down merge sort in glibc
//! 2.36) then gives an order that depends on the input order. Reproducing
//! both keeps `-L` and `-S` output byte-identical to ipvsadm's.

use std::net::IpAddr;

use ipvs::{AddressFamily, DestinationInfo, Protocol, ServiceInfo, ServiceKey};

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
struct ServiceSortKey<'a> {
    fwmark: u32,
    family: AddressFamily,
    protocol: Protocol,
    addr: Option<&'a IpAddr>,
    port: u16,
}

impl<'a> ServiceSortKey<'a> {
    fn of(key: &'a ServiceKey) -> Self {
        match key {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => Self {
                fwmark: 0,
                family: AddressFamily::of(address),
                protocol: *protocol,
                addr: Some(address),
                port: *port,
            },
            // ipvsadm gives fwmark services the TCP protocol.
            ServiceKey::Fwmark { family, mark } => Self {
                fwmark: *mark,
                family: *family,
                protocol: Protocol::Tcp,
                addr: None,
                port: 0,
            },
        }
    }
}

/// The sign of an order, as a C comparator returns it.
fn sign(o: std::cmp::Ordering) -> i32 {
    o as i32
}

/// libipvs's `ipvs_cmp_services`.
fn cmp_services(a: &ServiceSortKey<'_>, b: &ServiceSortKey<'_>) -> i32 {
    let r = diff32(a.fwmark, b.fwmark);
    if r != 0 {
        return r;
    }
    let r = sign(a.family.cmp(&b.family));
    if r != 0 {
        return r;
    }
    let r = sign(a.protocol.number().cmp(&b.protocol.number()));
    if r != 0 {
        return r;
    }
    let r = cmp_addr(a.family, a.addr, b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// The address part of the comparators, by the family of the left side.
fn cmp_addr(family: AddressFamily, a: Option<&IpAddr>, b: Option<&IpAddr>) -> i32 {
    let (wa, wb) = (words(a), words(b));
    if family == AddressFamily::Ipv6 {
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
fn cmp_dests(a: &DestinationInfo, b: &DestinationInfo) -> i32 {
    let (a, b) = (&a.destination, &b.destination);
    let r = cmp_addr(
        AddressFamily::of(&a.address),
        Some(&a.address),
        Some(&b.address),
    );
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// glibc 2.36's `qsort`: a top-down merge sort that splits `n` as `n / 2`
/// and `n - n / 2` and takes from the left run while `cmp(left, right) <= 0`.
fn glibc_qsort<T: Copy>(items: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let mut scratch = Vec::with_capacity(items.len());
    merge_sort(items, cmp, &mut scratch);
}

/// [`glibc_qsort`]'s recursion, merging through one buffer for the whole sort.
fn merge_sort<T: Copy>(items: &mut [T], cmp: &dyn Fn(&T, &T) -> i32, scratch: &mut Vec<T>) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort(&mut items[..n1], cmp, scratch);
    merge_sort(&mut items[n1..], cmp, scratch);
    scratch.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&items[i], &items[j]) <= 0 {
            scratch.push(items[i]);
            i += 1;
        } else {
            scratch.push(items[j]);
            j += 1;
        }
    }
    scratch.extend_from_slice(&items[i..n1]);
    scratch.extend_from_slice(&items[j..n]);
    items.copy_from_slice(scratch);
}

/// Puts `services` in the order in which ipvsadm lists them.
pub(crate) fn ipvsadm_service_order(services: &mut [ServiceInfo]) {
    let order = ipvsadm_service_indices(services);
    // Each slot i takes the service at order[i]: follow each cycle of the
    // permutation once, swapping along it.
    let mut placed = vec![false; order.len()];
    for start in 0..order.len() {
        let mut i = start;
        while !placed[i] {
            placed[i] = true;
            let from = order[i];
            if placed[from] {
                break;
            }
            services.swap(i, from);
            i = from;
        }
    }
}

/// The order in which ipvsadm lists `services`: their indices.
fn ipvsadm_service_indices(services: &[ServiceInfo]) -> Vec<usize> {
    // The sort keys are made as compared rather than kept: on a table of
    // 100,000 services they would be megabytes of the listing's peak memory.
    let key = |i: usize| ServiceSortKey::of(&services[i].service.key);
    let mut idx: Vec<usize> = (0..services.len()).collect();
    glibc_qsort(&mut idx, &|a, b| cmp_services(&key(*a), &key(*b)));
    idx
}

/// Puts real servers in ipvsadm's order.
pub(crate) fn ipvsadm_destination_order(destinations: &mut Vec<DestinationInfo>) {
    let mut idx: Vec<usize> = (0..destinations.len()).collect();
    glibc_qsort(&mut idx, &|a, b| {
        cmp_dests(&destinations[*a], &destinations[*b])
    });
    let mut slots: Vec<Option<DestinationInfo>> = destinations.drain(..).map(Some).collect();
    destinations.extend(idx.into_iter().filter_map(|i| slots[i].take()));
}

/// A valid order, for the JSON and table views: services by key, real
/// servers by address and port.
pub(crate) fn valid_order(table: &mut [ServiceInfo]) {
    table.sort_by_key(|s| s.service.key);
    for s in table {
        s.destinations.sort_by(|a, b| {
            (a.destination.address, a.destination.port)
                .cmp(&(b.destination.address, b.destination.port))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(addr: &IpAddr) -> ServiceSortKey<'_> {
        ServiceSortKey {
            fwmark: 0,
            family: AddressFamily::Ipv4,
            protocol: Protocol::Tcp,
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

    #[test]
    fn services_are_put_in_place_in_the_order_of_their_indices() {
        let addresses = [
            "192.168.1.1",
            "10.0.0.1",
            "127.0.0.1",
            "10.0.0.2",
            "172.16.0.1",
            "1.2.3.4",
            "10.0.0.1",
        ];
        let mut services: Vec<ServiceInfo> = addresses
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let key = ipvs::ServiceKey::tcp(a.parse::<IpAddr>().unwrap(), 80 + n as u16);
                ServiceInfo::new(ipvs::Service::new(key))
            })
            .collect();
        let expected: Vec<ServiceInfo> = ipvsadm_service_indices(&services)
            .into_iter()
            .map(|i| services[i].clone())
            .collect();
        assert_ne!(expected, services, "the sample is out of order");
        ipvsadm_service_order(&mut services);
        assert_eq!(services, expected);
    }
}
