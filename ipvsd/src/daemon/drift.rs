//! Drift seen cheaply: the table read in brief (one service dump and one
//! read of `/proc/net/ip_vs`, instead of two requests per service) compared
//! with the desired one on what such a read shows, to find the services an
//! apply must repair. A brief read has every field of a service and of a
//! real server but its connection thresholds (`ipvs::Destinations::Brief`),
//! so a threshold changed by hand is left to the full reconcile that comes
//! every [`FULL_EVERY`] cycles.

use std::collections::BTreeSet;

use ipvs::{DesiredState, ServiceInfo, ServiceKey, Step, diff};

use super::reconcile::plan_options;

/// One cycle in this many reads the managed services in full (the others
/// read the table in brief): at the 5 s cycle, once a minute.
pub const FULL_EVERY: u64 = 12;

/// The services of `managed` whose state in `table` (read in brief)
/// differs from `desired`, thresholds aside, judged as an apply plans
/// ([`plan_options`]): an `mh`, `sh` or `dh` service whose real servers are
/// out of the canonical order has drifted.
pub fn drifted(
    table: &[ServiceInfo],
    desired: &DesiredState,
    managed: &BTreeSet<ServiceKey>,
) -> BTreeSet<ServiceKey> {
    diff(table, desired, &plan_options(managed.clone()))
        .steps
        .iter()
        .filter(|step| !thresholds_only(step))
        .map(Step::service)
        .collect()
}

/// Whether a step only changes thresholds, which a brief read does not
/// show (the table's are 0 there).
fn thresholds_only(step: &Step) -> bool {
    match step {
        Step::EditDestination { from, to, .. } => {
            let mut to = to.normalized();
            to.upper_threshold = from.upper_threshold;
            to.lower_threshold = from.lower_threshold;
            from.normalized() == to
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs::{Destination, DestinationInfo, ForwardMethod, Service, ServiceSpec};
    use std::net::IpAddr;

    fn key(last: u8) -> ServiceKey {
        ServiceKey::tcp(IpAddr::from([192, 0, 2, last]), 80)
    }

    fn dest(last: u8, weight: u32) -> Destination {
        Destination::new(IpAddr::from([10, 0, 0, last]), 8080, ForwardMethod::Masq)
            .with_weight(weight)
    }

    /// A table as a brief read gives it: thresholds 0.
    fn brief(services: &[(u8, &[(u8, u32)])]) -> Vec<ServiceInfo> {
        services
            .iter()
            .map(|(k, ds)| {
                ServiceInfo::new(Service::new(key(*k))).with_destinations(
                    ds.iter()
                        .map(|&(last, w)| DestinationInfo::new(dest(last, w)))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn weights_real_servers_and_services_that_differ_are_found_thresholds_are_not() {
        let mut limited = dest(12, 1);
        limited.upper_threshold = 100;
        let desired = DesiredState::new(vec![
            ServiceSpec::new(Service::new(key(1)), vec![dest(11, 1), limited]),
            ServiceSpec::new(Service::new(key(2)), vec![dest(21, 1)]),
            ServiceSpec::new(Service::new(key(3)), vec![dest(31, 1)]),
            ServiceSpec::new(Service::new(key(4)), vec![]),
        ]);
        let managed: BTreeSet<ServiceKey> = (1..=6).map(key).collect();
        // As wanted (the threshold cannot be seen): nothing.
        let same = brief(&[
            (1, &[(11, 1), (12, 1)]),
            (2, &[(21, 1)]),
            (3, &[(31, 1)]),
            (4, &[]),
        ]);
        assert!(drifted(&same, &desired, &managed).is_empty());
        // A weight changed (2), a real server gone (3), a service gone (4),
        // a managed service left over (5), another program's service (7).
        let hand = brief(&[
            (1, &[(11, 1), (12, 1)]),
            (2, &[(21, 5)]),
            (3, &[]),
            (5, &[]),
            (7, &[(71, 1)]),
        ]);
        assert_eq!(
            drifted(&hand, &desired, &managed),
            [2, 3, 4, 5].map(key).into()
        );
    }

    #[test]
    fn a_hashing_service_out_of_canonical_order_has_drifted() {
        let mh = |k| Service::new(key(k)).with_scheduler(ipvs::Scheduler::MaglevHashing);
        let desired = DesiredState::new(vec![
            ServiceSpec::new(mh(1), vec![dest(11, 1), dest(12, 1)]),
            ServiceSpec::new(Service::new(key(2)), vec![dest(21, 1), dest(22, 1)]),
        ]);
        let managed: BTreeSet<ServiceKey> = [1, 2].map(key).into();
        // Lists as read, head first.
        let table = |first: u8, second: u8| {
            vec![
                ServiceInfo::new(mh(1)).with_destinations(vec![
                    DestinationInfo::new(dest(first, 1)),
                    DestinationInfo::new(dest(second, 1)),
                ]),
                ServiceInfo::new(Service::new(key(2))).with_destinations(vec![
                    DestinationInfo::new(dest(22, 1)),
                    DestinationInfo::new(dest(21, 1)),
                ]),
            ]
        };
        assert!(drifted(&table(11, 12), &desired, &managed).is_empty());
        // The wlc service's order never counts; the mh one's does.
        assert_eq!(drifted(&table(12, 11), &desired, &managed), [key(1)].into());
    }
}
