/// The JA4 TLS client fingerprint (FoxIO, BSD-3-Clause; technical_details/JA4.md), for example
/// `t13d1516h2_8daaf6152771_e5627efa2ab1`. Only JA4 itself: the other JA4+ methods are under a non-commercial licence.
public enum JA4 {
    /// What carried the hello: the fingerprint's first character.
    public enum Transport: Sendable {
        /// TLS over TCP: `t`.
        case tcp
        /// QUIC: `q`.
        case quic
        /// DTLS: `d`.
        case dtls
    }

    /// The fingerprint: `a_b_c`, where `a` is transport, version, SNI flag, cipher and extension counts and ALPN; `b`
    /// the truncated SHA-256 of the sorted cipher suites; `c` that of the sorted extensions (without SNI and ALPN)
    /// and the signature algorithms in wire order. GREASE values are ignored throughout.
    public static func fingerprint(of hello: TLSClientHello, transport: Transport = .tcp) -> String {
        let parts = Parts(hello, transport: transport, originalOrder: false)
        return parts.a + "_" + hash12(parts.ciphers) + "_" + hash12(parts.extensionsAndSignatures)
    }

    /// The raw fingerprint before hashing: JA4_r, or JA4_ro with `originalOrder` (wire order, SNI and ALPN kept).
    public static func rawFingerprint(of hello: TLSClientHello, transport: Transport = .tcp, originalOrder: Bool = false)
        -> String
    {
        let parts = Parts(hello, transport: transport, originalOrder: originalOrder)
        return parts.a + "_" + parts.ciphers + "_" + parts.extensionsAndSignatures
    }

    /// The fingerprint with cipher suites and extensions in wire order: JA4_o.
    public static func originalOrderFingerprint(of hello: TLSClientHello, transport: Transport = .tcp) -> String {
        let parts = Parts(hello, transport: transport, originalOrder: true)
        return parts.a + "_" + hash12(parts.ciphers) + "_" + hash12(parts.extensionsAndSignatures)
    }

    /// The two-character version code: `13`, `12`, `11`, `10`, `s3`, `s2`, `d1`, `d2`, `d3`, or `00` when unknown.
    public static func versionCode(_ version: UInt16) -> String {
        switch version {
        case 0x0304: "13"
        case 0x0303: "12"
        case 0x0302: "11"
        case 0x0301: "10"
        case 0x0300: "s3"
        case 0x0002: "s2"
        case 0xFEFF: "d1"
        case 0xFEFD: "d2"
        case 0xFEFC: "d3"
        default: "00"
        }
    }

    /// The version JA4 reports: the highest non-GREASE supported_versions entry where the extension is present,
    /// else the hello's legacy_version.
    public static func version(of hello: TLSClientHello) -> UInt16 {
        guard hello.hasExtension(TLS.ExtensionType.supportedVersions) else { return hello.legacyVersion }
        // The numerically highest, as the spec and the reference implementations take it (for DTLS, whose
        // versions count down, that is the oldest one offered).
        return hello.supportedVersions.filter { !TLS.isGREASE($0) }.max() ?? hello.legacyVersion
    }

    /// The two ALPN characters: the first and last character of the first protocol when both are ASCII letters or
    /// digits (a one-byte protocol gives its character twice); otherwise the first and last hex digit of the
    /// protocol's bytes; `00` without ALPN or with an empty first protocol.
    public static func alpnCode(_ firstProtocol: [UInt8]?) -> String {
        guard let name = firstProtocol, let first = name.first, let last = name.last else { return "00" }
        func isAlphanumeric(_ c: UInt8) -> Bool {
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
        }
        if isAlphanumeric(first) && isAlphanumeric(last) { return String(decoding: [first, last], as: UTF8.self) }
        return String(decoding: [hexDigits[Int(first >> 4)], hexDigits[Int(last & 0x0F)]], as: UTF8.self)
    }

    private struct Parts {
        var a: String
        var ciphers: String
        var extensionsAndSignatures: String

        init(_ hello: TLSClientHello, transport: Transport, originalOrder: Bool) {
            var ciphers = hello.cipherSuites.filter { !TLS.isGREASE($0) }
            var extensions = hello.extensions.map(\.type).filter { !TLS.isGREASE($0) }
            let signatures = hello.signatureAlgorithms.filter { !TLS.isGREASE($0) }
            let hasSNI = hello.hasExtension(TLS.ExtensionType.serverName)

            var a: String =
                switch transport {
                case .tcp: "t"
                case .quic: "q"
                case .dtls: "d"
                }
            a += versionCode(version(of: hello))
            a += hasSNI ? "d" : "i"
            a += twoDigits(ciphers.count)
            a += twoDigits(extensions.count)
            a += alpnCode(hello.hasExtension(TLS.ExtensionType.alpn) ? hello.alpnProtocols.first : nil)
            self.a = a

            if !originalOrder {
                ciphers.sort()
                extensions.removeAll { $0 == TLS.ExtensionType.serverName || $0 == TLS.ExtensionType.alpn }
                extensions.sort()
            }
            self.ciphers = hexList(ciphers)
            if extensions.isEmpty {
                extensionsAndSignatures = ""
            } else if signatures.isEmpty {
                extensionsAndSignatures = hexList(extensions)
            } else {
                extensionsAndSignatures = hexList(extensions) + "_" + hexList(signatures)
            }
        }
    }

    /// The first 12 hex digits of the SHA-256 of `text`, or `000000000000` for an empty list.
    private static func hash12(_ text: String) -> String {
        guard !text.isEmpty else { return "000000000000" }
        return String(SHA256Hasher.hexDigest(text.utf8).prefix(12))
    }

    private static func twoDigits(_ n: Int) -> String {
        let n = min(max(n, 0), 99)
        return String(decoding: [UInt8(0x30 + n / 10), UInt8(0x30 + n % 10)], as: UTF8.self)
    }

    /// Comma-separated 4-digit lowercase hex.
    private static func hexList(_ values: [UInt16]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(values.count * 5)
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(0x2C) }
            out.append(hexDigits[Int(v >> 12)])
            out.append(hexDigits[Int((v >> 8) & 0x0F)])
            out.append(hexDigits[Int((v >> 4) & 0x0F)])
            out.append(hexDigits[Int(v & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
