/// An OCSF 1.3.0 Detection Finding (class_uid 2004), the alert record of `iomt.alerts.v1`
/// (schemas/alert.v1.schema.json). Field names are OCSF's own; the encoder writes them as they are.
public struct DetectionFinding: Codable, Sendable, Equatable {
    public var activity_id: Int = 1
    public var activity_name: String = "Create"
    public var category_uid: Int = 2
    public var category_name: String = "Findings"
    public var class_uid: Int = 2004
    public var class_name: String = "Detection Finding"
    public var type_uid: Int = 200401
    public var type_name: String = "Detection Finding: Create"
    public var severity_id: Int
    public var severity: String
    public var status_id: Int = 1
    public var status: String = "New"
    /// Event time of the evidence, milliseconds since the epoch.
    public var time: Int64
    public var message: String
    public var finding_info: FindingInfo
    public var metadata: Metadata
    public var device: Device
    public var observables: [Observable]
    public var unmapped: Unmapped
    /// OCSF `evidences`: what an identity finding rests on (absent on findings that carry none).
    public var evidences: [EvidenceArtifact]? = nil

    public struct FindingInfo: Codable, Sendable, Equatable {
        public var uid: String
        public var title: String
        public var desc: String
        public var types: [String]
        public var first_seen_time: Int64
        public var analytic: Analytic
        public var data_sources: [String]
    }

    public struct Analytic: Codable, Sendable, Equatable {
        public var uid: String
        public var name: String
        public var type_id: Int = 1
        public var type: String = "Rule"
    }

    public struct Metadata: Codable, Sendable, Equatable {
        public var version: String = "1.3.0"
        public var uid: String
        public var log_name: String
        public var product: Product
    }

    public struct Product: Codable, Sendable, Equatable {
        public var name: String = "Wardwatch"
        public var vendor_name: String = "Wardwatch"
        public var version: String = WardwatchVersion.current
    }

    public struct Device: Codable, Sendable, Equatable {
        public var type_id: Int = 0
        public var type: String = "Unknown"
        /// The device key: OCSF needs one of uid, ip or hostname, and a MAC alone is not enough.
        public var uid: String
        public var mac: String?
        public var ip: String?
        public var hostname: String?
    }

    public struct Observable: Codable, Sendable, Equatable {
        public var name: String
        public var type_id: Int
        public var type: String
        public var value: String
    }

    public struct Unmapped: Codable, Sendable, Equatable {
        public var device_key: String
        public var site: String
        public var sensor_id: String
        public var observation_kind: String
    }

    /// OCSF severity names by id.
    public static func severityName(_ id: Int) -> String {
        switch id {
        case 1: "Informational"
        case 2: "Low"
        case 3: "Medium"
        case 4: "High"
        case 5: "Critical"
        case 6: "Fatal"
        case 99: "Other"
        default: "Unknown"
        }
    }
}

public enum WardwatchVersion {
    public static let current = "0.1.0"
}
