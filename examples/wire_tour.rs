//! Prints what the wire binding reads from the kernel: the family id, the
//! IPVS version, the timeouts, every service with its destinations, and the
//! sync daemons. Run it as root on a kernel with IPVS (or in the test VM:
//! `tests/vm/run target/debug/examples/wire_tour`).

use ipvs_sys::{IpvsCmd, IpvsCmdAttr, IpvsMessage, IpvsServiceAttr, IpvsSocket};

fn main() -> Result<(), ipvs_sys::Error> {
    let mut socket = IpvsSocket::connect()?;
    println!("IPVS family id: {}", socket.family_id());
    for reply in socket.request(IpvsMessage::new(IpvsCmd::GetInfo, vec![]))? {
        println!("info: {:?}", reply.info_attrs());
    }
    for reply in socket.request(IpvsMessage::new(IpvsCmd::GetConfig, vec![]))? {
        println!("timeouts: {:?}", reply.cmd_attrs());
    }
    let services = socket.dump(IpvsMessage::new(IpvsCmd::GetService, vec![]))?;
    println!("{} services", services.len());
    for service in services {
        for attr in service.cmd_attrs() {
            let IpvsCmdAttr::Service(attrs) = attr else {
                continue;
            };
            println!("service: {attrs:?}");
            // The identifying attributes select the service whose dests to dump.
            let key: Vec<IpvsServiceAttr> = attrs
                .iter()
                .filter(|a| {
                    matches!(
                        a,
                        IpvsServiceAttr::Af(_)
                            | IpvsServiceAttr::Protocol(_)
                            | IpvsServiceAttr::Addr(_)
                            | IpvsServiceAttr::Port(_)
                            | IpvsServiceAttr::Fwmark(_)
                    )
                })
                .cloned()
                .collect();
            let dests = socket.dump(IpvsMessage::new(
                IpvsCmd::GetDest,
                vec![IpvsCmdAttr::Service(key)],
            ))?;
            for dest in dests {
                println!("  dest: {:?}", dest.cmd_attrs());
            }
        }
    }
    for daemon in socket.dump(IpvsMessage::new(IpvsCmd::GetDaemon, vec![]))? {
        println!("daemon: {:?}", daemon.cmd_attrs());
    }
    Ok(())
}
