import CRdKafka
import Logging
import Metrics
import Synchronization

/// State shared with librdkafka's C callbacks through the configuration opaque.
final class ClientContext: @unchecked Sendable {
    let logger: Logger
    let statistics: KafkaStatisticsExporter?
    /// The last error librdkafka reported through its error callback (all brokers down, fatal errors, ...).
    let lastError = Mutex<KafkaError?>(nil)
    /// Set by the consumer: called on its poll thread from within `rd_kafka_consumer_poll`.
    var rebalance: (@Sendable (OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?
    /// Offset commits the group coordinator refused or that failed on the way (a consumer's commit callback counts).
    let failedCommits = Atomic<Int>(0)

    init(logger: Logger, statistics: KafkaStatisticsExporter?) {
        self.logger = logger
        self.statistics = statistics
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientContext? {
        guard let opaque else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Owns one `rd_kafka_t` and the context its callbacks use. Destroying it destroys the client.
final class KafkaClientHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let context: ClientContext
    private let retainedContext: Unmanaged<ClientContext>

    enum Kind { case producer, consumer }

    /// Creates the client. `configure` may install further callbacks on the native configuration.
    init(
        kind: Kind, configuration: KafkaConfiguration, logger: Logger, metricsFactory: (any MetricsFactory)?,
        clientRole: String, configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        var configuration = configuration
        let statistics = metricsFactory.map { KafkaStatisticsExporter(role: clientRole, factory: $0) }
        if statistics != nil { configuration.setDefault("statistics.interval.ms", "5000") }
        let conf = try configuration.makeNativeConf()
        let context = ClientContext(logger: logger, statistics: statistics)
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            guard let context = ClientContext.from(opaque) else { return }
            let text = reason.map { String(cString: $0) } ?? KafkaError.text(rd_kafka_resp_err_t(err))
            let error = KafkaError(code: err, severity: err == RD_KAFKA_RESP_ERR__FATAL.rawValue ? .fatal : .plain, message: text)
            context.lastError.withLock { $0 = error }
            context.logger.warning("kafka client error", metadata: ["error": "\(text)", "code": "\(err)"])
        }
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let context = ClientContext.from(rd_kafka_opaque(rk)) else { return }
            let text = message.map { String(cString: $0) } ?? ""
            let fac = facility.map { String(cString: $0) } ?? ""
            switch level {
            case 0...3: context.logger.error("librdkafka", metadata: ["facility": "\(fac)", "message": "\(text)"])
            case 4: context.logger.warning("librdkafka", metadata: ["facility": "\(fac)", "message": "\(text)"])
            case 5, 6: context.logger.info("librdkafka", metadata: ["facility": "\(fac)", "message": "\(text)"])
            default: context.logger.debug("librdkafka", metadata: ["facility": "\(fac)", "message": "\(text)"])
            }
        }
        if statistics != nil {
            rd_kafka_conf_set_stats_cb(conf) { _, json, length, opaque in
                if let context = ClientContext.from(opaque), let json {
                    let bytes = UnsafeRawBufferPointer(start: json, count: length)
                    context.statistics?.record(json: bytes)
                }
                return 0  // librdkafka frees the JSON buffer
            }
        }
        configure(conf)
        var errbuf = [CChar](repeating: 0, count: 512)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let rk = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
            rd_kafka_conf_destroy(conf)
            retained.release()
            let detail = String(cBuffer: errbuf)
            throw KafkaError(message: "cannot create Kafka \(clientRole): \(detail)")
        }
        self.pointer = rk
        self.context = context
        self.retainedContext = retained
        self.bootstrapServers = configuration.bootstrapServers
    }

    deinit {
        rd_kafka_destroy(pointer)
        retainedContext.release()
    }

    /// Fetches cluster metadata within `timeout`: the way to find out, in bounded time, that no broker answers.
    func checkConnectivity(timeout: Duration) throws(KafkaError) -> Int {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(pointer, 0, nil, &metadata, timeout.kafkaMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            let reported = context.lastError.withLock { $0 }
            let cause = reported?.message ?? KafkaError.text(err)
            throw KafkaError(
                code: err.rawValue, severity: .plain,
                message: "cannot reach Kafka brokers at \(bootstrapServers) within \(timeout): \(cause)")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        return Int(metadata.pointee.broker_cnt)
    }

    /// The configured bootstrap servers, for error messages.
    let bootstrapServers: String
}
