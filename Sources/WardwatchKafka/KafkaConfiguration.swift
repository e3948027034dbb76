import CRdKafka

/// librdkafka configuration properties. Any property passes through unchanged, so TLS (`ssl.*`), SASL (`sasl.*`)
/// and `security.protocol` settings for real clusters work as librdkafka documents them.
public struct KafkaConfiguration: Sendable, Equatable {
    public private(set) var properties: [String: String]

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.properties = properties
        self.properties["bootstrap.servers"] = bootstrapServers
    }

    /// A configuration of exactly `properties` (no bootstrap servers: for the embedded broker's owner).
    public init(properties: [String: String]) {
        self.properties = properties
    }

    public var bootstrapServers: String { properties["bootstrap.servers"] ?? "" }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Sets `key` only where the caller has not set it already.
    public mutating func setDefault(_ key: String, _ value: String) {
        if properties[key] == nil { properties[key] = value }
    }

    /// Parses `key=value` pairs (as given with `-X key=value` on the command line).
    public mutating func apply(overrides: [String]) throws(KafkaError) {
        for pair in overrides {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw KafkaError(message: "librdkafka property '\(pair)' is not of the form key=value")
            }
            properties[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
    }

    /// Builds a `rd_kafka_conf_t`; the caller owns it until it is passed to `rd_kafka_new`.
    func makeNativeConf() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(message: "rd_kafka_conf_new failed") }
        var errbuf = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let detail = String(cBuffer: errbuf)
                throw KafkaError(message: "invalid Kafka property \(key)=\(value): \(detail)")
            }
        }
        return conf
    }
}
