import Metrics

/// The runtime's metrics (labels: application id and low-cardinality kinds only). Consumer lag per partition comes
/// from librdkafka's statistics (`kafka_client_consumer_lag`).
struct StreamsMetrics: Sendable {
    let factory: (any MetricsFactory)?
    let applicationId: String

    private var dimensions: [(String, String)] { [("application", applicationId)] }

    func batch(in records: Int, out outputs: Int, deadLetters: Int, late: Int) {
        guard let factory else { return }
        Counter(label: "wardwatch_streams_records_in_total", dimensions: dimensions, factory: factory).increment(by: records)
        Counter(label: "wardwatch_streams_records_out_total", dimensions: dimensions, factory: factory).increment(by: outputs)
        if deadLetters > 0 {
            Counter(label: "wardwatch_streams_dead_letters_total", dimensions: dimensions, factory: factory)
                .increment(by: deadLetters)
        }
        if late > 0 {
            Counter(label: "wardwatch_streams_late_records_total", dimensions: dimensions, factory: factory).increment(by: late)
        }
    }

    func rebalance(_ kind: String) {
        guard let factory else { return }
        Counter(label: "wardwatch_streams_rebalances_total", dimensions: dimensions + [("kind", kind)], factory: factory)
            .increment()
    }

    func restored(records: Int, duration: Duration) {
        guard let factory else { return }
        Counter(label: "wardwatch_streams_restored_records_total", dimensions: dimensions, factory: factory)
            .increment(by: records)
        Timer(label: "wardwatch_streams_restore_seconds", dimensions: dimensions, factory: factory).record(duration: duration)
    }

    func commit(latency: Duration) {
        guard let factory else { return }
        Timer(label: "wardwatch_streams_commit_seconds", dimensions: dimensions, factory: factory).record(duration: latency)
    }

    func abort() {
        guard let factory else { return }
        Counter(label: "wardwatch_streams_transaction_aborts_total", dimensions: dimensions, factory: factory).increment()
    }
}
