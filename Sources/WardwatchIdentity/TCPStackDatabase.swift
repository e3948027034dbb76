import Foundation

/// A TCP/IP stack label in p0f's form `type:class:name:flavor` (`s:unix:Linux:3.11 and newer`).
public struct StackLabel: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// True for p0f's generic (`g`) labels.
    public var generic: Bool
    /// `win`, `unix`, `other`, or `!` for userland tools.
    public var osClass: String
    public var name: String
    public var flavor: String

    public init?(_ text: some StringProtocol) {
        let f = String(text).split(separator: ":" as Character, maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard f.count == 4 else { return nil }
        generic = f[0] == "g"
        osClass = f[1]
        name = f[2]
        flavor = f[3]
    }

    /// `Linux 3.11 and newer`.
    public var description: String { flavor.isEmpty ? name : name + " " + flavor }
}

/// A p0f v3 TCP signature database: `[tcp:request]` (SYN) and `[tcp:response]` (SYN+ACK) sections of Debian's
/// /etc/p0f/p0f.fp when installed, plus Wardwatch's own additions in the same syntax.
public struct TCPStackDatabase: Sendable {
    public struct Entry: Sendable, Equatable {
        public var label: StackLabel
        public var pattern: P0fPattern
        /// Where the entry came from: a file path or `wardwatch`.
        public var source: String
    }

    /// The result of matching an observed signature.
    public struct Result: Sendable, Equatable {
        public var label: StackLabel
        public var quality: P0fPattern.Match
        public var source: String
    }

    public static let debianPath = "/etc/p0f/p0f.fp"

    public private(set) var requests: [Entry] = []
    public private(set) var responses: [Entry] = []

    public init() {}

    /// Adds the TCP sections of a file in p0f.fp syntax; other sections (mtu, http) are skipped.
    public mutating func load(text: String, source: String) {
        var section = ""
        var label: StackLabel?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                section = String(line.dropFirst().dropLast())
                label = nil
                continue
            }
            guard section == "tcp:request" || section == "tcp:response",
                let eq = line.firstIndex(of: "=")
            else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if key == "label" {
                label = StackLabel(value)
            } else if key == "sig", let label, let pattern = P0fPattern(value) {
                let entry = Entry(label: label, pattern: pattern, source: source)
                if section == "tcp:request" { requests.append(entry) } else { responses.append(entry) }
            }
        }
    }

    /// Loads Debian's p0f.fp when present.
    public mutating func loadDebian(path: String = TCPStackDatabase.debianPath) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        load(text: String(decoding: data, as: UTF8.self), source: path)
    }

    /// The best match for a raw signature, p0f's way: the first exact specific match, else the first exact generic
    /// match, else the first fuzzy match (never for userland tools).
    public func match(signature: String, observedTTL: Int, observedWindow: Int? = nil, isResponse: Bool) -> Result? {
        guard var observed = P0fPattern(signature) else { return nil }
        if let observedWindow { observed.window = .value(observedWindow) }
        var generic: Entry?
        var fuzzy: Entry?
        for entry in isResponse ? responses : requests {
            switch entry.pattern.match(observed, observedTTL: observedTTL) {
            case .none: continue
            case .exact:
                if !entry.label.generic { return Result(label: entry.label, quality: .exact, source: entry.source) }
                if generic == nil { generic = entry }
            case .fuzzy:
                if fuzzy == nil { fuzzy = entry }
            }
        }
        if let generic { return Result(label: generic.label, quality: .exact, source: generic.source) }
        if let fuzzy, fuzzy.label.osClass != "!" {
            return Result(label: fuzzy.label, quality: .fuzzy, source: fuzzy.source)
        }
        return nil
    }
}
