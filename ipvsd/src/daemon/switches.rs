//! `sloppy_tcp` and `sloppy_sctp` (native `[global]`): IPVS sysctls of the
//! director's network namespace, set at start and on reload, and put back
//! as they were on stop (as `lvs_timeouts` are). keepalived has no such
//! keywords: directors behind ECMP set them by hand there.

use ipvs::sysctl::Switch;

use crate::config::Global;

/// The values the switches had before ipvsd first set them, to put back.
#[derive(Debug, Default)]
pub(super) struct Switches {
    saved: Vec<(Switch, bool)>,
}

/// The configured value of `switch` (`None`: leave the kernel's).
fn configured(global: &Global, switch: Switch) -> Option<bool> {
    match switch {
        Switch::SloppyTcp => global.sloppy_tcp,
        Switch::SloppySctp => global.sloppy_sctp,
        _ => None,
    }
}

impl Switches {
    /// Sets each configured switch (remembering the value it had the first
    /// time), and puts back one no longer configured. A failure is logged:
    /// like `lvs_timeouts`, a switch that cannot be set does not stop the
    /// director.
    pub(super) fn apply(&mut self, global: &Global) {
        for switch in Switch::ALL {
            let saved = self.saved.iter().position(|(s, _)| *s == switch);
            match (configured(global, switch), saved) {
                (Some(on), _) => {
                    if saved.is_none() {
                        match switch.get() {
                            Ok(before) => self.saved.push((switch, before)),
                            Err(e) => {
                                tracing::warn!("{switch}: {e}");
                                continue;
                            }
                        }
                    }
                    match switch.set(on) {
                        Ok(()) => tracing::info!("{switch} set to {}", u8::from(on)),
                        Err(e) => tracing::warn!("{switch}: {e}"),
                    }
                }
                (None, Some(i)) => {
                    let (_, before) = self.saved.remove(i);
                    put_back(switch, before);
                }
                (None, None) => {}
            }
        }
    }

    /// Puts every switch ipvsd set back as it was.
    pub(super) fn put_back(&mut self) {
        for (switch, before) in self.saved.drain(..) {
            put_back(switch, before);
        }
    }
}

fn put_back(switch: Switch, before: bool) {
    match switch.set(before) {
        Ok(()) => tracing::info!("{switch} put back to {}", u8::from(before)),
        Err(e) => tracing::error!("putting {switch} back: {e}"),
    }
}
