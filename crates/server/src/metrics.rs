//! Prometheus metrics in the text exposition format: a few counters kept in atomics.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    responses: [AtomicU64; 5],
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    logins_limited: AtomicU64,
}

/// How a sign-in attempt ended.
#[derive(Clone, Copy, Debug)]
pub enum LoginOutcome {
    /// Signed in.
    Success,
    /// Wrong credentials.
    Failure,
    /// Refused by the rate limit.
    RateLimited,
}

impl Metrics {
    /// Counts a response by status class (1xx..5xx).
    pub fn response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a sign-in attempt.
    pub fn login(&self, outcome: LoginOutcome) {
        let counter = match outcome {
            LoginOutcome::Success => &self.logins_ok,
            LoginOutcome::Failure => &self.logins_failed,
            LoginOutcome::RateLimited => &self.logins_limited,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics as Prometheus text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP bureau_http_responses_total HTTP responses by status class.\n");
        out.push_str("# TYPE bureau_http_responses_total counter\n");
        for (i, counter) in self.responses.iter().enumerate() {
            let _ = writeln!(out, "bureau_http_responses_total{{class=\"{}xx\"}} {}", i + 1, counter.load(Ordering::Relaxed));
        }
        out.push_str("# HELP bureau_login_attempts_total Sign-in attempts by outcome.\n");
        out.push_str("# TYPE bureau_login_attempts_total counter\n");
        for (label, counter) in
            [("success", &self.logins_ok), ("failure", &self.logins_failed), ("rate_limited", &self.logins_limited)]
        {
            let _ = writeln!(out, "bureau_login_attempts_total{{outcome=\"{label}\"}} {}", counter.load(Ordering::Relaxed));
        }
        if let Some(rss) = resident_memory_bytes() {
            out.push_str("# HELP process_resident_memory_bytes Resident memory size in bytes.\n");
            out.push_str("# TYPE process_resident_memory_bytes gauge\n");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        let _ = writeln!(out, "# TYPE bureau_build_info gauge\nbureau_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        out
    }
}

/// Resident set size from `/proc/self/statm` (Linux), assuming 4 KiB pages.
fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
