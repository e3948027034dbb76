import ArgumentParser
import Logging
import WardwatchKafka
import WardwatchProcessing

struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Consume observations in a consumer group; publish device profiles and findings.",
        discussion: """
            Run several instances with the same --group-id to share the partitions. Profiles go to
            <prefix>devices.v1 (compacted), OCSF Detection Findings to <prefix>alerts.v1, undecodable input to
            <prefix>deadletter.v1. Offsets are committed after the outputs are acknowledged (at-least-once).
            """)

    @Option(name: .long, help: "Consumer group id shared by all instances.")
    var groupId: String = "wardwatch-process"

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if kafka.brokers == nil { throw ValidationError("--brokers is required") }
        _ = try runtime.level()
    }

    func run() async throws {
        Observability.bootstrapLogging(level: try runtime.level())
        let logger = Observability.logger("wardwatch.process", level: try runtime.level())
        let metrics = runtime.metricsPort.map { _ in MetricsServer() }
        let service = try DeviceProcessService(
            options: .init(kafka: try kafka.configuration(), groupId: groupId, topics: kafka.topics), logger: logger,
            metricsFactory: metrics?.factory)
        try await service.checkConnectivity(timeout: .seconds(kafka.connectTimeout))
        let main = StoppableService(description: "process") {
            try await service.run()
        } stop: {
            await service.shutdown()
        }
        try await runServices(main: main, runtime: runtime, metrics: metrics, logger: logger)
    }
}
