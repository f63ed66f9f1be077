//! Takes a real server out of a TCP service gracefully: its weight goes to 0
//! (no new connections), then it is deleted once its active connections are
//! gone, or when the timeout passes.
//!
//! ```text
//! drain_server VIP:PORT REAL_SERVER:PORT [TIMEOUT_SECONDS]
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ipvs::{DestinationUpdate, Ipvs, ServiceKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (vip, rs, timeout) = match args.as_slice() {
        [vip, rs] => (vip, rs, 300),
        [vip, rs, t] => (
            vip,
            rs,
            t.parse()
                .map_err(|_| format!("`{t}` is not a number of seconds"))?,
        ),
        _ => return Err("usage: drain_server VIP:PORT REAL_SERVER:PORT [TIMEOUT_SECONDS]".into()),
    };
    let vip: SocketAddr = vip
        .parse()
        .map_err(|_| format!("`{vip}` is not VIP:PORT"))?;
    let rs: SocketAddr = rs
        .parse()
        .map_err(|_| format!("`{rs}` is not ADDRESS:PORT"))?;
    let key = ServiceKey::tcp(vip.ip(), vip.port());
    let ipvs = Ipvs::new()?;

    ipvs.update_destination_with(
        &key,
        rs.ip(),
        rs.port(),
        &DestinationUpdate::new().with_weight(0),
    )?;
    println!("{rs}: weight 0, no new connections");
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let active = ipvs
            .destinations(&key)?
            .into_iter()
            .find(|d| d.destination.address == rs.ip() && d.destination.port == rs.port())
            .map(|d| d.active_connections)
            .ok_or_else(|| format!("{rs} disappeared from {key}"))?;
        if active == 0 {
            println!("{rs}: no active connections left");
            break;
        }
        if Instant::now() >= deadline {
            println!(
                "{rs}: {active} active connections still open after {timeout} s, deleting anyway"
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    ipvs.delete_destination(&key, rs.ip(), rs.port())?;
    println!("{rs}: deleted from {key}");
    Ok(())
}
