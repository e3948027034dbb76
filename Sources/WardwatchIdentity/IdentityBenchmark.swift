import WardwatchModel

/// A measurement of identity processing, for `wardwatch bench` and reports.
public struct IdentityBenchmarkResult: Sendable, Equatable, CustomStringConvertible {
    public var observations: Int
    public var devices: Int
    public var nanosecondsPerObservation: Double
    /// Encoded (Wardwatch JSON) state bytes per device: mean and maximum.
    public var meanStateBytes: Int
    public var maxStateBytes: Int

    public var description: String {
        "identity: \(observations) observations over \(devices) devices, \(Int(nanosecondsPerObservation.rounded())) ns/observation, state \(meanStateBytes) B mean / \(maxStateBytes) B max per device"
    }
}

public enum IdentityBenchmark {
    /// Applies `observations` `rounds` times (fresh states each round) and measures the time per observation and the
    /// encoded state size per device. The clock here measures the benchmark only; processing itself never reads one.
    public static func run(_ observations: [Observation], engine: IdentityEngine, rounds: Int = 5) throws -> IdentityBenchmarkResult {
        var states: [String: DeviceIdentityState] = [:]
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000_000)
        for _ in 0..<max(1, rounds) {
            states = [:]
            let elapsed = clock.measure {
                for o in observations {
                    _ = states[o.deviceKey, default: DeviceIdentityState(deviceKey: o.deviceKey, site: o.site, firstSeen: o.time)]
                        .apply(o, engine: engine)
                }
            }
            best = min(best, elapsed)
        }
        let sizes = try states.values.map { try WardwatchJSON.encode($0).count }
        let (s, a) = best.components
        let ns = Double(s) * 1e9 + Double(a) / 1e9
        return IdentityBenchmarkResult(
            observations: observations.count, devices: states.count,
            nanosecondsPerObservation: observations.isEmpty ? 0 : ns / Double(observations.count),
            meanStateBytes: sizes.isEmpty ? 0 : sizes.reduce(0, +) / sizes.count, maxStateBytes: sizes.max() ?? 0)
    }
}
