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

/// Every step's result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The steps, in order.
    pub steps: Vec<StepResult>,
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
        let passed = self.steps.iter().filter(|s| s.passed).count();
        out.push_str(&format!("{passed} of {} steps passed\n", self.steps.len()));
        out
    }

    /// The report as JSON: `{"passed": bool, "steps": [...]}`.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            passed: bool,
            steps: &'a [StepResult],
        }
        serde_json::to_string_pretty(&Doc {
            passed: self.passed(),
            steps: &self.steps,
        })
        .unwrap_or_default()
    }
}
