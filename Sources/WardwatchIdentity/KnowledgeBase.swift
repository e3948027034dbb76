import Foundation
import Yams

/// The medical-device knowledge base: manufacturers (how they appear on the network) and signal rules (what a value
/// in one signal suggests), loaded from the YAML data files in Resources/, each entry with its public source.
public struct KnowledgeBase: Sendable, Codable {
    public struct Manufacturer: Sendable, Codable, Equatable {
        public var name: String
        public var medical: Bool
        /// Its networked products are embedded devices (a desktop OS and browser behind its MAC contradicts it).
        public var embeddedOnly: Bool?
        /// A maker of network modules, whose MAC says little about the product brand.
        public var moduleMaker: Bool?
        /// Case-insensitive prefixes of IEEE registry organisation names.
        public var ieeeNames: [String]?
        public var classes: [DeviceClass]
        public var dicomUidRoots: [String]?
        public var modelKeywords: [String]?
        public var sources: [String]

        /// The class a device of this maker most likely has: its only class, or the generic medical class when it
        /// makes several kinds of medical device.
        public var typicalClass: DeviceClass? {
            if classes.count == 1 { return classes[0] }
            if !classes.isEmpty && classes.allSatisfy(\.isMedical) { return .medicalDevice }
            return nil
        }

        enum CodingKeys: String, CodingKey {
            case name, medical, classes, sources
            case embeddedOnly = "embedded_only", moduleMaker = "module_maker", ieeeNames = "ieee_names"
            case dicomUidRoots = "dicom_uid_roots", modelKeywords = "model_keywords"
        }
    }

    public struct Rule: Sendable, Codable, Equatable {
        /// How `match` applies: the value contains it, starts with it, equals it, or matches it as a glob (`*` stands
        /// for any run of characters, `?` for one: `TH-*CART*`).
        public enum Mode: String, Sendable, Codable { case contains, prefix, equals, glob }
        public var id: String
        public var signal: String
        public var match: [String]
        public var mode: Mode?
        public var deviceClass: DeviceClass?
        public var vendor: String?
        public var model: String?
        /// The matched text is the model (`Plum A+`).
        public var modelFromMatch: Bool?
        /// The word following the matched text is the model (`Polycom-VVX411` after `Polycom-` → `VVX411`).
        public var modelAfterMatch: Bool?
        public var os: String?
        public var weight: Int
        public var source: String
        /// `match` lowercased once at load.
        var lowered: [String]?

        enum CodingKeys: String, CodingKey {
            case id, signal, match, mode, vendor, model, os, weight, source
            case deviceClass = "class", modelFromMatch = "model_from_match", modelAfterMatch = "model_after_match"
        }

        /// The pattern of `match` that `value` satisfies, if any.
        public func matched(_ value: String) -> String? {
            matched(lowercased: value.lowercased())
        }

        /// As `matched(_:)`, for a value already lowercased.
        public func matched(lowercased v: String) -> String? {
            for (m, p) in zip(match, lowered ?? match.map { $0.lowercased() }) {
                switch mode ?? .contains {
                case .contains: if v.contains(p) { return m }
                case .prefix: if v.hasPrefix(p) { return m }
                case .equals: if v == p { return m }
                case .glob: if Self.glob(Array(p.utf8), Array(v.utf8)) { return m }
                }
            }
            return nil
        }

        /// The model named right after `hit` in `value`: the next word (up to a space, `;` or `,`), without leading
        /// separators; nil when nothing follows.
        public func model(after hit: String, in value: String) -> String? {
            guard let range = value.range(of: hit, options: .caseInsensitive) else { return nil }
            let rest = value[range.upperBound...].drop { "-_:/ ".contains($0) }
            let word = rest.prefix { !" ;,".contains($0) }
            return word.isEmpty ? nil : String(word.prefix(32))
        }

        /// Glob match over bytes: `*` any run (also empty), `?` one byte; backtracks to the latest star only.
        static func glob(_ p: [UInt8], _ s: [UInt8]) -> Bool {
            let star = UInt8(ascii: "*"), any = UInt8(ascii: "?")
            var (i, j) = (0, 0)
            var resume: (p: Int, s: Int)?
            while j < s.count {
                if i < p.count && (p[i] == any || p[i] == s[j]) {
                    i += 1
                    j += 1
                } else if i < p.count && p[i] == star {
                    resume = (i, j)
                    i += 1
                } else if let r = resume {
                    i = r.p + 1
                    j = r.s + 1
                    resume = (r.p, r.s + 1)
                } else {
                    return false
                }
            }
            while i < p.count && p[i] == star { i += 1 }
            return i == p.count
        }
    }

    public var manufacturers: [Manufacturer]
    public var rules: [Rule]

    public init(manufacturers: [Manufacturer], rules: [Rule]) {
        self.manufacturers = manufacturers
        self.rules = rules
    }

    private struct ManufacturerFile: Codable { var manufacturers: [Manufacturer] }
    private struct RuleFile: Codable { var rules: [Rule] }

    /// The knowledge base bundled with Wardwatch.
    public static func bundled() throws -> KnowledgeBase {
        func text(_ name: String) throws -> String {
            guard let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: name, withExtension: "yaml")
            else { throw IdentityError("bundled resource \(name).yaml missing") }
            return try String(contentsOf: url, encoding: .utf8)
        }
        return try parse(manufacturers: text("manufacturers"), rules: text("rules"))
    }

    /// Parses the two YAML documents.
    public static func parse(manufacturers: String, rules: String) throws -> KnowledgeBase {
        let decoder = YAMLDecoder()
        let m = try decoder.decode(ManufacturerFile.self, from: manufacturers)
        let r = try decoder.decode(RuleFile.self, from: rules)
        return KnowledgeBase(manufacturers: m.manufacturers, rules: r.rules.map { rule in
            var rule = rule
            rule.lowered = rule.match.map { $0.lowercased() }
            return rule
        })
    }

    /// The bundled p0f-syntax additions (`tcp-signatures.fp`).
    public static func bundledTCPSignatures() -> String? {
        guard let url = Bundle.module.url(forResource: "tcp-signatures", withExtension: "fp", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "tcp-signatures", withExtension: "fp")
        else { return nil }
        return try? String(contentsOf: url, encoding: .utf8)
    }
}

/// An identity component failed to load.
public struct IdentityError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
