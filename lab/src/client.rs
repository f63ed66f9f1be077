//! The client's request loop across a failover, and what it measured: how
//! many requests failed and when the first one after the failure succeeded.
//! The loop is the edge (a thread in the client's namespace); [`Summary`]
//! is computed from its attempts with no I/O.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use testbed::http;
use testbed::netns;

/// One request of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it started (before connecting).
    pub start: Instant,
    /// When it ended (answered or failed).
    pub end: Instant,
    /// The body of the answer (`rs1 10.0.0.100:80`), or why it failed.
    pub answer: Result<String, String>,
}

/// Requests to one address, back to back, on a thread in a namespace.
#[derive(Debug)]
pub struct RequestLoop {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Attempt>>,
}

impl RequestLoop {
    /// Starts the loop in the namespace whose file is `namespace`
    /// (`/run/netns/NAME`): `GET /` from `target`, each with `timeout` to
    /// connect and again to read, a new one started at least `spacing`
    /// after the previous one started (so that fast failures are not
    /// counted by the hundred).
    ///
    /// # Errors
    /// When the namespace cannot be opened or the thread cannot start.
    pub(crate) fn start(
        namespace: &str,
        target: SocketAddr,
        timeout: Duration,
        spacing: Duration,
    ) -> io::Result<Self> {
        let file = std::fs::File::open(namespace)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("client-loop".into())
            .spawn(move || {
                let mut attempts = Vec::new();
                if let Err(e) = netns::enter(&file) {
                    let now = Instant::now();
                    attempts.push(Attempt {
                        start: now,
                        end: now,
                        answer: Err(format!("cannot enter the client's namespace: {e}")),
                    });
                    return attempts;
                }
                while !flag.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let answer = http::get(target, timeout).map_err(|e| e.to_string());
                    attempts.push(Attempt {
                        start,
                        end: Instant::now(),
                        answer,
                    });
                    if let Some(rest) = spacing.checked_sub(start.elapsed()) {
                        std::thread::sleep(rest);
                    }
                }
                attempts
            })?;
        Ok(Self { stop, thread })
    }

    /// Stops the loop (after its current request) and returns every attempt, in order.
    ///
    /// # Errors
    /// When the loop's thread panicked.
    pub fn stop(self) -> io::Result<Vec<Attempt>> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the client's request loop panicked"))
    }
}

/// What the loop saw across a failure at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Requests made in all.
    pub requests: usize,
    /// Requests that failed (timed out, refused, reset, not a 200).
    pub failed: usize,
    /// Requests answered before the failure (started before it).
    pub answered_before: usize,
    /// From the failure to the end of the first answered request started
    /// after it; `None` if none was.
    pub first_answer_after: Option<Duration>,
    /// The first few distinct reasons of failure, for the log.
    pub reasons: Vec<String>,
}

impl Summary {
    /// Sums up `attempts` around the failure at `failure`.
    pub fn of(attempts: &[Attempt], failure: Instant) -> Self {
        let mut reasons: Vec<String> = Vec::new();
        for attempt in attempts {
            if let Err(why) = &attempt.answer
                && reasons.len() < 3
                && !reasons.contains(why)
            {
                reasons.push(why.clone());
            }
        }
        Self {
            requests: attempts.len(),
            failed: attempts.iter().filter(|a| a.answer.is_err()).count(),
            answered_before: attempts
                .iter()
                .filter(|a| a.start < failure && a.answer.is_ok())
                .count(),
            first_answer_after: attempts
                .iter()
                .find(|a| a.start >= failure && a.answer.is_ok())
                .map(|a| a.end.saturating_duration_since(failure)),
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    fn attempt(base: Instant, start: u64, end: u64, ok: bool) -> Attempt {
        Attempt {
            start: at(base, start),
            end: at(base, end),
            answer: if ok {
                Ok("rs1 192.168.10.21:80".into())
            } else {
                Err("timed out".into())
            },
        }
    }

    #[test]
    fn failures_and_the_first_answer_after_the_failure_are_counted() {
        let base = Instant::now();
        let attempts = [
            attempt(base, 0, 10, true),
            attempt(base, 100, 110, true),
            // In flight at the failure (200 ms), lost with the director.
            attempt(base, 190, 1190, false),
            attempt(base, 1200, 2200, false),
            attempt(base, 2200, 3200, false),
            attempt(base, 3200, 3900, true),
            attempt(base, 4000, 4010, true),
        ];
        let s = Summary::of(&attempts, at(base, 200));
        assert_eq!(s.requests, 7);
        assert_eq!(s.failed, 3);
        assert_eq!(s.answered_before, 2);
        assert_eq!(s.first_answer_after, Some(Duration::from_millis(3700)));
        assert_eq!(s.reasons, ["timed out"]);
    }

    #[test]
    fn an_answer_started_before_the_failure_is_not_the_first_after_it() {
        let base = Instant::now();
        let attempts = [attempt(base, 0, 500, true), attempt(base, 600, 1600, false)];
        let s = Summary::of(&attempts, at(base, 100));
        assert_eq!(s.first_answer_after, None);
        assert_eq!((s.requests, s.failed, s.answered_before), (2, 1, 1));
    }
}
