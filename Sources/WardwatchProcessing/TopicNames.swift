/// The project's topic names under a configurable prefix (default `iomt.`).
public struct TopicNames: Sendable, Equatable {
    public var prefix: String

    public init(prefix: String = "iomt.") { self.prefix = prefix }

    public var observations: String { prefix + "observations.v1" }
    public var devices: String { prefix + "devices.v1" }
    public var alerts: String { prefix + "alerts.v1" }
    public var enforcement: String { prefix + "enforcement.v1" }
    public var deadLetter: String { prefix + "deadletter.v1" }

    /// Every topic with its cleanup policy.
    public var all: [(name: String, compacted: Bool)] {
        [(observations, false), (devices, true), (alerts, false), (enforcement, false), (deadLetter, false)]
    }

    public static let deviceSchemaID = "https://wardwatch.invalid/schemas/device.v1.schema.json"
    public static let alertSchemaID = "https://wardwatch.invalid/schemas/alert.v1.schema.json"
}
