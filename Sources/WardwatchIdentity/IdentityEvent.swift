import WardwatchModel

/// What applying an observation to a device's identity produced.
public enum IdentityEvent: Sendable, Equatable {
    /// The device's classification changed (class, vendor, model, version or OS): a device-change event.
    case classificationChanged(ClassificationChange)
    /// An identity verification finding.
    case finding(DetectionFinding)
}

/// A classification change, with before and after values.
public struct ClassificationChange: Codable, Sendable, Equatable {
    public var deviceKey: String
    public var time: EventTime
    /// nil for the device's first classification.
    public var before: IdentityClassification?
    public var after: IdentityClassification
}
