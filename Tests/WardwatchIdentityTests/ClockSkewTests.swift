import Testing
import WardwatchIdentity
import WardwatchModel

@Suite struct ClockSkewTests {
    /// A clock of `ppm` skew at `hz`, one sample a second with delays of up to 5 ms, over `seconds`.
    static func synthetic(ppm: Double, hz: Double, seconds: Int, seed: UInt64) -> ClockSkewEstimator {
        var e = ClockSkewEstimator()
        var state = seed
        let offset: UInt32 = 4_294_000_000  // wraps within the run
        for i in 0..<seconds {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let delay = Int64(state >> 33) % 5_000
            let send = Double(i) + Double((state >> 20) % 1_000) / 1_000
            let ticks = UInt32(truncatingIfNeeded: Int64(send * hz * (1 + ppm * 1e-6)) &+ Int64(offset))
            e.add(timeMicroseconds: 1_772_438_400_000_000 + Int64(send * 1e6) + delay, tsval: ticks)
        }
        return e
    }

    @Test(arguments: [(37.0, 1000.0), (-120.0, 100.0), (5.5, 250.0), (80.0, 10.0)])
    func syntheticClocks(ppm: Double, hz: Double) throws {
        let e = Self.synthetic(ppm: ppm, hz: hz, seconds: 1800, seed: 42)
        let s = try #require(e.estimate())
        #expect(s.nominalHz == hz)
        #expect(abs(s.skewPPM - ppm) < 1, "estimated \(s.skewPPM) ppm for \(ppm)")
        #expect(s.confidenceHalfWidthPPM > 0)
        #expect(abs(s.skewPPM - ppm) <= s.confidenceHalfWidthPPM + 0.5)
    }

    @Test func boundedAndCodable() throws {
        let e = Self.synthetic(ppm: 37, hz: 1000, seconds: 3600, seed: 7)
        let bytes = try WardwatchJSON.encode(e)
        #expect(bytes.count < 700)
        #expect(try WardwatchJSON.decode(ClockSkewEstimator.self, from: bytes) == e)
    }

    /// The synthetic capture: +37 ppm at 1000 Hz with jitter for 20 minutes, through the capture pipeline.
    @Test func knownSkewThroughCapture() throws {
        let observations = try Fixtures.observations([Fixtures.identity("skew-37ppm.pcap")])
        var skew = DeviceClockSkew()
        var batches = 0
        for o in observations where o.kind == .tcpTimestamps && o.deviceKey == "00:03:b1:00:00:37" {
            _ = skew.add(o.tcpTimestamps!, minimumSpan: 120)
            batches += 1
        }
        #expect(batches >= 9)
        let device = try #require(skew.estimate(minimumSpan: 120))
        print("skew-37ppm.pcap: \(device.skewPPM) ppm ±\(device.halfWidthPPM) at \(device.nominalHz) Hz")
        #expect(device.nominalHz == 1000)
        #expect(abs(device.skewPPM - 37) < 1)
    }
}
