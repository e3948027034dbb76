import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Logging and metrics set-up, done once by the executable. Logs go to standard error: standard output carries data
/// (`capture --output -`, `demo --json`, `broker`'s bootstrap address).
enum Observability {
    nonisolated(unsafe) private static var bootstrapped = false

    static func bootstrapLogging(level: Logger.Level) {
        guard !bootstrapped else { return }
        bootstrapped = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func logger(_ label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Serves `/metrics` (Prometheus text format) and `/healthz` over HTTP.
struct MetricsServer {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
    }

    func service(host: String, port: Int, logger: Logger) -> some Service {
        let router = Router()
        let registry = self.registry
        router.get("metrics") { _, _ -> String in registry.emitToString() }
        router.get("healthz") { _, _ -> String in "ok\n" }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
