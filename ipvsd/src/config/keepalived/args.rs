//! Arguments of single keywords: scripts, forwarding methods with tunnel
//! options, `lvs_timeouts`, `lvs_sync_daemon`.

use std::collections::HashMap;

use ipvs::{ForwardMethod, Timeouts, Tunnel, TunnelChecksum, TunnelKind};

use crate::config::checker::RunAs;
use crate::config::error::ConfigError;
use crate::config::lexer::Statement;
use crate::config::model::{Script, SyncDaemonConfig};
use crate::config::values::{arg, at_most, ip, number, port};

/// Reads `notify_up "CMD" [USER [GROUP]]`-style script keywords.
pub(super) fn script(st: &Statement, users: &mut KnownUsers) -> Result<Script, ConfigError> {
    let command = arg(st, 0)?.to_owned();
    at_most(st, 3)?;
    let user = st.args().get(1).map(|u| RunAs {
        user: u.to_owned(),
        group: st.args().get(2).map(str::to_owned),
    });
    if let Some(u) = &user {
        users.check(st, u)?;
    }
    Ok(Script { command, user })
}

/// The users and groups looked up during one read, by name: a file with
/// thousands of `MISC_CHECK` `user` lines asks the host (NSS, which may
/// read `/etc/passwd` each time) once per distinct name.
#[derive(Debug, Default)]
pub(super) struct KnownUsers(HashMap<(String, Option<String>), Result<(), String>>);

impl KnownUsers {
    /// Refuses a user or group this host does not have: keepalived drops a
    /// script whose user it cannot find, and ipvsd would fail to start its
    /// checker or hook, so `ipvsd check` says so with the line.
    pub(super) fn check(&mut self, st: &Statement, who: &RunAs) -> Result<(), ConfigError> {
        let key = (who.user.clone(), who.group.clone());
        self.0
            .entry(key)
            .or_insert_with(|| {
                crate::check::RunAs::lookup(&who.user, who.group.as_deref()).map(|_| ())
            })
            .clone()
            .map_err(|why| ConfigError::invalid(&st.location, st.keyword(), why))
    }
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
    let all = st.args().to_vec();
    let args = all.get(1..).unwrap_or(&[]);
    if method != ForwardMethod::Tunnel {
        if let Some(extra) = args.first() {
            return Err(bad(format!("`{extra}`: only TUN takes options")));
        }
        return Ok((method, None));
    }
    let (mut kind, mut tun_port, mut checksum) = (TunnelKind::Ipip, 0u16, TunnelChecksum::None);
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "type" => {
                kind = match args.get(i + 1).copied() {
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
                let text = args.get(i + 1).copied().unwrap_or("");
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
    let args = s.args().to_vec();
    if args.is_empty() || !args.len().is_multiple_of(2) {
        return Err(ConfigError::invalid(
            &s.location,
            "lvs_timeouts",
            "is `[tcp N] [tcpfin N] [udp N]`",
        ));
    }
    for pair in args.chunks(2) {
        let v = u32::try_from(number(s, pair[1], 0, u64::from(ipvs::MAX_TIMEOUT))?)
            .unwrap_or(ipvs::MAX_TIMEOUT);
        match pair[0] {
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
    let args = s.args().to_vec();
    let mut i = 1;
    while i < args.len() {
        let key = args[i];
        let value = args.get(i + 1).copied();
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{ConfigError, KeepalivedOptions, read_keepalived_str};

    /// A user and a group no host has.
    const NO_USER: &str = "no-such-user-ipvsd-test";
    const NO_GROUP: &str = "no-such-group-ipvsd-test";

    fn read(text: &str) -> Result<crate::config::Loaded, ConfigError> {
        read_keepalived_str(
            text,
            Path::new("/etc/keepalived/users.conf"),
            &KeepalivedOptions::default(),
        )
    }

    /// A virtual server whose real server has a `notify_up` (line 6) and a
    /// MISC_CHECK with `user` (line 9); `global` goes in global_defs
    /// (line 2).
    fn conf(global: &str, notify: &str, user: &str) -> String {
        format!(
            "global_defs {{\n {global}\n}}\nvirtual_server 10.0.0.1 80 {{\n real_server 10.0.0.2 80 {{\n  notify_up \"/bin/true\" {notify}\n  MISC_CHECK {{\n   misc_path /bin/true\n   user {user}\n  }}\n }}\n}}\n"
        )
    }

    fn refused(text: &str) -> (usize, String, String) {
        match read(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => (
                e.location().line,
                e.keyword().unwrap_or_default().to_owned(),
                e.to_string(),
            ),
        }
    }

    #[test]
    fn a_user_is_looked_up_once_per_name_and_each_refusal_names_its_line() {
        let tree = crate::config::lexer::parse_str(
            &format!("user root\nuser root\nuser {NO_USER}\nuser {NO_USER}\n"),
            Path::new("/etc/keepalived/users.conf"),
            &crate::config::lexer::LexOptions::default(),
        )
        .unwrap();
        let mut users = super::KnownUsers::default();
        let who = |name: &str| crate::config::checker::RunAs {
            user: name.to_owned(),
            group: None,
        };
        users.check(&tree[0], &who("root")).unwrap();
        users.check(&tree[1], &who("root")).unwrap();
        assert_eq!(users.0.len(), 1);
        let first = users.check(&tree[2], &who(NO_USER)).unwrap_err();
        let again = users.check(&tree[3], &who(NO_USER)).unwrap_err();
        assert_eq!(users.0.len(), 2);
        assert_eq!((first.location().line, again.location().line), (3, 4));
        assert_eq!(
            first.to_string().replace(":3:", ":4:"),
            again.to_string(),
            "the remembered refusal reads as a fresh one"
        );
    }

    #[test]
    fn known_users_and_groups_are_accepted() {
        let l = read(&conf("script_user root root", "root", "root root")).unwrap();
        assert_eq!(l.model.virtual_servers.len(), 1);
        read(&conf("script_user root", "root root", "root:root")).unwrap();
    }

    #[test]
    fn an_unknown_misc_check_user_or_group_is_refused_with_its_line() {
        let (line, keyword, message) = refused(&conf("router_id x", "root", NO_USER));
        assert_eq!((line, keyword.as_str()), (9, "user"), "{message}");
        assert!(
            message.starts_with("/etc/keepalived/users.conf:9: `user`: no such user"),
            "{message}"
        );
        assert!(message.contains(NO_USER), "{message}");
        let (line, _, message) = refused(&conf("router_id x", "root", &format!("root {NO_GROUP}")));
        assert_eq!(line, 9, "{message}");
        assert!(
            message.contains(&format!("no such group \"{NO_GROUP}\"")),
            "{message}"
        );
        let (line, _, message) = refused(&conf("router_id x", "root", &format!("root:{NO_GROUP}")));
        assert_eq!(line, 9, "{message}");
    }

    #[test]
    fn an_unknown_script_user_is_refused_with_its_line() {
        let (line, keyword, message) =
            refused(&conf(&format!("script_user {NO_USER}"), "root", "root"));
        assert_eq!((line, keyword.as_str()), (2, "script_user"), "{message}");
        assert!(message.contains(NO_USER), "{message}");
        let (line, keyword, _) = refused(&conf(
            &format!("script_user root {NO_GROUP}"),
            "root",
            "root",
        ));
        assert_eq!((line, keyword.as_str()), (2, "script_user"));
        // A notify script's own user, too.
        let (line, keyword, message) = refused(&conf("router_id x", NO_USER, "root"));
        assert_eq!((line, keyword.as_str()), (6, "notify_up"), "{message}");
    }
}
