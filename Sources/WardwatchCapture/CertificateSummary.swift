import Crypto
import Foundation
import WardwatchDecoders
import WardwatchModel
import X509
import _CryptoExtras

/// What a server certificate says about the device that presents it, parsed with swift-certificates.
enum CertificateSummary {
    /// Summarises a DER certificate; nil where it does not parse.
    static func summarise(der: [UInt8], endpoints: ConnectionEndpoints) -> TLSCertificateObservation? {
        guard let certificate = try? Certificate(derEncoded: der) else { return nil }
        let (keyType, keyBits) = keyFacts(certificate.publicKey)
        let selfSigned = certificate.subject == certificate.issuer
            && certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        var names: [String] = []
        if let sans = try? certificate.extensions.subjectAlternativeNames {
            for name in sans {
                switch name {
                case .dnsName(let dns): names.append(dns)
                case .ipAddress(let bytes): names.append(ipText(Array(bytes.bytes)))
                case .rfc822Name(let mail): names.append(mail)
                case .uniformResourceIdentifier(let uri): names.append(uri)
                default: continue
                }
            }
        }
        return TLSCertificateObservation(
            connection: endpoints, subject: certificate.subject.description, issuer: certificate.issuer.description,
            serialNumber: hexString(certificate.serialNumber.bytes), notBefore: rfc3339(certificate.notValidBefore),
            notAfter: rfc3339(certificate.notValidAfter), keyType: keyType, keyBits: keyBits, selfSigned: selfSigned,
            sha256: hexString(Array(Crypto.SHA256.hash(data: der))), subjectAltNames: names)
    }

    static func keyFacts(_ key: Certificate.PublicKey) -> (String, Int?) {
        if let rsa = _RSA.Signing.PublicKey(key) { return ("rsa", rsa.keySizeInBits) }
        if P256.Signing.PublicKey(key) != nil { return ("ec", 256) }
        if P384.Signing.PublicKey(key) != nil { return ("ec", 384) }
        if P521.Signing.PublicKey(key) != nil { return ("ec", 521) }
        if Curve25519.Signing.PublicKey(key) != nil { return ("ed25519", 256) }
        return ("unknown", nil)
    }

    static func rfc3339(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let text = EventTime(seconds: seconds, microseconds: 0).description  // ...T08:00:00.000000Z
        return String(text.prefix(19)) + "Z"
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes.count == 16 {
            var high: UInt64 = 0
            var low: UInt64 = 0
            for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
            for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
            return IPv6Address(high: high, low: low).description
        }
        return hexString(bytes)
    }
}

/// Values made once per key and remembered. Bounded in entries and, where keys are large, in the bytes they weigh
/// together: emptied when full, which costs only the misses that refill it.
struct BoundedMemo<Key: Hashable, Value> {
    let capacity: Int
    let weightLimit: Int
    private var values: [Key: Value] = [:]
    /// What the remembered keys weigh together (as the caller weighs them).
    private(set) var weight = 0

    init(capacity: Int, weightLimit: Int = .max) {
        self.capacity = capacity
        self.weightLimit = weightLimit
    }

    /// The value remembered for `key`, or the one `make` makes (then remembered unless `weight` alone is over the
    /// limit).
    mutating func value(for key: Key, weight keyWeight: Int = 0, make: () -> Value) -> Value {
        if let cached = values[key] { return cached }
        let made = make()
        guard keyWeight <= weightLimit else { return made }
        if values.count >= capacity || weight > weightLimit - keyWeight {
            values.removeAll(keepingCapacity: true)
            weight = 0
        }
        values[key] = made
        weight += keyWeight
        return made
    }
}

extension BoundedMemo: Sendable where Key: Sendable, Value: Sendable {}

/// Summaries of recently seen certificates by their DER bytes: a server presents the same certificate on every
/// connection, and parsing one (with its self-signature check) costs far more than a lookup. Keys are whole
/// certificates (up to 64 KiB each from a hostile server), so the cache is bounded in bytes too.
struct CertificateCache {
    /// Bytes of DER the cache keeps at most: 8 MiB.
    static let byteLimit = 8 << 20
    private var summaries = BoundedMemo<DER, TLSCertificateObservation?>(capacity: 1024, weightLimit: CertificateCache.byteLimit)

    /// Bytes of DER kept now.
    var heldBytes: Int { summaries.weight }

    /// DER bytes as a key, hashed in one go (an array of bytes would feed the hasher a byte at a time).
    struct DER: Hashable {
        var bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    /// `CertificateSummary.summarise`, remembered; the summary carries this connection's endpoints.
    mutating func summary(der: [UInt8], endpoints: ConnectionEndpoints) -> TLSCertificateObservation? {
        guard var summary = summaries.value(for: DER(bytes: der), weight: der.count, make: { CertificateSummary.summarise(der: der, endpoints: endpoints) })
        else { return nil }
        summary.connection = endpoints
        return summary
    }
}

/// A SYN signature's texts, made once per distinct signature: hosts open many connections with the same stack.
struct SignatureTextCache {
    /// As JSON, encoded once per distinct signature.
    struct Texts {
        var signature: EncodedJSON
        var options: EncodedJSON
        var quirks: EncodedJSON
    }

    private var texts = BoundedMemo<P0fSignature, Texts>(capacity: 4096)

    mutating func texts(_ signature: P0fSignature) -> Texts {
        texts.value(for: signature) {
            Texts(
                signature: EncodedJSON(signature.description), options: EncodedJSON(signature.layout.map(\.description)),
                quirks: EncodedJSON(signature.quirks.description.split(separator: ",").map(String.init)))
        }
    }
}

/// JA4 fingerprints by everything they are computed from, made once per distinct ClientHello shape: a device sends
/// the same hello on every connection, and JA4's two SHA-256 hashes were most of a hello's cost.
struct JA4Cache {
    /// Every input of `JA4.fingerprint(of:)` over TCP: the version comes from the legacy version and the supported
    /// versions (used when that extension is present), SNI and ALPN presence from the extension types.
    struct Key: Hashable {
        var legacyVersion: UInt16
        var cipherSuites: [UInt16]
        var extensionTypes: [UInt16]
        var supportedVersions: [UInt16]
        var signatureAlgorithms: [UInt16]
        var firstALPN: [UInt8]?

        /// Each list hashed as its bytes with its length (not element by element), in one hasher.
        func hash(into hasher: inout Hasher) {
            func combine(_ list: [UInt16]) {
                hasher.combine(list.count)
                list.withUnsafeBytes { hasher.combine(bytes: $0) }
            }
            hasher.combine(legacyVersion)
            combine(cipherSuites)
            combine(extensionTypes)
            combine(supportedVersions)
            combine(signatureAlgorithms)
            hasher.combine(firstALPN?.count ?? -1)
            firstALPN?.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private var fingerprints = BoundedMemo<Key, String>(capacity: 4096)

    /// The hello's JA4; `extensionTypes` is `hello.extensionTypes`, made once by the caller.
    mutating func fingerprint(_ hello: TLSClientHello, extensionTypes: [UInt16]) -> String {
        let key = Key(
            legacyVersion: hello.legacyVersion, cipherSuites: hello.cipherSuites, extensionTypes: extensionTypes,
            supportedVersions: hello.supportedVersions, signatureAlgorithms: hello.signatureAlgorithms,
            firstALPN: hello.alpnProtocols.first)
        return fingerprints.value(for: key) { JA4.fingerprint(of: hello) }
    }
}

/// Texts the connection analyzers would otherwise make again and again, owned by the extractor.
struct AnalyzerCaches {
    var certificates = CertificateCache()
    var signatures = SignatureTextCache()
    var ja4 = JA4Cache()
    var macTexts = MACTexts()
    var streams = StreamBudget(limit: StreamBudget.defaultLimit)
}

/// Bytes held for the decoders at once (connection prefixes, TLS messages in the making), over every connection the
/// extractor analyses. Each direction keeps at most 64 KiB until its decoder decides, and up to 20,000 connections are analysed, so without a bound a sender
/// holding many connections open with data no decoder finishes with (an MLLP frame that never ends, say) could make
/// the sensor hold gigabytes. While the limit is reached, a direction that sends payload stops being analysed
/// instead, and its bytes are let go; so does, at the flow table's next sweep, a direction holding bytes that has sent
/// no payload for `stallTimeout` of packet time (a holder cannot keep the budget by going quiet). Both count in `cut`.
struct StreamBudget {
    /// 64 MiB: a thousand directions holding a full prefix at once (a direction usually decides within a few KiB).
    static let defaultLimit = 64 << 20
    /// 10 s of packet time.
    static let stallTimeout: Int64 = 10_000_000
    let limit: Int
    /// Bytes held now: the prefixes' own counts and the capacity of TLS messages in the making (allocations of the
    /// prefixes are somewhat larger).
    var held = 0
    /// Directions whose analysis was given up because the budget was spent.
    var cut = 0

    var isSpent: Bool { held >= limit }
}
