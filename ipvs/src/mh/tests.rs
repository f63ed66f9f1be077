use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Server, Table, TableError, fold, gcd, table_size};
use crate::{AddressFamily, SchedFlags};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn servers(n: u8, weight: u32) -> Vec<Server> {
    (1..=n)
        .map(|i| Server::new(v4(192, 0, 2, i), 80, weight))
        .collect()
}

fn clients() -> impl Iterator<Item = IpAddr> {
    (0..10_000u32).map(|i| IpAddr::V4(Ipv4Addr::from(0x0a64_0000 + i)))
}

fn count_slots(table: &Table) -> Vec<usize> {
    let mut counts = vec![0; table.servers().len()];
    for i in table.slots().flatten() {
        counts[i] += 1;
    }
    counts
}

#[test]
fn sizes_are_the_kernels_primes() {
    assert_eq!(table_size(12), Some(4093));
    assert_eq!(table_size(8), Some(251));
    assert_eq!(table_size(17), Some(131_071));
    assert_eq!(table_size(7), None);
    assert_eq!(table_size(18), None);
    let t = Table::with_size_index(&servers(3, 1), SchedFlags::NONE, 8).expect("table");
    assert_eq!(t.size(), 251);
    assert_eq!(
        Table::with_size_index(&servers(3, 1), SchedFlags::NONE, 18),
        Err(TableError::SizeIndex(18))
    );
}

#[test]
fn every_slot_is_taken_and_equal_weights_share_evenly() {
    let t = Table::new(&servers(4, 1), SchedFlags::NONE).expect("table");
    assert_eq!(t.size(), 4093);
    let counts = count_slots(&t);
    assert_eq!(counts.iter().sum::<usize>(), 4093);
    // 4093 = 4 x 1023 + 1: one server takes the last slot.
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![1023, 1023, 1023, 1024], "{counts:?}");
}

#[test]
fn weights_share_the_table_in_proportion() {
    let mut s = servers(3, 1);
    s[1] = s[1].with_weight(2);
    s[2] = s[2].with_weight(3);
    let counts = count_slots(&Table::new(&s, SchedFlags::NONE).expect("table"));
    // Rounds of 1 + 2 + 3 slots: 4093 = 682 x 6 + 1.
    assert_eq!(counts, vec![683, 1364, 2046]);
    // Only ratios count: weights 10, 20, 30 build the same table.
    let tens: Vec<Server> = s.iter().map(|x| x.with_weight(x.weight * 10)).collect();
    assert_eq!(
        Table::new(&tens, SchedFlags::NONE).expect("table").slots,
        Table::new(&s, SchedFlags::NONE).expect("table").slots
    );
}

#[test]
fn big_weights_are_shifted_to_the_table_bits() {
    // 1 and 1000: 1000 has 10 bits, 4 more than index 12's 6, so the turns
    // are 1 (1 >> 4 = 0, taken as 1) and 62 (1000 >> 4).
    let mut s = servers(2, 1);
    s[1] = s[1].with_weight(1000);
    let counts = count_slots(&Table::new(&s, SchedFlags::NONE).expect("table"));
    // Rounds of 1 + 62 slots: 4093 = 64 x 63 + 61, the last round 1 + 60.
    assert_eq!(counts, vec![65, 4028]);
}

#[test]
fn a_server_added_with_weight_zero_has_no_slot() {
    let mut s = servers(3, 1);
    s[0] = Server::new(s[0].address, 80, 0);
    let t = Table::new(&s, SchedFlags::NONE).expect("table");
    assert_eq!(count_slots(&t)[0], 0);
    assert!(clients().all(|c| t.lookup(c, 0) != Some(0)));
}

#[test]
fn a_drained_server_keeps_its_slots_and_fallback_moves_only_its_clients() {
    let s = servers(3, 1);
    let before = Table::new(&s, SchedFlags::NONE).expect("table");
    let mut drained = s.clone();
    drained[1] = drained[1].drained();
    assert_eq!(drained[1].last_weight, 1);
    let plain = Table::new(&drained, SchedFlags::NONE).expect("table");
    let fallback = Table::new(&drained, SchedFlags::FALLBACK).expect("table");
    assert_eq!(plain.slots, before.slots);
    let mut lost = 0;
    for c in clients() {
        let was = before.lookup(c, 0).expect("a server");
        if was == 1 {
            lost += 1;
            assert_eq!(plain.lookup(c, 0), None);
            let now = fallback.lookup(c, 0).expect("another server");
            assert_ne!(now, 1);
        } else {
            assert_eq!(plain.lookup(c, 0), Some(was));
            assert_eq!(fallback.lookup(c, 0), Some(was));
        }
    }
    assert!(lost > 2000, "{lost} clients on the drained server");
    // An overloaded server is unavailable as a drained one is.
    let mut over = s.clone();
    over[1] = over[1].with_overloaded(true);
    let t = Table::new(&over, SchedFlags::FALLBACK).expect("table");
    assert!(clients().all(|c| t.lookup(c, 0) == fallback.lookup(c, 0)));
}

#[test]
fn no_weight_anywhere_means_no_server() {
    let t = Table::new(&servers(3, 0), SchedFlags::FALLBACK).expect("table");
    assert!(t.slots().all(|s| s.is_none()));
    assert_eq!(t.lookup(v4(10, 0, 0, 1), 0), None);
    let t = Table::new(&[], SchedFlags::NONE).expect("table");
    assert_eq!(t.lookup(v4(10, 0, 0, 1), 0), None);
}

#[test]
fn the_port_counts_only_with_mh_port() {
    let s = servers(4, 1);
    let plain = Table::new(&s, SchedFlags::NONE).expect("table");
    let port = Table::new(&s, SchedFlags::PORT).expect("table");
    let c = v4(10, 1, 2, 3);
    let plain_choices: Vec<_> = (1000..1100).map(|p| plain.lookup(c, p)).collect();
    assert!(plain_choices.iter().all(|x| *x == plain_choices[0]));
    let port_choices: std::collections::HashSet<_> =
        (1000..1100).map(|p| port.lookup(c, p)).collect();
    assert_eq!(port_choices.len(), 4);
}

#[test]
fn list_order_changes_some_choices() {
    // The same servers in another list order: a few clients move.
    let s = servers(4, 1);
    let mut reversed = s.clone();
    reversed.reverse();
    let a = Table::new(&s, SchedFlags::NONE).expect("table");
    let b = Table::new(&reversed, SchedFlags::NONE).expect("table");
    let moved = clients()
        .filter(|&c| a.server_for(c, 0) != b.server_for(c, 0))
        .count();
    assert!(moved > 0 && moved < 500, "{moved} of 10,000 moved");
}

#[test]
fn too_many_servers_are_refused() {
    let many: Vec<Server> = (0..252u32)
        .map(|i| Server::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 80, 1))
        .collect();
    assert_eq!(
        Table::with_size_index(&many, SchedFlags::NONE, 8),
        Err(TableError::TooManyServers {
            servers: 252,
            size: 251
        })
    );
    assert!(Table::with_size_index(&many[..251], SchedFlags::NONE, 8).is_ok());
}

#[test]
fn ipv6_folds_to_the_xor_of_its_words_but_to_its_first_in_an_ipv4_service() {
    let a: Ipv6Addr = "2001:db8::1:0:0:5".parse().expect("address");
    let xor = 0x2001_0db8 ^ 0x0001_0000 ^ 0x0000_0005;
    assert_eq!(fold(IpAddr::V6(a), None), xor);
    assert_eq!(fold(IpAddr::V6(a), Some(AddressFamily::Ipv6)), xor);
    assert_eq!(fold(IpAddr::V6(a), Some(AddressFamily::Ipv4)), 0x2001_0db8);
    for family in [None, Some(AddressFamily::Ipv4), Some(AddressFamily::Ipv6)] {
        assert_eq!(fold(v4(10, 0, 0, 1), family), 0x0a00_0001);
    }
}

#[test]
fn an_ipv6_real_server_of_an_ipv4_service_hashes_as_its_first_word() {
    let v6: Ipv6Addr = "2001:db8::7".parse().expect("address");
    let first_word = v4(0x20, 0x01, 0x0d, 0xb8);
    let mut mixed = servers(3, 1);
    mixed.push(Server::new(IpAddr::V6(v6), 80, 1));
    let mut alike = servers(3, 1);
    alike.push(Server::new(first_word, 80, 1));
    let index = super::DEFAULT_SIZE_INDEX;
    let in_v4 =
        Table::for_service(&mixed, AddressFamily::Ipv4, SchedFlags::NONE, index).expect("table");
    let as_v4 = Table::new(&alike, SchedFlags::NONE).expect("table");
    assert!(in_v4.slots().eq(as_v4.slots()));
    // Folded by its own family, it takes other slots.
    let own = Table::new(&mixed, SchedFlags::NONE).expect("table");
    assert!(!own.slots().eq(in_v4.slots()));
    // In an IPv6 service, the same as by its own family.
    let in_v6 =
        Table::for_service(&mixed, AddressFamily::Ipv6, SchedFlags::NONE, index).expect("table");
    assert!(own.slots().eq(in_v6.slots()));
}

#[test]
fn gcd_and_weight_edits() {
    assert_eq!(gcd(0, 6), 6);
    assert_eq!(gcd(12, 18), 6);
    let s = Server::new(v4(192, 0, 2, 1), 80, 5);
    let drained = s.drained();
    assert_eq!((drained.weight, drained.last_weight), (0, 5));
    let back = drained.with_weight(2);
    assert_eq!((back.weight, back.last_weight), (2, 2));
    assert!(!drained.is_available() && back.is_available());
}

/// Choices of Debian's 6.1 kernel (4093 slots) for the service of
/// `tests/kernel_mh.rs` "4 servers, added 1..4" (list 4, 3, 2, 1; UDP, port
/// 5000, weights 1) and its first clients: that test found the model equal
/// to the kernel on all 10,000 of its clients, so this pins the model to
/// the kernel without the VM.
#[test]
fn the_kernels_choices_for_a_few_clients() {
    let list: Vec<Server> = (1..=4u8)
        .rev()
        .map(|n| Server::new(v4(10, 99, 0, n), 5000, 1))
        .collect();
    let t = Table::new(&list, SchedFlags::NONE).expect("table");
    for (client, server) in [
        (v4(10, 100, 0, 1), 4),
        (v4(10, 100, 0, 7), 3),
        (v4(10, 100, 0, 13), 1),
        (v4(10, 100, 0, 19), 2),
        (v4(10, 100, 0, 25), 2),
        (v4(10, 100, 0, 31), 1),
        (v4(10, 100, 0, 37), 4),
        (v4(10, 100, 0, 43), 3),
    ] {
        assert_eq!(
            t.server_for(client, 0).map(|s| s.address),
            Some(v4(10, 99, 0, server)),
            "{client}"
        );
    }
}
