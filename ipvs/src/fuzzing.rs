//! Entry points for the fuzz targets in `fuzz/`: the library's readers of
//! what the kernel says, run without a kernel. Not a stable API.

use ipvs_sys::IpvsMessage;

use crate::{proc, wire};

/// Reads every nest of kernel replies as the library does: services, real
/// servers (as of either family), sync daemons and timeouts.
pub fn kernel_replies(messages: &[IpvsMessage]) {
    wire::read_any(messages);
}

/// Reads the text of `/proc/net/ip_vs` as the listings do.
pub fn proc_ip_vs(text: &str) {
    let _ = proc::parse_proc_ip_vs(text.as_bytes());
}
