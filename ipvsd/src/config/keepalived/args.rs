//! Arguments of single keywords: scripts, forwarding methods with tunnel
//! options, `lvs_timeouts`, `lvs_sync_daemon`.

use ipvs::{ForwardMethod, Timeouts, Tunnel, TunnelChecksum, TunnelKind};

use crate::config::checker::RunAs;
use crate::config::error::ConfigError;
use crate::config::lexer::Statement;
use crate::config::model::{Script, SyncDaemonConfig};
use crate::config::values::{arg, at_most, ip, number, port};

/// Reads `notify_up "CMD" [USER [GROUP]]`-style script keywords.
pub(super) fn script(st: &Statement) -> Result<Script, ConfigError> {
    let command = arg(st, 0)?.to_owned();
    at_most(st, 3)?;
    let user = st.args().get(1).map(|u| RunAs {
        user: u.clone(),
        group: st.args().get(2).cloned(),
    });
    Ok(Script { command, user })
}

/// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`.
pub(super) fn forwarding(st: &Statement) -> Result<(ForwardMethod, Option<Tunnel>), ConfigError> {
    let bad = |why: String| ConfigError::invalid(&st.location, st.keyword(), why);
    let method = match arg(st, 0)? {
        "NAT" => ForwardMethod::Masq,
        "DR" => ForwardMethod::Route,
        "TUN" => ForwardMethod::Tunnel,
        other => return Err(bad(format!("`{other}` is not NAT, DR or TUN"))),
    };
    let args = &st.args()[1..];
    if method != ForwardMethod::Tunnel {
        if let Some(extra) = args.first() {
            return Err(bad(format!("`{extra}`: only TUN takes options")));
        }
        return Ok((method, None));
    }
    let (mut kind, mut tun_port, mut checksum) = (TunnelKind::Ipip, 0u16, TunnelChecksum::None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "type" => {
                kind = match args.get(i + 1).map(String::as_str) {
                    Some("ipip") => TunnelKind::Ipip,
                    Some("gue") => TunnelKind::Gue,
                    Some("gre") => TunnelKind::Gre,
                    other => {
                        return Err(bad(format!(
                            "tunnel type `{}` is not ipip, gue or gre",
                            other.unwrap_or("")
                        )));
                    }
                };
                i += 2;
            }
            "port" => {
                let text = args.get(i + 1).map_or("", String::as_str);
                tun_port = port(st, text, false)?;
                i += 2;
            }
            "nocsum" => (checksum, i) = (TunnelChecksum::None, i + 1),
            "csum" => (checksum, i) = (TunnelChecksum::Checksum, i + 1),
            "remcsum" => (checksum, i) = (TunnelChecksum::Remote, i + 1),
            other => return Err(bad(format!("unknown tunnel option `{other}`"))),
        }
    }
    if (kind == TunnelKind::Gue) != (tun_port != 0) {
        return Err(bad(
            "a gue tunnel needs a port, and only gue takes one".into()
        ));
    }
    if kind == TunnelKind::Ipip && checksum != TunnelChecksum::None {
        return Err(bad("ipip tunnels take no checksum option".into()));
    }
    if kind == TunnelKind::Gre && checksum == TunnelChecksum::Remote {
        return Err(bad("gre tunnels take no remote checksum".into()));
    }
    Ok((method, Some(Tunnel::new(kind, tun_port, checksum))))
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`, in seconds.
pub(super) fn lvs_timeouts(s: &Statement) -> Result<Timeouts, ConfigError> {
    let mut t = Timeouts::default();
    let args = s.args();
    if args.is_empty() || !args.len().is_multiple_of(2) {
        return Err(ConfigError::invalid(
            &s.location,
            "lvs_timeouts",
            "is `[tcp N] [tcpfin N] [udp N]`",
        ));
    }
    for pair in args.chunks(2) {
        let v = u32::try_from(number(s, &pair[1], 0, u64::from(ipvs::MAX_TIMEOUT))?)
            .unwrap_or(ipvs::MAX_TIMEOUT);
        match pair[0].as_str() {
            "tcp" => t.tcp = v,
            "tcpfin" => t.tcp_fin = v,
            "udp" => t.udp = v,
            other => {
                return Err(ConfigError::invalid(
                    &s.location,
                    "lvs_timeouts",
                    format!("`{other}` is not tcp, tcpfin or udp"),
                ));
            }
        }
    }
    Ok(t)
}

/// `lvs_sync_daemon IF [inst NAME] [id N] [maxlen N] [port N] [ttl N] [group IP]`
/// (also keepalived's old `IF NAME [ID]` form).
pub(super) fn sync_daemon(s: &Statement) -> Result<SyncDaemonConfig, ConfigError> {
    let mut d = SyncDaemonConfig {
        interface: arg(s, 0)?.to_owned(),
        vrrp_instance: None,
        sync_id: 0,
        max_len: None,
        port: None,
        ttl: None,
        group: None,
    };
    let args = s.args();
    let mut i = 1;
    while i < args.len() {
        let key = args[i].as_str();
        let value = args.get(i + 1).map(String::as_str);
        let need = || {
            value.ok_or_else(|| {
                ConfigError::invalid(
                    &s.location,
                    "lvs_sync_daemon",
                    format!("`{key}` needs a value"),
                )
            })
        };
        let narrow = |n: u64| u16::try_from(n).unwrap_or(u16::MAX);
        match key {
            "inst" => d.vrrp_instance = Some(need()?.to_owned()),
            "id" => d.sync_id = u8::try_from(number(s, need()?, 0, 255)?).unwrap_or(0),
            "maxlen" => d.max_len = Some(narrow(number(s, need()?, 1, 65535 - 20 - 8)?)),
            "port" => d.port = Some(port(s, need()?, false)?),
            "ttl" => d.ttl = Some(u8::try_from(number(s, need()?, 1, 255)?).unwrap_or(1)),
            "group" => {
                let g = ip(s, need()?)?;
                if !g.is_multicast() {
                    return Err(ConfigError::invalid(
                        &s.location,
                        "lvs_sync_daemon",
                        format!("group {g} is not a multicast address"),
                    ));
                }
                d.group = Some(g);
            }
            // The old positional form: `IF INSTANCE [SYNC_ID]`.
            _ if i == 1 => {
                d.vrrp_instance = Some(key.to_owned());
                i += 1;
                continue;
            }
            _ if i == 2 && d.vrrp_instance.is_some() => {
                d.sync_id = u8::try_from(number(s, key, 0, 255)?).unwrap_or(0);
                i += 1;
                continue;
            }
            other => {
                return Err(ConfigError::invalid(
                    &s.location,
                    "lvs_sync_daemon",
                    format!("unknown option `{other}`"),
                ));
            }
        }
        i += 2;
    }
    Ok(d)
}
