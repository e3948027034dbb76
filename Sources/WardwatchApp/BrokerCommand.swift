import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WardwatchKafka
import WardwatchProcessing

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded development broker (librdkafka's mock cluster, in memory only) on loopback.",
        discussion: """
            Creates the project's topics and prints the bootstrap address on standard output, then runs until SIGINT
            or SIGTERM. Data lives in memory only and is lost when it stops; about 5 MiB are kept per partition.
            For evaluation and tests, not for production.
            """)

    @Option(name: .long, help: "Also accept bootstrap connections on this loopback port.")
    var port: Int?

    @Option(name: .long, help: "Partitions per topic.")
    var partitions: Int32 = 12

    @Option(name: .long, help: "Prefix of every topic name.")
    var topicPrefix: String = "iomt."

    @Option(name: .long, help: "Also create the internal topics (changelogs, repartition) of `wardwatch process` under this application id (repeatable; the mock cluster cannot create topics on request).")
    var applicationId: [String] = [DeviceProcessing.defaultApplicationId]

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if partitions < 1 { throw ValidationError("--partitions must be at least 1") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
    }

    func run() async throws {
        Observability.bootstrapLogging(level: try runtime.level())
        let logger = Observability.logger("wardwatch.broker", level: try runtime.level())
        let broker = try EmbeddedBroker(logger: logger)
        for topic in TopicNames(prefix: topicPrefix).all {
            try broker.createTopic(topic.name, partitions: partitions)
        }
        for id in applicationId {
            for topic in DeviceProcessing.internalTopics(applicationId: id, topics: TopicNames(prefix: topicPrefix), inputPartitions: partitions) {
                try broker.createTopic(topic.name, partitions: topic.partitions)
            }
        }
        var bootstrap = broker.bootstrapServers
        var started: BootstrapForwarder?
        if let port {
            started = try await BootstrapForwarder.start(port: port, target: broker.bootstrapServers)
            bootstrap = "127.0.0.1:\(port)"
        }
        let forwarder = started
        FileHandle.standardError.write(
            Data(
                "wardwatch broker: in-memory development broker (librdkafka mock cluster); all data is lost when it stops.\n"
                    .utf8))
        FileHandle.standardOutput.write(Data("bootstrap: \(bootstrap)\n".utf8))
        let main = StoppableService(description: "broker") {
            try? await gracefulShutdown()
            try? await forwarder?.stop()
            withExtendedLifetime(broker) {}
        } stop: {}
        try await runServices(main: main, runtime: runtime, metrics: nil, logger: logger)
    }
}
