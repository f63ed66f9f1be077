//! Adds a TCP virtual service with real servers, as a director would.
//!
//! ```text
//! add_service VIP:PORT SCHEDULER REAL_SERVER:PORT[=WEIGHT]...
//! add_service 192.0.2.10:80 wrr 10.0.0.21:8080=3 10.0.0.22:8080=1
//! ```
//! Real servers are reached by NAT (masquerading). Everything is checked
//! before the first change, and the service and its real servers are sent
//! as one pipelined batch.

use std::net::SocketAddr;

use ipvs::{Change, Destination, ForwardMethod, Ipvs, Scheduler, Service, ServiceKey};

fn parse_server(arg: &str) -> Result<(SocketAddr, u32), String> {
    let (addr, weight) = arg.split_once('=').unwrap_or((arg, "1"));
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not ADDRESS:PORT"))?;
    let weight = weight
        .parse()
        .map_err(|_| format!("`{weight}` is not a weight"))?;
    Ok((addr, weight))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [vip, scheduler, servers @ ..] = args.as_slice() else {
        return Err("usage: add_service VIP:PORT SCHEDULER REAL_SERVER:PORT[=WEIGHT]...".into());
    };
    let vip: SocketAddr = vip
        .parse()
        .map_err(|_| format!("`{vip}` is not VIP:PORT"))?;
    let key = ServiceKey::tcp(vip.ip(), vip.port());
    let mut changes = vec![Change::AddService(
        Service::new(key).with_scheduler(Scheduler::from_name(scheduler)),
    )];
    for server in servers {
        let (addr, weight) = parse_server(server)?;
        let rs = Destination::new(addr.ip(), addr.port(), ForwardMethod::Masq).with_weight(weight);
        changes.push(Change::AddDestination(key, rs));
    }
    let ipvs = Ipvs::new()?;
    let mut failed = false;
    for (change, outcome) in changes.iter().zip(ipvs.apply_changes(&changes)?) {
        match outcome {
            Ok(()) => println!("done: {change}"),
            Err(e) => {
                eprintln!("failed: {change}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
