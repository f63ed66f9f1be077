//! What the lab saw: one result per step, printed as a summary table or as
//! JSON.

use serde::Serialize;

/// One step: what was expected and what happened.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// What the step shows.
    pub name: String,
    /// What should happen.
    pub expected: String,
    /// What did.
    pub observed: String,
    /// Whether it did what it should.
    pub passed: bool,
}

/// What the failover of step 9 measured (milliseconds throughout).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Failover {
    /// The VRRP advertisement interval both directors use, in ms.
    pub advert_interval_ms: u64,
    /// dir2's master down interval (3 advertisement intervals plus its skew
    /// time, RFC 3768 §6.1), in ms.
    pub master_down_interval_ms: u64,
    /// The bound the lab holds the takeover to: the master down interval
    /// plus a margin for the emulated VM, in ms.
    pub takeover_bound_ms: u64,
    /// From dir1's death (its ipvsd killed) to dir2 holding both the VIP
    /// and the gateway, in ms; `None` if it never did within the wait.
    pub takeover_ms: Option<u64>,
    /// From dir1's death to the end of the first answered request started
    /// after it, in ms; `None` if none was answered.
    pub first_answer_ms: Option<u64>,
    /// Requests the client made back to back across the failover.
    pub requests: usize,
    /// Of those, the ones that failed.
    pub failed_requests: usize,
    /// Each request's timeout to connect and again to read, in ms.
    pub request_timeout_ms: u64,
    /// The least time between the starts of two requests, in ms.
    pub request_spacing_ms: u64,
}

/// Every step's result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The steps, in order.
    pub steps: Vec<StepResult>,
    /// The failover's figures, once step 9 ran.
    pub failover: Option<Failover>,
}

impl Report {
    /// Whether every step passed.
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.passed)
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let widths = [
            self.steps
                .iter()
                .map(|s| s.name.len())
                .max()
                .unwrap_or(4)
                .max(4),
            self.steps
                .iter()
                .map(|s| s.expected.len())
                .max()
                .unwrap_or(8)
                .max(8),
            self.steps
                .iter()
                .map(|s| s.observed.len())
                .max()
                .unwrap_or(8)
                .max(8),
        ];
        let line = |a: &str, b: &str, c: &str, d: &str| {
            format!(
                "| {a:<w0$} | {b:<w1$} | {c:<w2$} | {d:<6} |\n",
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        };
        let rule = format!(
            "+-{}-+-{}-+-{}-+--------+\n",
            "-".repeat(widths[0]),
            "-".repeat(widths[1]),
            "-".repeat(widths[2])
        );
        let mut out = rule.clone();
        out.push_str(&line("step", "expected", "observed", "result"));
        out.push_str(&rule);
        for s in &self.steps {
            out.push_str(&line(
                &s.name,
                &s.expected,
                &s.observed,
                if s.passed { "PASS" } else { "FAIL" },
            ));
        }
        out.push_str(&rule);
        if let Some(f) = &self.failover {
            let ms = |v: Option<u64>| v.map_or_else(|| "never".to_owned(), |v| format!("{v} ms"));
            out.push_str(&format!(
                "failover: dir2 held the VIP and the gateway {} after dir1 died (master down interval {} ms); first answer {} after; {} of {} requests failed\n",
                ms(f.takeover_ms),
                f.master_down_interval_ms,
                ms(f.first_answer_ms),
                f.failed_requests,
                f.requests
            ));
        }
        let passed = self.steps.iter().filter(|s| s.passed).count();
        out.push_str(&format!("{passed} of {} steps passed\n", self.steps.len()));
        out
    }

    /// The report as JSON: `{"passed": bool, "steps": [...], "failover":
    /// {...} | null}` (the failover's fields as in [`Failover`], in ms).
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            passed: bool,
            steps: &'a [StepResult],
            failover: Option<&'a Failover>,
        }
        serde_json::to_string_pretty(&Doc {
            passed: self.passed(),
            steps: &self.steps,
            failover: self.failover.as_ref(),
        })
        .unwrap_or_default()
    }
}
