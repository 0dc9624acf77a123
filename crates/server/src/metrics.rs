//! Prometheus metrics, kept in the application state (no global recorder), rendered on
//! the separate metrics listener.

use std::sync::Arc;
use std::time::Duration;

use ledger::LedgerStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (e.g. `/setup/{token}`), never the raw path.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

/// The server's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    errors: Family<CodeLabels, Counter>,
    ledger_appends: Gauge,
    ledger_tree_size: Gauge,
    ledger_checkpointed_size: Gauge,
    ledger_batches: Gauge,
    ledger_failed_batches: Gauge,
    ledger_largest_batch: Gauge,
    ledger_queued: Gauge,
    consult_rooms: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("telewarden");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 14))) as fn() -> Histogram,
        );
        let errors = Family::<CodeLabels, Counter>::default();
        let ledger_appends = Gauge::default();
        let ledger_tree_size = Gauge::default();
        let ledger_checkpointed_size = Gauge::default();
        let ledger_batches = Gauge::default();
        let ledger_failed_batches = Gauge::default();
        let ledger_largest_batch = Gauge::default();
        let ledger_queued = Gauge::default();
        let consult_rooms = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            durations.clone(),
        );
        registry.register(
            "http_errors",
            "Error responses by error code",
            errors.clone(),
        );
        registry.register(
            "ledger_appends",
            "Audit entries appended by this process",
            ledger_appends.clone(),
        );
        registry.register(
            "ledger_tree_size",
            "Entries in the audit ledger",
            ledger_tree_size.clone(),
        );
        registry.register(
            "ledger_checkpointed_size",
            "Entries covered by the latest signed tree head",
            ledger_checkpointed_size.clone(),
        );
        registry.register(
            "ledger_batches",
            "Group commits written",
            ledger_batches.clone(),
        );
        registry.register(
            "ledger_failed_batches",
            "Group commits that failed",
            ledger_failed_batches.clone(),
        );
        registry.register(
            "ledger_largest_batch",
            "Most entries in one group commit",
            ledger_largest_batch.clone(),
        );
        registry.register(
            "ledger_queued",
            "Appends waiting for the writer",
            ledger_queued.clone(),
        );
        registry.register(
            "consult_rooms_open",
            "Consult rooms with someone waiting or in a call",
            consult_rooms.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            durations,
            errors,
            ledger_appends,
            ledger_tree_size,
            ledger_checkpointed_size,
            ledger_batches,
            ledger_failed_batches,
            ledger_largest_batch,
            ledger_queued,
            consult_rooms,
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_error(&self, code: proto::ErrorCode) {
        self.errors
            .get_or_create(&CodeLabels {
                code: code.as_str().to_owned(),
            })
            .inc();
    }

    /// Renders every metric in the Prometheus text format, refreshing the ledger and
    /// consult gauges.
    pub fn render(&self, ledger: &LedgerStats, open_rooms: usize) -> String {
        self.consult_rooms
            .set(i64::try_from(open_rooms).unwrap_or(i64::MAX));
        self.ledger_appends.set(gauge_value(ledger.appends));
        self.ledger_tree_size.set(gauge_value(ledger.tree_size));
        self.ledger_checkpointed_size
            .set(gauge_value(ledger.checkpointed_size));
        self.ledger_batches.set(gauge_value(ledger.batches));
        self.ledger_failed_batches
            .set(gauge_value(ledger.failed_batches));
        self.ledger_largest_batch
            .set(gauge_value(ledger.largest_batch));
        self.ledger_queued.set(gauge_value(ledger.queued));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            return String::from("# metrics could not be encoded\n");
        }
        out
    }
}

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
