//! The canonical order of a service's real servers, for the schedulers whose
//! choice depends on the order of the kernel's list, and which real servers
//! a plan must delete and add again to reach it.
//!
//! The rule, from `net/netfilter/ipvs/ip_vs_ctl.c`: a real server added, or
//! deleted and added again, is put at the *head* of the service's list
//! (`__ip_vs_update_dest`, `list_add_rcu(&dest->n_list, &svc->destinations)`);
//! an edit leaves it where it is. The `mh`, `sh` and `dh` schedulers build
//! their lookup tables by walking that list from the head
//! (`ip_vs_mh_populate`, `ip_vs_sh_reassign`, `ip_vs_dh_reassign`), so two
//! directors with the same real servers but another history of adds and
//! deletes can send one client to different real servers (shown on the
//! kernel by `tests/kernel_mh.rs`). Directors that keep their lists in one
//! canonical order agree.

use std::net::IpAddr;

use crate::destination::Destination;
use crate::service::Scheduler;

/// Whether the scheduler's choice of real server depends on the order of
/// the service's list of real servers: true for `mh` (Maglev hashing), `sh`
/// (source hashing) and `dh` (destination hashing), whose tables are built
/// by walking the list from its head (`ip_vs_mh.c`, `ip_vs_sh.c`,
/// `ip_vs_dh.c`). Other schedulers (and unknown ones) are taken as not
/// depending on it.
pub fn order_matters(scheduler: &Scheduler) -> bool {
    matches!(
        scheduler,
        Scheduler::MaglevHashing | Scheduler::SourceHashing | Scheduler::DestinationHashing
    )
}

/// Puts real servers in the canonical order, as the kernel's list should
/// read from its head: ascending by address, IPv4 before IPv6, then by
/// port. Since the kernel adds at the head, a plan adds them in the
/// reverse of this order.
pub fn canonical_order(destinations: &mut [Destination]) {
    destinations.sort_by_key(endpoint);
}

/// A real server's address and port: what identifies it in its service,
/// and what the canonical order sorts by.
fn endpoint(d: &Destination) -> (IpAddr, u16) {
    (d.address, d.port)
}

/// How many real servers at the end of `canonical` (the desired real
/// servers in canonical order) the kernel's list `current` (address and
/// port, head first) already holds as the tail of its list, in that order,
/// once the real servers before them are deleted: those can stay; every
/// other one of `canonical` must be added (again, if `current` has it)
/// after them. Real servers of `current` that `canonical` does not list do
/// not count (they are deleted, or drained and left alone).
pub(crate) fn kept_tail(current: &[(IpAddr, u16)], canonical: &[Destination]) -> usize {
    let mut kept = 0;
    // Where in `current` the last kept real server is: the one before it
    // in canonical order must come before it in the list.
    let mut before = current.len();
    for d in canonical.iter().rev() {
        match current[..before].iter().rposition(|e| *e == endpoint(d)) {
            Some(at) => {
                kept += 1;
                before = at;
            }
            None => break,
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::ForwardMethod;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn rs(address: IpAddr, port: u16) -> Destination {
        Destination::new(address, port, ForwardMethod::Route)
    }

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    #[test]
    fn only_the_hashing_schedulers_care_about_order() {
        let caring: Vec<Scheduler> = Scheduler::KNOWN
            .iter()
            .filter(|s| order_matters(s))
            .cloned()
            .collect();
        assert_eq!(
            caring,
            [
                Scheduler::DestinationHashing,
                Scheduler::SourceHashing,
                Scheduler::MaglevHashing
            ]
        );
        assert!(!order_matters(&Scheduler::Other("mh2".into())));
    }

    #[test]
    fn canonical_order_is_ipv4_then_ipv6_by_address_then_port() {
        let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        let mut list = vec![
            rs(v6, 80),
            rs(v4(10), 80),
            rs(v4(9), 443),
            rs(v4(9), 80),
            rs(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80),
        ];
        canonical_order(&mut list);
        let got: Vec<(IpAddr, u16)> = list.iter().map(endpoint).collect();
        assert_eq!(
            got,
            [
                (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80),
                (v4(9), 80),
                (v4(9), 443),
                (v4(10), 80),
                (v6, 80)
            ]
        );
    }

    #[test]
    fn the_kept_tail_is_the_longest_canonical_tail_in_list_order() {
        let canonical: Vec<Destination> = (1..=4).map(|n| rs(v4(n), 80)).collect();
        let list = |ns: &[u8]| ns.iter().map(|&n| (v4(n), 80)).collect::<Vec<_>>();
        assert_eq!(kept_tail(&list(&[1, 2, 3, 4]), &canonical), 4);
        // #2 re-added, at the head: 2 3 4 are in order once #1 is gone.
        assert_eq!(kept_tail(&list(&[2, 1, 3, 4]), &canonical), 3);
        // #3 added last: 3 4 stay.
        assert_eq!(kept_tail(&list(&[3, 1, 2, 4]), &canonical), 2);
        // Added 1..4 one after the other, the list reads 4 3 2 1: only #4
        // can stay.
        assert_eq!(kept_tail(&list(&[4, 3, 2, 1]), &canonical), 1);
        // Others in between (to be deleted) do not count.
        assert_eq!(kept_tail(&list(&[9, 1, 8, 2, 3, 7, 4]), &canonical), 4);
        // #4 missing: nothing can stay, everything is added after it.
        assert_eq!(kept_tail(&list(&[1, 2, 3]), &canonical), 0);
        assert_eq!(kept_tail(&[], &canonical), 0);
    }
}
