//! The address family carried by service and destination attributes.

use crate::constants::{AF_INET, AF_INET6};
use crate::flags::value_enum;

value_enum! {
    /// An address family as the kernel numbers it (`IPVS_SVC_ATTR_AF`,
    /// `IPVS_DEST_ATTR_ADDR_FAMILY`), a host-order u16 on the wire.
    IpvsAddressFamily(u16) {
        /// `AF_INET` (2).
        Inet = AF_INET,
        /// `AF_INET6` (10).
        Inet6 = AF_INET6,
    }
}
