import ArgumentParser
import Logging
import WardwatchKafka
import WardwatchProcessing

/// Options every Kafka-facing command takes.
struct KafkaOptions: ParsableArguments {
    @Option(name: .long, help: "Kafka bootstrap servers, host:port[,host:port...].")
    var brokers: String?

    @Option(name: .customShort("X"), help: ArgumentHelp("A librdkafka property, key=value (repeatable): security.protocol, sasl.*, ssl.*, ...", valueName: "key=value"))
    var properties: [String] = []

    @Option(name: .long, help: "Prefix of every topic name.")
    var topicPrefix: String = "iomt."

    @Option(name: .long, help: "Seconds to wait for the brokers before failing.")
    var connectTimeout: Int = 10

    func configuration() throws -> KafkaConfiguration {
        guard let brokers, !brokers.isEmpty else { throw ValidationError("--brokers is required") }
        var configuration = KafkaConfiguration(bootstrapServers: brokers)
        try configuration.apply(overrides: properties)
        return configuration
    }

    var topics: TopicNames { TopicNames(prefix: topicPrefix) }
}

struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Serve Prometheus metrics on this port (/metrics); off when absent.")
    var metricsPort: Int?

    @Option(name: .long, help: "Address the metrics server binds to.")
    var metricsHost: String = "0.0.0.0"

    func level() throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }
}
