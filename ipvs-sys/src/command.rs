//! The IPVS commands (`enum IPVS_CMD_*`).

use crate::constants::*;

/// A Generic Netlink command of the IPVS family.
///
/// The kernel answers some commands with another one: a `GetService` is
/// answered with `NewService` messages, `GetDest` with `NewDest`, `GetDaemon`
/// with `NewDaemon`, `GetInfo` with `SetInfo` and `GetConfig` with `SetConfig`.
/// Any other number is kept as `Other`, so a decode never fails on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpvsCmd {
    /// `IPVS_CMD_UNSPEC` (0).
    Unspec,
    /// `IPVS_CMD_NEW_SERVICE`: add a virtual service; also each service in a reply.
    NewService,
    /// `IPVS_CMD_SET_SERVICE`: edit a virtual service.
    SetService,
    /// `IPVS_CMD_DEL_SERVICE`: delete a virtual service and its destinations.
    DelService,
    /// `IPVS_CMD_GET_SERVICE`: get one service, or dump them all.
    GetService,
    /// `IPVS_CMD_NEW_DEST`: add a real server; also each destination in a dump.
    NewDest,
    /// `IPVS_CMD_SET_DEST`: edit a real server.
    SetDest,
    /// `IPVS_CMD_DEL_DEST`: delete a real server.
    DelDest,
    /// `IPVS_CMD_GET_DEST`: dump the real servers of one service (dump only).
    GetDest,
    /// `IPVS_CMD_NEW_DAEMON`: start a sync daemon; also each daemon in a dump.
    NewDaemon,
    /// `IPVS_CMD_DEL_DAEMON`: stop a sync daemon.
    DelDaemon,
    /// `IPVS_CMD_GET_DAEMON`: dump the running sync daemons (dump only).
    GetDaemon,
    /// `IPVS_CMD_SET_CONFIG`: set the tcp/tcpfin/udp timeouts; also the
    /// `GetConfig` reply. (ipvsadm calls it `IPVS_CMD_SET_TIMEOUT`.)
    SetConfig,
    /// `IPVS_CMD_GET_CONFIG`: get the timeouts.
    GetConfig,
    /// `IPVS_CMD_SET_INFO`: only used as the `GetInfo` reply.
    SetInfo,
    /// `IPVS_CMD_GET_INFO`: the IPVS version and connection table size.
    GetInfo,
    /// `IPVS_CMD_ZERO`: zero the counters of one service, or of all.
    Zero,
    /// `IPVS_CMD_FLUSH`: delete every virtual service.
    Flush,
    /// A command number this crate does not know.
    Other(u8),
}

impl From<u8> for IpvsCmd {
    fn from(value: u8) -> Self {
        match value {
            IPVS_CMD_UNSPEC => Self::Unspec,
            IPVS_CMD_NEW_SERVICE => Self::NewService,
            IPVS_CMD_SET_SERVICE => Self::SetService,
            IPVS_CMD_DEL_SERVICE => Self::DelService,
            IPVS_CMD_GET_SERVICE => Self::GetService,
            IPVS_CMD_NEW_DEST => Self::NewDest,
            IPVS_CMD_SET_DEST => Self::SetDest,
            IPVS_CMD_DEL_DEST => Self::DelDest,
            IPVS_CMD_GET_DEST => Self::GetDest,
            IPVS_CMD_NEW_DAEMON => Self::NewDaemon,
            IPVS_CMD_DEL_DAEMON => Self::DelDaemon,
            IPVS_CMD_GET_DAEMON => Self::GetDaemon,
            IPVS_CMD_SET_CONFIG => Self::SetConfig,
            IPVS_CMD_GET_CONFIG => Self::GetConfig,
            IPVS_CMD_SET_INFO => Self::SetInfo,
            IPVS_CMD_GET_INFO => Self::GetInfo,
            IPVS_CMD_ZERO => Self::Zero,
            IPVS_CMD_FLUSH => Self::Flush,
            other => Self::Other(other),
        }
    }
}

impl From<IpvsCmd> for u8 {
    fn from(cmd: IpvsCmd) -> u8 {
        match cmd {
            IpvsCmd::Unspec => IPVS_CMD_UNSPEC,
            IpvsCmd::NewService => IPVS_CMD_NEW_SERVICE,
            IpvsCmd::SetService => IPVS_CMD_SET_SERVICE,
            IpvsCmd::DelService => IPVS_CMD_DEL_SERVICE,
            IpvsCmd::GetService => IPVS_CMD_GET_SERVICE,
            IpvsCmd::NewDest => IPVS_CMD_NEW_DEST,
            IpvsCmd::SetDest => IPVS_CMD_SET_DEST,
            IpvsCmd::DelDest => IPVS_CMD_DEL_DEST,
            IpvsCmd::GetDest => IPVS_CMD_GET_DEST,
            IpvsCmd::NewDaemon => IPVS_CMD_NEW_DAEMON,
            IpvsCmd::DelDaemon => IPVS_CMD_DEL_DAEMON,
            IpvsCmd::GetDaemon => IPVS_CMD_GET_DAEMON,
            IpvsCmd::SetConfig => IPVS_CMD_SET_CONFIG,
            IpvsCmd::GetConfig => IPVS_CMD_GET_CONFIG,
            IpvsCmd::SetInfo => IPVS_CMD_SET_INFO,
            IpvsCmd::GetInfo => IPVS_CMD_GET_INFO,
            IpvsCmd::Zero => IPVS_CMD_ZERO,
            IpvsCmd::Flush => IPVS_CMD_FLUSH,
            IpvsCmd::Other(other) => other,
        }
    }
}

impl IpvsCmd {
    /// Every command of the uapi header, in numeric order (without `Other`).
    pub const ALL: [IpvsCmd; 18] = [
        IpvsCmd::Unspec,
        IpvsCmd::NewService,
        IpvsCmd::SetService,
        IpvsCmd::DelService,
        IpvsCmd::GetService,
        IpvsCmd::NewDest,
        IpvsCmd::SetDest,
        IpvsCmd::DelDest,
        IpvsCmd::GetDest,
        IpvsCmd::NewDaemon,
        IpvsCmd::DelDaemon,
        IpvsCmd::GetDaemon,
        IpvsCmd::SetConfig,
        IpvsCmd::GetConfig,
        IpvsCmd::SetInfo,
        IpvsCmd::GetInfo,
        IpvsCmd::Zero,
        IpvsCmd::Flush,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_round_trips() {
        for n in 0..=u8::MAX {
            assert_eq!(u8::from(IpvsCmd::from(n)), n);
        }
        for (n, cmd) in IpvsCmd::ALL.iter().enumerate() {
            assert_eq!(u8::from(*cmd) as usize, n);
            assert_ne!(*cmd, IpvsCmd::Other(n as u8));
        }
        assert_eq!(IpvsCmd::from(18), IpvsCmd::Other(18));
    }
}
