import Logging
import ServiceLifecycle
import WardwatchKafka
import WardwatchProcessing

/// A service that runs `body` and calls `stop` when the group shuts down gracefully (SIGTERM/SIGINT).
struct StoppableService: Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async throws -> Void
    let stop: @Sendable () async -> Void

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await body()
        } onGracefulShutdown: {
            Task { await stop() }
        }
    }
}

/// Runs `main` with, where asked, a Prometheus endpoint beside it, in one service group that stops cleanly on
/// SIGTERM and SIGINT. Returns when `main` returns; rethrows its error.
func runServices(
    main: StoppableService, runtime: RuntimeOptions, metrics: MetricsServer?, logger: Logger
) async throws {
    var services = [
        ServiceGroupConfiguration.ServiceConfiguration(
            service: main, successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup)
    ]
    if let metrics, let port = runtime.metricsPort {
        services.append(.init(service: metrics.service(host: runtime.metricsHost, port: port, logger: logger)))
    }
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}
