//! Entry points for the fuzz targets in `fuzz/`: the library's readers of
//! what the kernel says, run without a kernel. Not a stable API.

use ipvs_sys::{IpvsCmdAttr, IpvsMessage};

use crate::key::AddressFamily;
use crate::{proc, wire};

/// Reads every nest of kernel replies as the library does: services, real
/// servers (as of either family), sync daemons and timeouts.
pub fn kernel_replies(messages: &[IpvsMessage]) {
    for message in messages {
        let attrs = message.cmd_attrs();
        for attr in attrs {
            match attr {
                IpvsCmdAttr::Service(nest) => {
                    let _ = wire::service_from_attrs(nest);
                }
                IpvsCmdAttr::Dest(nest) => {
                    let _ = wire::dest_from_attrs(nest, AddressFamily::Ipv4);
                    let _ = wire::dest_from_attrs(nest, AddressFamily::Ipv6);
                }
                IpvsCmdAttr::Daemon(nest) => {
                    let _ = wire::daemon_from_attrs(nest);
                }
                _ => {}
            }
        }
        let _ = wire::timeouts_from_attrs(attrs);
    }
}

/// Reads the text of `/proc/net/ip_vs` as the listings do.
pub fn proc_ip_vs(text: &str) {
    let _ = proc::parse_proc_ip_vs(text.as_bytes());
}
