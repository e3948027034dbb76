import Foundation

/// The IEEE MAC address block registries (MA-L, MA-M, MA-S and the old IAB) as Debian's ieee-data installs them, with
/// longest-prefix lookup: a 36-bit MA-S or IAB block wins over a 28-bit MA-M block over a 24-bit MA-L block.
public struct OUIRegistry: Sendable {
    /// One registry assignment.
    public struct Assignment: Sendable, Equatable {
        /// MA-L, MA-M, MA-S or IAB.
        public var registry: String
        /// The organisation name as registered.
        public var organization: String
        /// Prefix length in bits: 24, 28 or 36.
        public var prefixBits: Int
    }

    /// What a lookup says about an address.
    public enum Lookup: Sendable, Equatable {
        case assigned(Assignment)
        /// Locally administered (U/L bit set): randomised or set by software, no registry owner.
        case locallyAdministered
        case multicast
        /// Universally administered but in no registry file loaded.
        case unknown
    }

    /// Debian's ieee-data folder.
    public static let debianDirectory = "/usr/share/ieee-data"

    private var l24: [UInt32: Assignment] = [:]
    private var l28: [UInt32: Assignment] = [:]
    private var l36: [UInt64: Assignment] = [:]

    public var count: Int { l24.count + l28.count + l36.count }

    public init() {}

    /// Loads oui.csv, mam.csv, oui36.csv and iab.csv from `directory` (files that are missing are skipped).
    public init(directory: String = OUIRegistry.debianDirectory) throws {
        for name in ["oui.csv", "mam.csv", "oui36.csv", "iab.csv"] {
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            load(csv: String(decoding: data, as: UTF8.self))
        }
    }

    /// Adds the rows of one registry CSV (`Registry,Assignment,Organization Name,Organization Address`).
    public mutating func load(csv: String) {
        for line in csv.split(whereSeparator: \.isNewline) {
            let fields = Self.csvFields(line, limit: 3)
            guard fields.count >= 3, let hexValue = UInt64(fields[1], radix: 16) else { continue }
            let registry = fields[0]
            let bits = fields[1].count * 4
            let organization = fields[2].trimmingCharacters(in: .whitespaces)
            guard !organization.isEmpty else { continue }
            let entry = Assignment(registry: registry, organization: organization, prefixBits: bits)
            switch bits {
            case 24: l24[UInt32(hexValue)] = entry
            case 28: l28[UInt32(hexValue)] = entry
            case 36: l36[hexValue] = entry
            default: continue
            }
        }
    }

    /// The longest registered prefix that covers `mac`.
    public func lookup(_ mac: MACAddress) -> Lookup {
        if mac.isMulticast { return .multicast }
        if mac.isLocallyAdministered { return .locallyAdministered }
        if let a = l36[mac.value >> 12] { return .assigned(a) }
        if let a = l28[UInt32(mac.value >> 20)] { return .assigned(a) }
        if let a = l24[UInt32(mac.value >> 24)] { return .assigned(a) }
        return .unknown
    }

    /// The organisation owning `mac`'s block, if any.
    public func organization(_ mac: MACAddress) -> String? {
        if case .assigned(let a) = lookup(mac), a.organization != "Private" { return a.organization }
        return nil
    }

    /// Splits a CSV line into at most `limit` fields (the rest is dropped), honouring double quotes.
    static func csvFields(_ line: Substring, limit: Int) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if c == "\"" {
                quoted.toggle()
            } else if c == "," && !quoted {
                fields.append(current)
                current = ""
                if fields.count == limit { return fields }
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}
