import ArgumentParser
import Foundation
import WardwatchCapture
import WardwatchIdentity
import WardwatchModel

/// Identity processing cost per observation and encoded state per device: observations come from the real capture
/// pipeline first, then `IdentityBenchmark.run` times only the identity step.
struct IdentityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Identity processing cost per observation and state bytes per device (goal: at most 4 KB).")

    @Argument(help: "Capture files (pcap or pcapng).") var pcaps: [String]
    @Option(help: "Rounds; the fastest is reported.") var rounds = 5

    func validate() throws {
        if pcaps.isEmpty { throw ValidationError("give at least one capture file") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
    }

    func run() async throws {
        Observability.bootstrapLogging(level: .error)
        var extractor = ObservationExtractor(sensor: SensorIdentity(sensorId: "bench", site: "bench"))
        let observations = try extractor.observations(ofFiles: pcaps)
        let result = try IdentityBenchmark.run(observations, engine: try IdentityEngine.load(), rounds: rounds)
        print("Identity benchmark: \(pcaps.count) capture files, fastest of \(rounds) rounds")
        print(result)
        print(result.maxStateBytes <= 4096 ? "state per device within the 4 KB goal" : "state per device ABOVE the 4 KB goal")
    }
}
