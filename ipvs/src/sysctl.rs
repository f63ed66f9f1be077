//! IPVS's switches that netlink does not carry: the sysctls under
//! `/proc/sys/net/ipv4/vs/` (the kernel's `Documentation/networking/
//! ipvs-sysctl.rst`). Each network namespace has its own; these read and
//! write the calling thread's.

use std::io;
use std::path::PathBuf;

/// A boolean IPVS sysctl (`0` or `1` in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Switch {
    /// `sloppy_tcp`: let a director create a connection entry for any TCP
    /// packet, not only a SYN, so that a connection moved to it (another
    /// director failed, the routers rehashed its flows) keeps working there.
    /// Kernel default 0.
    SloppyTcp,
    /// `sloppy_sctp`: the same for SCTP, from any chunk rather than INIT.
    /// Kernel default 0.
    SloppySctp,
}

impl Switch {
    /// Every switch, in the order of their names.
    pub const ALL: [Switch; 2] = [Switch::SloppySctp, Switch::SloppyTcp];

    /// The sysctl's name under `net.ipv4.vs.` (`sloppy_tcp`).
    pub fn name(self) -> &'static str {
        match self {
            Self::SloppyTcp => "sloppy_tcp",
            Self::SloppySctp => "sloppy_sctp",
        }
    }

    /// Its file, `/proc/sys/net/ipv4/vs/NAME`; it exists while the `ip_vs`
    /// module is loaded.
    pub fn path(self) -> PathBuf {
        PathBuf::from(format!("/proc/sys/net/ipv4/vs/{}", self.name()))
    }

    /// Whether it is on, in the calling thread's network namespace.
    ///
    /// # Errors
    /// The file cannot be read (no `ip_vs` module: not found), or holds
    /// something other than a number (the error names the file).
    pub fn get(self) -> io::Result<bool> {
        let path = self.path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        text.trim().parse::<i64>().map(|n| n != 0).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a number: {:?}", path.display(), text.trim()),
            )
        })
    }

    /// Turns it on or off, in the calling thread's network namespace.
    ///
    /// # Errors
    /// The file cannot be written: no `ip_vs` module (not found), or no
    /// `CAP_NET_ADMIN` over the namespace (permission denied).
    pub fn set(self, on: bool) -> io::Result<()> {
        let path = self.path();
        std::fs::write(&path, if on { "1\n" } else { "0\n" })
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

impl std::fmt::Display for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_the_kernels() {
        assert_eq!(
            Switch::SloppyTcp.path(),
            PathBuf::from("/proc/sys/net/ipv4/vs/sloppy_tcp")
        );
        assert_eq!(Switch::SloppySctp.to_string(), "sloppy_sctp");
        let mut names: Vec<&str> = Switch::ALL.iter().map(|s| s.name()).collect();
        let listed = names.clone();
        names.sort_unstable();
        assert_eq!(names, listed);
    }
}
