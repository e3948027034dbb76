/// One TCP signature in p0f v3 form, `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`, either a database pattern
/// (with wildcards) or a packet's raw signature. Format and matching rules follow p0f 3.09b's README, section 5.
public struct P0fPattern: Sendable, Equatable, Hashable {
    public enum Window: Sendable, Equatable, Hashable {
        case any
        case value(Int)
        /// `mss*N`.
        case mss(Int)
        /// `mtu*N`.
        case mtu(Int)
        /// `%N`: any multiple of N.
        case modulo(Int)
    }

    /// 4, 6, or nil for `*`.
    public var ipVersion: Int?
    /// Initial TTL (for a raw signature, the sensor's guess: the number before `+` or `-`).
    public var ittl: Int
    /// A raw signature's `-` suffix or a pattern's: the TTL is too far from any initial value to guess a distance.
    public var badTTL: Bool
    public var ipOptionsLength: Int
    /// nil for `*`.
    public var mss: Int?
    public var window: Window
    /// nil for `*`.
    public var windowScale: Int?
    /// Options in order: `mss`, `nop`, `ws`, `sok`, `sack`, `ts`, `eol+N`, `?N`.
    public var layout: [String]
    public var quirks: Set<String>
    /// Payload class: false (`0`), true (`+`), nil (`*`).
    public var payload: Bool?

    /// Parses the eight colon-separated fields; nil when malformed.
    public init?(_ text: some StringProtocol) {
        let f = text.split(separator: ":", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard f.count == 8 else { return nil }
        switch f[0] {
        case "*": ipVersion = nil
        case "4": ipVersion = 4
        case "6": ipVersion = 6
        default: return nil
        }
        var ttlText = Substring(f[1])
        badTTL = ttlText.hasSuffix("-")
        if let plus = ttlText.firstIndex(where: { $0 == "+" || $0 == "-" }) { ttlText = ttlText[..<plus] }
        guard let ttl = Int(ttlText) else { return nil }
        ittl = ttl
        guard let olen = Int(f[2]) else { return nil }
        ipOptionsLength = olen
        if f[3] == "*" { mss = nil } else if let m = Int(f[3]) { mss = m } else { return nil }
        let ws = f[4].split(separator: ",", omittingEmptySubsequences: false)
        guard ws.count == 2 else { return nil }
        let w = ws[0]
        if w == "*" {
            window = .any
        } else if w.hasPrefix("mss*"), let n = Int(w.dropFirst(4)) {
            window = .mss(n)
        } else if w.hasPrefix("mtu*"), let n = Int(w.dropFirst(4)) {
            window = .mtu(n)
        } else if w.hasPrefix("%"), let n = Int(w.dropFirst()), n > 0 {
            window = .modulo(n)
        } else if let n = Int(w) {
            window = .value(n)
        } else {
            return nil
        }
        if ws[1] == "*" { windowScale = nil } else if let s = Int(ws[1]) { windowScale = s } else { return nil }
        layout = f[5].isEmpty ? [] : f[5].split(separator: ",").map(String.init)
        quirks = Set(f[6].split(separator: ",").map(String.init))
        switch f[7] {
        case "0": payload = false
        case "+": payload = true
        case "*": payload = nil
        default: return nil
        }
    }

    /// How well a database pattern (`self`) matches an observed raw signature.
    public enum Match: Int, Sendable, Comparable {
        case none = 0
        /// Matches only with a TTL beyond the usual hop distance or with quirks p0f tolerates changing (df and id+
        /// gone, id- and ecn added).
        case fuzzy = 1
        case exact = 2
        public static func < (a: Match, b: Match) -> Bool { a.rawValue < b.rawValue }
    }

    /// The window in bytes: a raw signature may write it as a multiple of its MSS or MTU.
    public var windowValue: Int? {
        switch window {
        case .value(let v): v
        case .mss(let n): mss.map { n * $0 }
        case .mtu(let n): mss.map { n * ($0 + (ipVersion == 6 ? 60 : 40)) }
        case .any, .modulo: nil
        }
    }

    /// The furthest hop distance p0f assumes between the initial and the observed TTL.
    public static let maxDistance = 35

    /// p0f's matching semantics: the options layout, IP options length and wildcard fields must agree; the window
    /// may be a multiple of the MSS or the MTU; a TTL above the pattern's initial TTL or more than `maxDistance` below
    /// it, or tolerated quirk drift, makes the match fuzzy.
    public func match(_ observed: P0fPattern, observedTTL: Int) -> Match {
        if let v = ipVersion, let ov = observed.ipVersion, v != ov { return .none }
        guard layout == observed.layout, ipOptionsLength == observed.ipOptionsLength else { return .none }
        var fuzzy = false
        if quirks != observed.quirks {
            let deleted = quirks.subtracting(observed.quirks)
            let added = observed.quirks.subtracting(quirks)
            guard deleted.isSubset(of: ["df", "id+"]), added.isSubset(of: ["id-", "ecn"]) else { return .none }
            fuzzy = true
        }
        if badTTL {
            if ittl < observedTTL { return .none }
        } else if ittl < observedTTL || ittl - observedTTL > Self.maxDistance {
            fuzzy = true
        }
        if let m = mss, m != observed.mss { return .none }
        if let s = windowScale, s != observed.windowScale { return .none }
        if let p = payload, let op = observed.payload, p != op { return .none }
        guard let win = observed.windowValue else { return .none }
        switch window {
        case .any: break
        case .value(let v): if v != win { return .none }
        case .modulo(let n): if win % n != 0 { return .none }
        case .mss(let n):
            guard let m = observed.mss, m > 0, n * m == win else { return .none }
        case .mtu(let n):
            guard let m = observed.mss, m > 0 else { return .none }
            let mtu = m + (observed.ipVersion == 6 ? 60 : 40)
            if n * mtu != win { return .none }
        }
        return fuzzy ? .fuzzy : .exact
    }
}
