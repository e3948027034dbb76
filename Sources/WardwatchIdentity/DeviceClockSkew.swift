import WardwatchModel

/// Clock skew per device: an estimator per TCP connection (TSval clocks may start at a random offset per connection,
/// but they tick at the device's rate), at most `activeCapacity` connections at a time, and the device estimate as the
/// inverse-variance mean of the settled connection estimates.
public struct DeviceClockSkew: Codable, Sendable, Equatable {
    public static let activeCapacity = 2
    public static let settledCapacity = 4

    struct Active: Codable, Sendable, Equatable {
        var key: String
        var estimator: ClockSkewEstimator
        enum CodingKeys: String, CodingKey { case key = "k", estimator = "e" }
    }

    /// A connection's final estimate.
    public struct Settled: Codable, Sendable, Equatable {
        public var skewPPM: Double
        public var halfWidthPPM: Double
        public var nominalHz: Double
        public var end: Int64
        enum CodingKeys: String, CodingKey { case skewPPM = "s", halfWidthPPM = "w", nominalHz = "hz", end = "t" }
    }

    var active: [Active] = []
    public private(set) var settled: [Settled] = []

    public init() {}

    enum CodingKeys: String, CodingKey { case active = "a", settled = "s" }

    /// Adds a batch of samples of one connection; returns that connection's estimate when it is reliable.
    public mutating func add(_ batch: TCPTimestampsObservation, minimumSpan: Double) -> ClockSkew? {
        let c = batch.connection
        let key = "\(c.localIp):\(c.localPort)-\(c.remoteIp):\(c.remotePort)"
        var index = active.firstIndex { $0.key == key }
        if index == nil {
            if active.count >= Self.activeCapacity,
                let oldest = active.indices.min(by: { active[$0].estimator.lastTime < active[$1].estimator.lastTime })
            {
                settle(active.remove(at: oldest).estimator, minimumSpan: minimumSpan)
            }
            active.append(Active(key: key, estimator: ClockSkewEstimator()))
            index = active.count - 1
        }
        for s in batch.samples {
            active[index!].estimator.add(timeMicroseconds: s.time, tsval: UInt32(truncatingIfNeeded: s.tsval))
        }
        return active[index!].estimator.estimate(minimumSpan: minimumSpan)
    }

    private mutating func settle(_ e: ClockSkewEstimator, minimumSpan: Double) {
        guard let s = e.estimate(minimumSpan: minimumSpan) else { return }
        settled.append(Settled(skewPPM: s.skewPPM, halfWidthPPM: s.confidenceHalfWidthPPM, nominalHz: s.nominalHz, end: e.lastTime))
        if settled.count > Self.settledCapacity { settled.removeFirst() }
    }

    /// The device's estimate over settled and active connections: inverse-variance weighted mean, with its half-width.
    public func estimate(minimumSpan: Double) -> (skewPPM: Double, halfWidthPPM: Double, nominalHz: Double)? {
        var all = settled.map { ($0.skewPPM, $0.halfWidthPPM, $0.nominalHz) }
        for a in active {
            if let s = a.estimator.estimate(minimumSpan: minimumSpan) {
                all.append((s.skewPPM, s.confidenceHalfWidthPPM, s.nominalHz))
            }
        }
        guard !all.isEmpty else { return nil }
        var wsum = 0.0
        var sum = 0.0
        for (s, w, _) in all {
            let weight = 1 / max(w * w, 1e-6)
            wsum += weight
            sum += weight * s
        }
        return (sum / wsum, (1 / wsum).squareRoot(), all.last!.2)
    }
}

extension ClockSkewEstimator {
    /// Capture time of the latest sample, µs.
    public var lastTime: Int64 { originTime + lastOffset }
}
