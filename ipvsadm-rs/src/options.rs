//! ipvsadm 1.31's option table, the options each command takes, and the
//! names its messages use, as data.

use crate::popt::{Arg, Spec};

/// What an option is, as the parser sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    // Options of ipvsadm-rs only.
    Json,
    Format,
}

const fn spec(long: &'static str, short: Option<char>, arg: Arg, tag: Tag) -> Spec<Tag> {
    Spec {
        long,
        short,
        arg,
        tag,
    }
}

use Arg::{None as N, Optional as O, Required as R};

/// Every option, with ipvsadm's long and short names.
pub const TABLE: &[Spec<Tag>] = &[
    spec("add-service", Some('A'), N, Tag::AddService),
    spec("edit-service", Some('E'), N, Tag::EditService),
    spec("delete-service", Some('D'), N, Tag::DeleteService),
    spec("clear", Some('C'), N, Tag::Clear),
    spec("list", Some('L'), N, Tag::List),
    spec("list", Some('l'), N, Tag::List),
    spec("zero", Some('Z'), N, Tag::Zero),
    spec("add-server", Some('a'), N, Tag::AddServer),
    spec("edit-server", Some('e'), N, Tag::EditServer),
    spec("delete-server", Some('d'), N, Tag::DeleteServer),
    spec("set", None, N, Tag::Set),
    spec("help", Some('h'), N, Tag::Help),
    spec("version", Some('v'), N, Tag::Version),
    spec("restore", Some('R'), N, Tag::Restore),
    spec("save", Some('S'), N, Tag::Save),
    spec("start-daemon", None, R, Tag::StartDaemon),
    spec("stop-daemon", None, R, Tag::StopDaemon),
    spec("tcp-service", Some('t'), R, Tag::TcpService),
    spec("udp-service", Some('u'), R, Tag::UdpService),
    spec("sctp-service", None, R, Tag::SctpService),
    spec("fwmark-service", Some('f'), R, Tag::FwmarkService),
    spec("scheduler", Some('s'), R, Tag::Scheduler),
    spec("persistent", Some('p'), O, Tag::Persistent),
    spec("netmask", Some('M'), R, Tag::Netmask),
    spec("real-server", Some('r'), R, Tag::RealServer),
    spec("masquerading", Some('m'), N, Tag::Masquerading),
    spec("ipip", Some('i'), N, Tag::Ipip),
    spec("gatewaying", Some('g'), N, Tag::Gatewaying),
    spec("weight", Some('w'), R, Tag::Weight),
    spec("u-threshold", Some('x'), R, Tag::UThreshold),
    spec("l-threshold", Some('y'), R, Tag::LThreshold),
    spec("numeric", Some('n'), N, Tag::Numeric),
    spec("connection", Some('c'), N, Tag::Connection),
    spec("mcast-interface", None, R, Tag::McastInterface),
    spec("syncid", None, R, Tag::SyncId),
    spec("timeout", None, N, Tag::Timeout),
    spec("daemon", None, N, Tag::Daemon),
    spec("stats", None, N, Tag::Stats),
    spec("rate", None, N, Tag::Rate),
    spec("thresholds", None, N, Tag::Thresholds),
    spec("persistent-conn", None, N, Tag::PersistentConn),
    spec("nosort", None, N, Tag::NoSort),
    spec("sort", None, N, Tag::Sort),
    spec("exact", Some('X'), N, Tag::Exact),
    spec("ipv6", Some('6'), N, Tag::Ipv6),
    spec("ops", Some('o'), N, Tag::Ops),
    spec("pe", None, R, Tag::Pe),
    spec("sched-flags", Some('b'), R, Tag::SchedFlags),
    spec("mcast-group", None, R, Tag::McastGroup),
    spec("mcast-port", None, R, Tag::McastPort),
    spec("mcast-ttl", None, R, Tag::McastTtl),
    spec("sync-maxlen", None, R, Tag::SyncMaxlen),
    spec("tun-info", None, N, Tag::TunInfo),
    spec("tun-type", None, R, Tag::TunType),
    spec("tun-port", None, R, Tag::TunPort),
    spec("tun-nocsum", None, N, Tag::TunNocsum),
    spec("tun-csum", None, N, Tag::TunCsum),
    spec("tun-remcsum", None, N, Tag::TunRemcsum),
    spec("json", None, N, Tag::Json),
    spec("format", None, R, Tag::Format),
];

/// The commands, in ipvsadm's order (the rows of [`MATRIX`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

impl Cmd {
    /// The name ipvsadm's messages give the command.
    pub fn name(self) -> &'static str {
        CMD_NAMES[self as usize]
    }
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

/// The options of the matrix, in ipvsadm's bit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    OnePacket,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

/// The names ipvsadm's messages give the options, in bit order.
pub const OPT_NAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

/// Which options each command takes: `+` compulsory, `x` illegal, `1` at
/// most one of the `1`s, ` ` optional. Columns in [`Opt`] order.
pub const MATRIX: [&[u8; 34]; 14] = [
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // add
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // edit
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // del
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // flush
    b" 11xxxxxxxxx11       xxxxxxx xxxxx", // list
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // addsrv
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // delsrv
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // editsrv
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // timeout
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx", // startd
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx", // stopd
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // restore
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // save
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // zero
];
