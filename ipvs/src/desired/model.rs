//! A model of the kernel's table for tests: what each step of a plan does
//! to it, real servers added at the head of their service's list as the
//! kernel adds them (`__ip_vs_update_dest` in `ip_vs_ctl.c`).

use crate::batch::Change;
use crate::desired::plan::Step;
use crate::key::ServiceKey;
use crate::stats::{DestinationInfo, ServiceInfo};

/// Carries out `step` (the change that carries it out) on `table` as the
/// kernel would.
///
/// # Panics
/// If the step names a service or real server the table does not have, or
/// its change is not one a plan makes.
pub(crate) fn carry_out(table: &mut Vec<ServiceInfo>, step: &Step) {
    let find = |t: &mut Vec<ServiceInfo>, key: &ServiceKey| {
        t.iter()
            .position(|s| s.service.key == *key)
            .expect("service there")
    };
    match step.change() {
        Change::AddService(s) => table.push(ServiceInfo::new(s)),
        Change::EditService(to) => {
            let i = find(table, &to.key);
            table[i].service = to;
        }
        Change::DeleteService(key) => {
            let i = find(table, &key);
            table.remove(i);
        }
        Change::AddDestination(service, d) => {
            let i = find(table, &service);
            table[i].destinations.insert(0, DestinationInfo::new(d));
        }
        Change::EditDestination(service, d) => {
            let i = find(table, &service);
            let slot = table[i]
                .destinations
                .iter_mut()
                .find(|x| x.destination.address == d.address && x.destination.port == d.port)
                .expect("real server there");
            slot.destination = d;
        }
        Change::DeleteDestination {
            service,
            address,
            port,
        } => {
            let i = find(table, &service);
            table[i]
                .destinations
                .retain(|x| (x.destination.address, x.destination.port) != (address, port));
        }
        other => panic!("not a step of a plan: {other:?}"),
    }
}
