import ArgumentParser
import Logging
import WardwatchKafka
import WardwatchProcessing
import WardwatchStreams

struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Consume observations in a consumer group; publish device records (profile and identity) and findings.",
        discussion: """
            Run several instances with the same --application-id (the consumer group) to share the partitions;
            add or stop instances at any time. Device records (profile and OCSF inventory) go to <prefix>devices.v1
            (compacted), OCSF Detection Findings to <prefix>alerts.v1, undecodable or schema-invalid input to
            <prefix>deadletter.v1. State lives in per-partition stores backed by the compacted topics
            APPID-identity-changelog and APPID-profiles-changelog, with as many partitions as the observations topic.
            Protocol-native identities (DICOM AE + implementation UID, SDC endpoint) are repartitioned through
            APPID-native-identity-repartition (partitioned by the identity) to a second group,
            APPID-native, whose store is APPID-native-native-identities-changelog. Missing topics are created where
            the cluster allows.
            At-least-once by default: outputs are acknowledged, then changelogs, then offsets committed; a crash
            repeats outputs with the same ids. --guarantee exactly-once commits outputs, changelogs and offsets in
            one transaction and reads read_committed (needs a broker with transactions).
            """)

    @Option(name: [.customLong("application-id"), .customLong("group-id")], help: "Application id: the consumer group shared by all instances, and the prefix of the changelog topics.")
    var applicationId: String = DeviceProcessing.defaultApplicationId

    @Option(name: .long, help: "at-least-once or exactly-once.")
    var guarantee: ProcessingGuarantee = .atLeastOnce

    @Option(name: .long, help: "Milliseconds between commits.")
    var commitIntervalMs: Int = 100

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var identity: IdentityOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if kafka.brokers == nil { throw ValidationError("--brokers is required") }
        if commitIntervalMs < 1 { throw ValidationError("--commit-interval-ms must be at least 1") }
        _ = try runtime.level()
    }

    func run() async throws {
        Observability.bootstrapLogging(level: try runtime.level())
        let logger = Observability.logger("wardwatch.process", level: try runtime.level())
        let metrics = runtime.metricsPort.map { _ in MetricsServer() }
        let service = try DeviceProcessService(
            options: .init(
                kafka: try kafka.configuration(), engine: try identity.engine(), applicationId: applicationId, topics: kafka.topics, guarantee: guarantee,
                commitInterval: .milliseconds(commitIntervalMs)),
            logger: logger,
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

extension ProcessingGuarantee: ExpressibleByArgument {}
