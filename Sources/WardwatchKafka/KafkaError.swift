import CRdKafka

/// One error type for everything the Kafka client reports, carrying librdkafka's error code and its error classes.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    /// How the caller should react, from librdkafka's error classes.
    public enum Severity: String, Sendable {
        /// The operation may succeed if retried as it is.
        case retriable
        /// The current transaction must be aborted; the producer stays usable.
        case abortable
        /// The client instance can no longer be used and must be recreated.
        case fatal
        /// An error that is none of the above (a bad argument, a timeout, a configuration problem).
        case plain
    }

    /// The librdkafka error code (`rd_kafka_resp_err_t`), 0 where the error is the client's own.
    public let code: Int32
    public let severity: Severity
    /// A one-line message naming the operation and the cause.
    public let message: String

    public init(code: Int32 = 0, severity: Severity = .plain, message: String) {
        self.code = code
        self.severity = severity
        self.message = message
    }

    public var description: String { message }

    /// True where librdkafka says the operation timed out.
    public var isTimeout: Bool {
        code == RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue || code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
            || code == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue
    }

    /// True for a record given up before delivery (`KafkaProducer.abandonUndelivered`, librdkafka's purge).
    public var isGivenUp: Bool {
        code == RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue || code == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue
    }

    /// librdkafka's short text for an error code.
    static func text(_ err: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(err))
    }

    /// An error from a plain `rd_kafka_resp_err_t`.
    static func from(_ err: rd_kafka_resp_err_t, during operation: String) -> KafkaError {
        KafkaError(code: err.rawValue, severity: .plain, message: "\(operation): \(text(err))")
    }

    /// An error from an `rd_kafka_error_t`, which carries the error classes; destroys the C object.
    static func consume(_ error: OpaquePointer, during operation: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        let severity: Severity
        if rd_kafka_error_is_fatal(error) != 0 {
            severity = .fatal
        } else if rd_kafka_error_txn_requires_abort(error) != 0 {
            severity = .abortable
        } else if rd_kafka_error_is_retriable(error) != 0 {
            severity = .retriable
        } else {
            severity = .plain
        }
        let text = String(cString: rd_kafka_error_string(error))
        return KafkaError(code: rd_kafka_error_code(error).rawValue, severity: severity, message: "\(operation): \(text)")
    }

    /// Throws for a non-zero `rd_kafka_resp_err_t`.
    static func check(_ err: rd_kafka_resp_err_t, during operation: String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw from(err, during: operation) }
    }

    /// Throws for a non-nil `rd_kafka_error_t`.
    static func check(_ error: OpaquePointer?, during operation: String) throws(KafkaError) {
        if let error { throw consume(error, during: operation) }
    }
}
