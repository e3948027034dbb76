/// What kind of device something is: the medical classes of the knowledge base and the common non-medical ones.
public enum DeviceClass: String, Codable, Sendable, CaseIterable, Comparable {
    case infusionPump = "infusion_pump"
    case patientMonitor = "patient_monitor"
    case imagingCT = "imaging_ct"
    case imagingMR = "imaging_mr"
    case imagingXRay = "imaging_xray"
    case imagingUS = "imaging_us"
    case imagingNM = "imaging_nm"
    /// An imaging modality whose kind is not known.
    case imagingModality = "imaging_modality"
    case pacs
    case clinicalWorkstation = "clinical_workstation"
    case labAnalyzer = "lab_analyzer"
    case medicationDispensing = "medication_dispensing"
    case nurseCall = "nurse_call"
    case wearableMonitor = "wearable_monitor"
    case telehealth
    /// A medical device of no more specific class.
    case medicalDevice = "medical_device"
    case workstation
    case server
    case printer
    case camera
    case phone
    case networkEquipment = "network_equipment"
    case iot
    case unknown

    public static func < (a: DeviceClass, b: DeviceClass) -> Bool { a.rawValue < b.rawValue }

    public var isMedical: Bool {
        switch self {
        case .workstation, .server, .printer, .camera, .phone, .networkEquipment, .iot, .unknown: false
        default: true
        }
    }

    /// OCSF device `type_id` and caption (OCSF 1.3.0 Device object).
    public var ocsfType: (id: Int, name: String) {
        switch self {
        case .server, .pacs: (1, "Server")
        case .workstation, .clinicalWorkstation: (2, "Desktop")
        case .phone: (5, "Mobile")
        case .networkEquipment: (10, "Switch")
        case .unknown: (0, "Unknown")
        case .printer, .camera: (99, "Other")
        default: (7, "IOT")
        }
    }
}
