/// The values one identity attribute (TCP stack, DHCP fingerprint, clock skew cluster) has shown over time, bounded
/// to a few, to tell a device that changed (a new value after an established one) from two devices behind one key
/// (values alternating within the concurrency window).
public struct AttributeTrack: Codable, Sendable, Equatable {
    public struct Sighting: Codable, Sendable, Equatable {
        public var value: String
        public var first: Int64
        public var last: Int64
        public var count: Int
        enum CodingKeys: String, CodingKey { case value = "v", first = "f", last = "l", count = "n" }
    }

    /// What a sighting revealed.
    public enum Outcome: Sendable, Equatable {
        case consistent
        /// The first value.
        case first
        /// A new value replaced an established one.
        case changed(from: String, to: String)
        /// Two values alternate within the concurrency window: two devices at once.
        case conflicting(String, String)
    }

    public static let capacity = 3
    public private(set) var values: [Sighting] = []
    /// The value of the latest sighting.
    public private(set) var current: String?

    public init() {}

    enum CodingKeys: String, CodingKey { case values = "s", current = "c" }

    public mutating func sight(_ value: String, at time: Int64, established: Int, window: Int64) -> Outcome {
        defer { current = value }
        guard let previous = current else {
            values.append(Sighting(value: value, first: time, last: time, count: 1))
            return .first
        }
        if let i = values.firstIndex(where: { $0.value == value }) {
            let lastOfThis = values[i].last
            values[i].last = max(values[i].last, time)
            values[i].count += 1
            if previous == value { return .consistent }
            // Back to a value seen before, after another one, within the window: alternation.
            if time - lastOfThis <= window { return .conflicting(previous, value) }
            return .changed(from: previous, to: value)
        }
        if values.count >= Self.capacity, let oldest = values.indices.min(by: { values[$0].last < values[$1].last }) {
            values.remove(at: oldest)
        }
        values.append(Sighting(value: value, first: time, last: time, count: 1))
        let prior = values.first { $0.value == previous }
        if let prior, prior.count >= established { return .changed(from: previous, to: value) }
        return .consistent
    }
}
