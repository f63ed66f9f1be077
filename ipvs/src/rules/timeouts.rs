//! The rules of the connection timeouts.

use super::{MAX_TIMEOUT, Violation};
use crate::timeouts::Timeouts;

/// Checks the connection timeouts. ipvsadm: `--set tcp tcpfin udp`, each
/// 0..=2678400, 0 leaving that one unchanged. Kernel (`ip_vs_set_timeout`):
/// 0 keeps the current value; the rest it stores as seconds × HZ in an int,
/// so what it takes depends on HZ. The library takes ipvsadm's range, which
/// fits at any HZ up to 800.
pub(crate) fn check_timeouts(t: &Timeouts) -> Result<(), Violation> {
    for (which, value) in [("tcp", t.tcp), ("tcp_fin", t.tcp_fin), ("udp", t.udp)] {
        if value > MAX_TIMEOUT {
            return Err(Violation::Timeout { which, value });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_timeout_is_checked() {
        assert_eq!(check_timeouts(&Timeouts::new(0, 0, 0)), Ok(()));
        assert_eq!(
            check_timeouts(&Timeouts::new(MAX_TIMEOUT, MAX_TIMEOUT, MAX_TIMEOUT)),
            Ok(())
        );
        assert_eq!(
            check_timeouts(&Timeouts::new(900, MAX_TIMEOUT + 1, 300)),
            Err(Violation::Timeout {
                which: "tcp_fin",
                value: MAX_TIMEOUT + 1
            })
        );
        assert_eq!(
            check_timeouts(&Timeouts::new(900, 120, u32::MAX)),
            Err(Violation::Timeout {
                which: "udp",
                value: u32::MAX
            })
        );
    }
}
