//! A director's `ipvsd`, as the lab runs it: started in the director's
//! namespace on a keepalived.conf the lab wrote, its standard output and
//! error in a log file beside that configuration, stopped with SIGTERM (as
//! an operator or systemd stops it) or killed with SIGKILL (a machine that
//! dies), and its log read back for the lab's output.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One running (or stopped) `ipvsd --keepalived FILE` process.
#[derive(Debug)]
pub struct Ipvsd {
    child: Child,
    config: PathBuf,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

impl Ipvsd {
    /// Starts `command` (an `ipvsd --keepalived CONFIG` already placed in
    /// its namespace), its standard output and error appended to `log`.
    ///
    /// # Errors
    /// When the log cannot be created or the program cannot start.
    pub(crate) fn spawn(mut command: Command, config: &Path, log: &Path) -> io::Result<Self> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        Ok(Self {
            child,
            config: config.to_owned(),
            log: log.to_owned(),
            exit: None,
        })
    }

    /// Its process id (`ip netns exec` runs the program in its own process).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The configuration file it runs.
    pub fn config(&self) -> &Path {
        &self.config
    }

    /// Everything it wrote to standard output and error so far (empty if
    /// the log cannot be read).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its exit status if it has exited, without waiting.
    ///
    /// # Errors
    /// When the status cannot be read.
    pub fn exited(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        Ok(self.exit)
    }

    /// SIGKILL, as when its machine dies: it sends no last advert and
    /// removes nothing (its addresses and IPVS table stay). Waits for it.
    ///
    /// # Errors
    /// When it cannot be signalled or reaped.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.exited()? {
            return Ok(status);
        }
        self.child.kill()?;
        let status = self.child.wait()?;
        self.exit = Some(status);
        Ok(status)
    }

    /// SIGTERM, then waits up to `limit` for it to exit: a clean stop (a
    /// VRRP master sends priority 0 and removes its addresses; the real
    /// servers it added are deleted). Killed if it outlives `limit`.
    ///
    /// # Errors
    /// When it cannot be signalled, or did not exit within `limit`.
    pub fn terminate(&mut self, limit: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.exited()? {
            return Ok(status);
        }
        // std sends only SIGKILL; the shell's `kill` sends SIGTERM without a
        // new dependency.
        let sent = Command::new("sh")
            .args(["-c", "kill -s TERM \"$0\"", &self.pid().to_string()])
            .status()?;
        if !sent.success() {
            return Err(io::Error::other(format!(
                "kill -s TERM {} failed ({sent})",
                self.pid()
            )));
        }
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.exited()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill()?;
        Err(io::Error::other(format!(
            "ipvsd (pid {}) did not exit within {limit:?} of SIGTERM: killed",
            self.pid()
        )))
    }
}

impl Drop for Ipvsd {
    fn drop(&mut self) {
        // A lab that stops early still leaves no daemon behind.
        if self.terminate(Duration::from_secs(5)).is_err() {
            let _ = self.kill();
        }
    }
}

/// The state of VRRP instance `instance` as its last transition line in an
/// ipvsd log says (`vrrp instance VI_1: BACKUP -> MASTER (...)`): the word
/// after the arrow, or `None` if the log shows no transition.
pub fn vrrp_state(log: &str, instance: &str) -> Option<String> {
    let prefix = format!("vrrp instance {instance}:");
    log.lines()
        .rev()
        .filter_map(|line| line.split_once(&prefix).map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("->").map(|(_, to)| to))
        .filter_map(|to| to.split_whitespace().next())
        .map(|word| word.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|word| !word.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_transition_of_the_named_instance_wins() {
        let log = "\
2026-01-01T00:00:00Z INFO vrrp instance VI_1: INIT -> BACKUP (start)
2026-01-01T00:00:00Z INFO vrrp instance VI_2: INIT -> MASTER (start)
2026-01-01T00:00:03Z INFO vrrp instance VI_1: BACKUP -> MASTER (master down interval 3.61 s expired)
";
        assert_eq!(vrrp_state(log, "VI_1").as_deref(), Some("MASTER"));
        assert_eq!(vrrp_state(log, "VI_2").as_deref(), Some("MASTER"));
        assert_eq!(vrrp_state(log, "VI_3"), None);
    }

    #[test]
    fn a_log_without_transitions_has_no_state() {
        assert_eq!(vrrp_state("", "VI_1"), None);
        assert_eq!(
            vrrp_state("vrrp instance VI_1: sending adverts", "VI_1"),
            None
        );
        assert_eq!(
            vrrp_state("vrrp instance VI_1: MASTER -> BACKUP", "VI_1").as_deref(),
            Some("BACKUP")
        );
    }
}
