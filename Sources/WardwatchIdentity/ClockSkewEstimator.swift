/// Clock skew of one TCP connection's timestamp clock, after Kohno, Broido and claffy, "Remote physical device
/// fingerprinting" (IEEE TDSP 2005): the offsets between the sender's TSval clock and the capture clock lie above a
/// line whose slope is the skew, and network delay only pushes points away from it, so the estimate is the linear
/// programming fit of the delay-free envelope. In (capture time, TSval) coordinates that envelope is the upper convex
/// hull; the LP optimum is the hull edge spanning the mean capture time. Memory is bounded: only hull vertices (at most
/// `maxHull`) and running moments are kept, never the samples.
public struct ClockSkewEstimator: Codable, Sendable, Equatable {
    /// Hull vertices kept at most; beyond it the vertex whose removal moves the hull least goes.
    public static let maxHull = 12

    /// Capture time of the first sample, µs.
    public private(set) var originTime: Int64 = 0
    /// Unwrapped TSval of the first sample.
    private var originTick: Int64 = 0
    private var lastRawTick: UInt32 = 0
    private var lastTick: Int64 = 0
    /// Capture time of the latest sample relative to the origin, µs.
    public private(set) var lastOffset: Int64 = 0
    /// Upper hull as flat pairs (µs since origin, ticks since origin), by time.
    private var hull: [Int64] = []
    // Welford moments of (seconds, ticks) for the regression's standard error.
    public private(set) var count: Int = 0
    private var meanX: Double = 0
    private var meanY: Double = 0
    private var cxx: Double = 0
    private var cxy: Double = 0
    private var cyy: Double = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case originTime = "t0", originTick = "k0", lastRawTick = "lr", lastTick = "lk", lastOffset = "lt", hull = "h"
        case count = "n", meanX = "mx", meanY = "my", cxx, cxy, cyy
    }

    /// Capture time span covered, seconds.
    public var spanSeconds: Double { Double(lastOffset) / 1e6 }

    /// Adds one sample: capture time (µs) and the sender's TSval.
    public mutating func add(timeMicroseconds t: Int64, tsval raw: UInt32) {
        if count == 0 {
            originTime = t
            originTick = Int64(raw)
            lastRawTick = raw
            lastTick = Int64(raw)
        } else {
            // Unwrap: TSval moves forward modulo 2^32; a small backward step is reordering.
            lastTick += Int64(Int32(bitPattern: raw &- lastRawTick))
            lastRawTick = raw
        }
        let x = t - originTime
        let y = lastTick - originTick
        lastOffset = max(lastOffset, x)
        count += 1
        let xs = Double(x) / 1e6
        let ys = Double(y)
        let dx = xs - meanX
        meanX += dx / Double(count)
        let dy = ys - meanY
        meanY += dy / Double(count)
        cxx += dx * (xs - meanX)
        cxy += dx * (ys - meanY)
        cyy += dy * (ys - meanY)
        insert(x, y)
    }

    private mutating func insert(_ x: Int64, _ y: Int64) {
        let n = hull.count / 2
        if n > 0 && x < hull[2 * n - 2] {
            // Out of order: rebuild from the vertices and the new point.
            var points = stride(from: 0, to: hull.count, by: 2).map { (hull[$0], hull[$0 + 1]) }
            points.append((x, y))
            points.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            hull = []
            for p in points { push(p.0, p.1) }
        } else {
            push(x, y)
        }
        while hull.count / 2 > Self.maxHull { dropFlattestVertex() }
    }

    /// Monotone-chain step for the upper hull.
    private mutating func push(_ x: Int64, _ y: Int64) {
        var n = hull.count / 2
        if n > 0 && hull[2 * n - 2] == x {
            if hull[2 * n - 1] >= y { return }
            hull.removeLast(2)
            n -= 1
        }
        while n >= 2 {
            let ax = Double(hull[2 * n - 4]), ay = Double(hull[2 * n - 3])
            let bx = Double(hull[2 * n - 2]), by = Double(hull[2 * n - 1])
            let cross = (bx - ax) * (Double(y) - ay) - (by - ay) * (Double(x) - ax)
            if cross >= 0 { hull.removeLast(2); n -= 1 } else { break }
        }
        hull.append(x)
        hull.append(y)
    }

    /// Removes the inner vertex forming the smallest triangle with its neighbours (the ends are kept).
    private mutating func dropFlattestVertex() {
        let n = hull.count / 2
        guard n > 2 else { return }
        var best = 1
        var bestArea = Double.infinity
        for i in 1..<(n - 1) {
            let ax = Double(hull[2 * i - 2]), ay = Double(hull[2 * i - 1])
            let bx = Double(hull[2 * i]), by = Double(hull[2 * i + 1])
            let cx = Double(hull[2 * i + 2]), cy = Double(hull[2 * i + 3])
            let area = abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
            if area < bestArea { bestArea = area; best = i }
        }
        hull.removeSubrange((2 * best)..<(2 * best + 2))
    }

    /// The tick rate of the envelope fit, ticks per second of capture time.
    public var envelopeRate: Double? {
        let n = hull.count / 2
        guard n >= 2, lastOffset > 0 else { return nil }
        let mean = meanX * 1e6
        var i = 0
        while i < n - 2 && Double(hull[2 * i + 2]) < mean { i += 1 }
        let dx = Double(hull[2 * i + 2] - hull[2 * i])
        guard dx > 0 else { return nil }
        return Double(hull[2 * i + 3] - hull[2 * i + 1]) / dx * 1e6
    }

    /// The estimate, when at least `minimumSamples` samples over `minimumSpan` seconds are in.
    public func estimate(minimumSamples: Int = 10, minimumSpan: Double = 30) -> ClockSkew? {
        guard count >= minimumSamples, spanSeconds >= minimumSpan, let rate = envelopeRate, rate > 0 else { return nil }
        let nominal = ClockSkew.snap(rate)
        let skew = (rate / nominal - 1) * 1e6
        // Half-width of a 95% interval: the regression slope's standard error, plus one tick over the span (the
        // envelope cannot resolve finer than the TSval quantum).
        var halfWidth = 1e6 / nominal / spanSeconds
        if count > 2, cxx > 0 {
            let residual = max(0, (cyy - cxy * cxy / cxx) / Double(count - 2))
            halfWidth += 1.96 * (residual / cxx).squareRoot() / nominal * 1e6
        }
        return ClockSkew(
            frequencyHz: rate, nominalHz: nominal, skewPPM: skew, confidenceHalfWidthPPM: halfWidth,
            samples: count, spanSeconds: spanSeconds)
    }
}

/// A clock-skew estimate.
public struct ClockSkew: Codable, Sendable, Equatable {
    /// The measured TSval rate (Hz).
    public var frequencyHz: Double
    /// The rate snapped to 1, 10, 100, 250 or 1000 Hz within 3%, otherwise the measured rate rounded.
    public var nominalHz: Double
    /// Skew of the sender's clock against the capture clock, parts per million (positive: the sender runs fast).
    public var skewPPM: Double
    /// Half-width of an approximate 95% confidence interval, ppm.
    public var confidenceHalfWidthPPM: Double
    public var samples: Int
    public var spanSeconds: Double

    public init(
        frequencyHz: Double, nominalHz: Double, skewPPM: Double, confidenceHalfWidthPPM: Double, samples: Int,
        spanSeconds: Double
    ) {
        self.frequencyHz = frequencyHz
        self.nominalHz = nominalHz
        self.skewPPM = skewPPM
        self.confidenceHalfWidthPPM = confidenceHalfWidthPPM
        self.samples = samples
        self.spanSeconds = spanSeconds
    }

    /// Common TCP timestamp clock rates.
    public static let commonRates: [Double] = [1, 10, 100, 250, 1000]

    static func snap(_ rate: Double) -> Double {
        for c in commonRates where abs(rate / c - 1) <= 0.03 { return c }
        return rate.rounded()
    }
}
