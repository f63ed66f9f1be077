//! Lists the IPVS table: every virtual service with its real servers,
//! connections and counters; `--json` prints the table document instead.
//!
//! ```text
//! list_table [--json]
//! ```

use ipvs::{Ipvs, table_json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let json = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--json") => true,
        Some(other) => {
            return Err(format!("unknown argument `{other}` (usage: list_table [--json])").into());
        }
    };
    let ipvs = Ipvs::new()?;
    let table = ipvs.table()?;
    if json {
        println!("{}", table_json(&table));
        return Ok(());
    }
    let info = ipvs.info()?;
    println!(
        "IPVS {} ({} connection buckets), {} services",
        info.version,
        info.connection_table_size,
        table.len()
    );
    for svc in &table {
        println!(
            "{}  [{} connections, {} bytes in]",
            svc.service, svc.stats.connections, svc.stats.in_bytes
        );
        for rs in &svc.destinations {
            println!(
                "  -> {}  active {} inactive {}",
                rs.destination, rs.active_connections, rs.inactive_connections
            );
        }
    }
    Ok(())
}
