/// Event-time windows: tumbling (advance == size) or hopping (advance < size), with a grace period after the window
/// end during which late records are still accepted. Times are milliseconds.
public struct TimeWindows: Sendable, Hashable {
    public let size: Int64
    public let advance: Int64
    public let grace: Int64

    public static func tumbling(size: Int64, grace: Int64 = 0) -> TimeWindows {
        TimeWindows(size: size, advance: size, grace: grace)
    }

    public static func hopping(size: Int64, advance: Int64, grace: Int64 = 0) -> TimeWindows {
        TimeWindows(size: size, advance: advance, grace: grace)
    }

    public init(size: Int64, advance: Int64, grace: Int64) {
        precondition(size > 0 && advance > 0 && advance <= size && grace >= 0, "invalid window")
        self.size = size
        self.advance = advance
        self.grace = grace
    }

    /// The start times of every window containing `timestamp`, oldest first.
    public func windowStarts(containing timestamp: Int64) -> [Int64] {
        let last = floorDiv(timestamp, advance) * advance
        var starts: [Int64] = []
        var start = last
        while start > timestamp - size {
            starts.append(start)
            start -= advance
        }
        return starts.reversed()
    }

    /// True once stream time has passed the window's end plus grace: no record may change it any more.
    public func isClosed(start: Int64, streamTime: Int64) -> Bool {
        streamTime != .min && start + size + grace <= streamTime
    }

    /// How long a window's state must be kept: until it closes.
    public var retention: Int64 { size + grace }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
