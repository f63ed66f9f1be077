//! ipvsadm 1.31's options as data: one row per option, from which the popt
//! scan table, the option/command matrix checks and the `-h` text derive.
//!
//! A row says an option's long and short names, whether it takes a value,
//! what it is to the parser ([`Tag`]), its column of ipvsadm's matrix (the
//! name its messages give it, and for each command whether the option is
//! compulsory, illegal, one of a set of exclusive options, or optional) and
//! its line of the usage text. Adding an option is one row here and its arm
//! in [`crate::parse`].

use crate::popt::{Arg, Spec};

/// What an option is, as the parser's handling names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
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
    // Options of ipvsadm-rs only: in no matrix column, not in the usage text.
    Json,
    Format,
}

/// The commands, in the order of the rules of a [`Column`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
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
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Add => "add-service",
            Self::Edit => "edit-service",
            Self::Del => "delete-service",
            Self::Flush => "flush",
            Self::List => "list",
            Self::AddDest => "add-server",
            Self::DelDest => "delete-server",
            Self::EditDest => "edit-server",
            Self::Timeout => "set",
            Self::StartDaemon => "start-daemon",
            Self::StopDaemon => "stop-daemon",
            Self::Restore => "restore",
            Self::Save => "save",
            Self::Zero => "zero",
        }
    }
}

/// A column of ipvsadm's option/command matrix: options that share one
/// (the four kinds of service, the three forwarding methods) count as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    /// ipvsadm's bit number of the option: the checks run in this order.
    pub(crate) bit: u8,
    /// The name ipvsadm's messages give the option.
    pub(crate) name: &'static str,
    /// One rule per command, in [`Cmd`] order: `+` compulsory, `x` illegal,
    /// `1` at most one of the `1`s, ` ` optional.
    pub(crate) rules: &'static [u8; 14],
    /// For the tunnel options, one rule per tunnel type (ipip, gue, gre),
    /// checked for `-a`/`-e` as the matrix is.
    pub(crate) tunnel: Option<&'static [u8; 3]>,
}

const fn col(bit: u8, name: &'static str, rules: &'static [u8; 14]) -> Option<Column> {
    Some(Column {
        bit,
        name,
        rules,
        tunnel: None,
    })
}

const fn tun(
    bit: u8,
    name: &'static str,
    rules: &'static [u8; 14],
    tunnel: &'static [u8; 3],
) -> Option<Column> {
    Some(Column {
        bit,
        name,
        rules,
        tunnel: Some(tunnel),
    })
}

// Columns several options share. Rules: add edit del flush list addsrv
// delsrv editsrv set startd stopd restore save zero.
const SERVICE: Option<Column> = col(2, "service-address", b"+++x1+++xxxxx ");
const FORWARD: Option<Column> = col(7, "forwarding-method", b"xxxxx x xxxxxx");

/// The sections of the usage text, with the lines that open them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Commands,
    VirtualService,
    Options,
    DaemonOptions,
}

impl Section {
    /// The text before the section's first line.
    pub(crate) fn heading(self) -> &'static str {
        match self {
            Self::Commands => "Commands:\nEither long or short options are allowed.\n",
            Self::VirtualService => "\nvirtual-service:\n",
            Self::Options => "\nOptions:\n",
            Self::DaemonOptions => "Daemon Options:\n",
        }
    }
}

/// What the parser, the checks and the usage text know of an option.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Def {
    /// What it is to the parser.
    pub(crate) tag: Tag,
    /// Its matrix column, if the matrix checks it.
    pub(crate) column: Option<Column>,
    /// Its section and text in `-h` (ipvsadm's layout, a line or two).
    pub(crate) help: Option<(Section, &'static str)>,
}

const fn row(
    long: &'static str,
    short: Option<char>,
    arg: Arg,
    tag: Tag,
    column: Option<Column>,
    help: Option<(Section, &'static str)>,
) -> Spec<Def> {
    Spec {
        long,
        short,
        arg,
        tag: Def { tag, column, help },
    }
}

use Arg::{None as N, Optional as O, Required as R};
use Section::{Commands as C, DaemonOptions as DO, Options as OP, VirtualService as VS};

/// Every option, in the order of the usage text.
#[rustfmt::skip]
pub(crate) const OPTIONS: &[Spec<Def>] = &[
    // Commands: the matrix's rows, not its columns.
    row("add-service", Some('A'), N, Tag::AddService, None, Some((C, "  --add-service     -A        add virtual service with options"))),
    row("edit-service", Some('E'), N, Tag::EditService, None, Some((C, "  --edit-service    -E        edit virtual service with options"))),
    row("delete-service", Some('D'), N, Tag::DeleteService, None, Some((C, "  --delete-service  -D        delete virtual service"))),
    row("clear", Some('C'), N, Tag::Clear, None, Some((C, "  --clear           -C        clear the whole table"))),
    row("restore", Some('R'), N, Tag::Restore, None, Some((C, "  --restore         -R        restore rules from stdin"))),
    row("save", Some('S'), N, Tag::Save, None, Some((C, "  --save            -S        save rules to stdout"))),
    row("add-server", Some('a'), N, Tag::AddServer, None, Some((C, "  --add-server      -a        add real server with options"))),
    row("edit-server", Some('e'), N, Tag::EditServer, None, Some((C, "  --edit-server     -e        edit real server with options"))),
    row("delete-server", Some('d'), N, Tag::DeleteServer, None, Some((C, "  --delete-server   -d        delete real server"))),
    row("list", Some('L'), N, Tag::List, None, Some((C, "  --list            -L|-l     list the table"))),
    row("list", Some('l'), N, Tag::List, None, None),
    row("zero", Some('Z'), N, Tag::Zero, None, Some((C, "  --zero            -Z        zero counters in a service or all services"))),
    row("set", None, N, Tag::Set, None, Some((C, "  --set tcp tcpfin udp        set connection timeout values"))),
    row("start-daemon", None, R, Tag::StartDaemon, None, Some((C, "  --start-daemon              start connection sync daemon"))),
    row("stop-daemon", None, R, Tag::StopDaemon, None, Some((C, "  --stop-daemon               stop connection sync daemon"))),
    row("help", Some('h'), N, Tag::Help, None, Some((C, "  --help            -h        display this help message"))),
    row("version", Some('v'), N, Tag::Version, None, None),
    // The virtual service.
    row("tcp-service", Some('t'), R, Tag::TcpService, SERVICE, Some((VS, "  --tcp-service|-t  service-address   service-address is host[:port]"))),
    row("udp-service", Some('u'), R, Tag::UdpService, SERVICE, Some((VS, "  --udp-service|-u  service-address   service-address is host[:port]"))),
    row("sctp-service", None, R, Tag::SctpService, SERVICE, Some((VS, "  --sctp-service    service-address   service-address is host[:port]"))),
    row("fwmark-service", Some('f'), R, Tag::FwmarkService, SERVICE, Some((VS, "  --fwmark-service|-f fwmark          fwmark is an integer greater than zero"))),
    // Options.
    row("ipv6", Some('6'), N, Tag::Ipv6, None, Some((OP, "  --ipv6         -6                   fwmark entry uses IPv6"))),
    row("scheduler", Some('s'), R, Tag::Scheduler, col(3, "scheduler", b"  xxxxxxxxxxxx"), Some((OP, "  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,\n                                      the default scheduler is wlc."))),
    row("pe", None, R, Tag::Pe, col(22, "pe", b"  xxxxxxxxxxxx"), Some((OP, "  --pe            engine              alternate persistence engine may be sip,\n                                      not set by default."))),
    row("persistent", Some('p'), O, Tag::Persistent, col(4, "persistent", b"  xxxxxxxxxxxx"), Some((OP, "  --persistent   -p [timeout]         persistent service"))),
    row("netmask", Some('M'), R, Tag::Netmask, col(5, "netmask", b"  xxxxxxxxxxxx"), Some((OP, "  --netmask      -M netmask           persistent granularity mask"))),
    row("real-server", Some('r'), R, Tag::RealServer, col(6, "real-server", b"xxxxx+++xxxxxx"), Some((OP, "  --real-server  -r server-address    server-address is host (and port)"))),
    row("gatewaying", Some('g'), N, Tag::Gatewaying, FORWARD, Some((OP, "  --gatewaying   -g                   gatewaying (direct routing) (default)"))),
    row("ipip", Some('i'), N, Tag::Ipip, FORWARD, Some((OP, "  --ipip         -i                   ipip encapsulation (tunneling)"))),
    row("masquerading", Some('m'), N, Tag::Masquerading, FORWARD, Some((OP, "  --masquerading -m                   masquerading (NAT)"))),
    row("tun-type", None, R, Tag::TunType, tun(29, "tun-type", b"xxxxx x xxxxxx", b"   "), Some((OP, "  --tun-type      type                one of ipip|gue|gre,\n                                      the default tunnel type is ipip."))),
    row("tun-port", None, R, Tag::TunPort, tun(30, "tun-port", b"xxxxx x xxxxxx", b"x+x"), Some((OP, "  --tun-port      port                tunnel destination port"))),
    row("tun-nocsum", None, N, Tag::TunNocsum, tun(31, "tun-nocsum", b"xxxxx x xxxxxx", b"x11"), Some((OP, "  --tun-nocsum                        tunnel encapsulation without checksum"))),
    row("tun-csum", None, N, Tag::TunCsum, tun(32, "tun-csum", b"xxxxx x xxxxxx", b"x11"), Some((OP, "  --tun-csum                          tunnel encapsulation with checksum"))),
    row("tun-remcsum", None, N, Tag::TunRemcsum, tun(33, "tun-remcsum", b"xxxxx x xxxxxx", b"x1x"), Some((OP, "  --tun-remcsum                       tunnel encapsulation with remote checksum"))),
    row("weight", Some('w'), R, Tag::Weight, col(8, "weight", b"xxxxx x xxxxxx"), Some((OP, "  --weight       -w weight            capacity of real server"))),
    row("u-threshold", Some('x'), R, Tag::UThreshold, col(9, "u-threshold", b"xxxxx x xxxxxx"), Some((OP, "  --u-threshold  -x uthreshold        upper threshold of connections"))),
    row("l-threshold", Some('y'), R, Tag::LThreshold, col(10, "l-threshold", b"xxxxx x xxxxxx"), Some((OP, "  --l-threshold  -y lthreshold        lower threshold of connections"))),
    row("connection", Some('c'), N, Tag::Connection, col(1, "connection", b"xxxx1xxxxxxxxx"), Some((OP, "  --connection   -c                   output of current IPVS connections"))),
    row("timeout", None, N, Tag::Timeout, col(12, "timeout", b"xxxx1xxxxxxxxx"), Some((OP, "  --timeout                           output of timeout (tcp tcpfin udp)"))),
    row("daemon", None, N, Tag::Daemon, col(13, "daemon", b"xxxx1xxxxxxxxx"), Some((OP, "  --daemon                            output of daemon information"))),
    row("stats", None, N, Tag::Stats, col(14, "stats", b"xxxx xxxxxxxxx"), Some((OP, "  --stats                             output of statistics information"))),
    row("rate", None, N, Tag::Rate, col(15, "rate", b"xxxx xxxxxxxxx"), Some((OP, "  --rate                              output of rate information"))),
    row("exact", Some('X'), N, Tag::Exact, col(20, "exact", b"xxxx xxxxxxxxx"), Some((OP, "  --exact                             expand numbers (display exact values)"))),
    row("thresholds", None, N, Tag::Thresholds, col(16, "thresholds", b"xxxx xxxxxxxxx"), Some((OP, "  --thresholds                        output of thresholds information"))),
    row("persistent-conn", None, N, Tag::PersistentConn, col(17, "persistent-conn", b"xxxx xxxxxxxxx"), Some((OP, "  --persistent-conn                   output of persistent connection info"))),
    row("tun-info", None, N, Tag::TunInfo, col(28, "tun-info", b"xxxx xxxxxxxxx"), Some((OP, "  --tun-info                          output of tunnel information"))),
    row("nosort", None, N, Tag::NoSort, col(18, "nosort", b"xxxx xxxxxxxxx"), Some((OP, "  --nosort                            disable sorting output of service/server entries"))),
    row("sort", None, N, Tag::Sort, None, Some((OP, "  --sort                              does nothing, for backwards compatibility"))),
    row("ops", Some('o'), N, Tag::Ops, col(21, "ops", b"  xxxxxxxxxxxx"), Some((OP, "  --ops          -o                   one-packet scheduling"))),
    row("numeric", Some('n'), N, Tag::Numeric, col(0, "numeric", b"xxxx xxxxxxx x"), Some((OP, "  --numeric      -n                   numeric output of addresses and ports"))),
    row("sched-flags", Some('b'), R, Tag::SchedFlags, col(23, "sched-flags", b"  xxxxxxxxxxxx"), Some((OP, "  --sched-flags  -b flags             scheduler flags (comma-separated)"))),
    // Daemon options.
    row("syncid", None, R, Tag::SyncId, col(19, "syncid", b"xxxx xxxx  xxx"), Some((DO, "  --syncid sid                        syncid for connection sync (default=255)"))),
    row("sync-maxlen", None, R, Tag::SyncMaxlen, col(27, "sync-maxlen", b"xxxxxxxxx xxxx"), Some((DO, "  --sync-maxlen length                Max sync message length (default=1472)"))),
    row("mcast-interface", None, R, Tag::McastInterface, col(11, "mcast-interface", b"xxxxxxxxx xxxx"), Some((DO, "  --mcast-interface interface         multicast interface for connection sync"))),
    row("mcast-group", None, R, Tag::McastGroup, col(24, "mcast-group", b"xxxxxxxxx xxxx"), Some((DO, "  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)"))),
    row("mcast-port", None, R, Tag::McastPort, col(25, "mcast-port", b"xxxxxxxxx xxxx"), Some((DO, "  --mcast-port port                   UDP port (default=8848)"))),
    row("mcast-ttl", None, R, Tag::McastTtl, col(26, "mcast-ttl", b"xxxxxxxxx xxxx"), Some((DO, "  --mcast-ttl ttl                     Multicast TTL (default=1)"))),
    // ipvsadm-rs only.
    row("json", None, N, Tag::Json, None, None),
    row("format", None, R, Tag::Format, None, None),
];

/// Every matrix column once, in ipvsadm's bit order (derived from the rows
/// once: every command line is checked against it, and `-R` reads many).
pub(crate) fn columns() -> &'static [Column] {
    static COLUMNS: std::sync::LazyLock<Vec<Column>> = std::sync::LazyLock::new(|| {
        let mut cols: Vec<Column> = Vec::new();
        for spec in OPTIONS {
            if let Some(c) = spec.tag.column
                && !cols.iter().any(|k| k.bit == c.bit)
            {
                cols.push(c);
            }
        }
        cols.sort_by_key(|c| c.bit);
        cols
    });
    &COLUMNS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ipvsadm 1.31's matrix, row per command, column per option bit: the
    /// rows above must transpose to it exactly.
    const IPVSADM_MATRIX: [&[u8; 34]; 14] = [
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

    #[test]
    fn the_columns_are_ipvsadms_matrix() {
        let cols = columns();
        assert_eq!(cols.len(), 34);
        for (j, c) in cols.iter().enumerate() {
            assert_eq!(usize::from(c.bit), j, "{}", c.name);
            for (cmd, row) in IPVSADM_MATRIX.iter().enumerate() {
                assert_eq!(c.rules[cmd], row[j], "{} for command {cmd}", c.name);
            }
        }
        // Options sharing a bit share the whole column.
        for spec in OPTIONS {
            if let Some(c) = spec.tag.column {
                assert_eq!(Some(c), cols.iter().copied().find(|k| k.bit == c.bit));
            }
        }
    }
}
