//! Prometheus metrics in the text exposition format.

use std::fmt::Write;
use std::sync::Arc;

use crate::server::Shared;

/// Renders the server's counters; cheap to clone, usable while the server runs.
#[derive(Clone)]
pub struct Metrics {
    shared: Arc<Shared>,
}

impl Metrics {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Metrics { shared }
    }

    /// The metrics as Prometheus text.
    pub fn render(&self) -> String {
        let s = self.shared.lock().core.stats();
        let mut o = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(o, "# HELP bureau_turn_{name} {help}\n# TYPE bureau_turn_{name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(o, "bureau_turn_{name}{labels} {v}");
            }
        };
        metric("allocations", "gauge", "Allocations alive now.", &[("", s.allocations)]);
        metric("allocations_created_total", "counter", "Allocations created since start.", &[("", s.allocations_created)]);
        metric(
            "packets_relayed_total",
            "counter",
            "Packets relayed.",
            &[("{direction=\"to_peer\"}", s.packets_to_peers), ("{direction=\"to_client\"}", s.packets_to_clients)],
        );
        metric(
            "bytes_relayed_total",
            "counter",
            "Payload bytes relayed.",
            &[("{direction=\"to_peer\"}", s.bytes_to_peers), ("{direction=\"to_client\"}", s.bytes_to_clients)],
        );
        metric(
            "error_responses_total",
            "counter",
            "Error responses sent, by code class.",
            &[
                ("{code=\"401\"}", s.unauthorized),
                ("{code=\"403\"}", s.forbidden),
                ("{code=\"438\"}", s.stale_nonces),
                ("{code=\"486_508\"}", s.quota_rejections),
                ("{code=\"other\"}", s.other_errors),
            ],
        );
        metric(
            "dropped_total",
            "counter",
            "Messages dropped.",
            &[("{reason=\"invalid\"}", s.dropped), ("{reason=\"bandwidth\"}", s.dropped_bandwidth), ("{reason=\"auth_rate\"}", s.auth_rate_limited)],
        );
        o
    }
}
