import Testing
@testable import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// The certificate summary cache is bounded in bytes: a server may present large, ever-different certificates.
@Suite("Certificate cache")
struct CertificateCacheTests {
    static let endpoints = ConnectionEndpoints(transport: "tcp", localIp: "10.0.0.1", localPort: 443, remoteIp: "10.0.0.2", remotePort: 50000)

    @Test("a real certificate is summarised once and found again; a flood of large distinct ones stays within 8 MiB")
    func boundedInBytes() throws {
        // The first leaf certificate of the TLS fixtures' server flights.
        let leaves = TLSReassemblyTests.realStreams.compactMap { stream -> [UInt8]? in
            let flight = stream.withUnsafeBytes { TLSServerFlight.scan($0) }
            return flight.certificate?.certificates.first
        }
        let leaf = try #require(leaves.first)
        var cache = CertificateCache()
        let made = cache.summary(der: leaf, endpoints: Self.endpoints)
        let first = try #require(made)
        #expect(cache.heldBytes == leaf.count)
        let again = cache.summary(der: leaf, endpoints: Self.endpoints)
        #expect(again == first)
        #expect(cache.heldBytes == leaf.count)  // found, not added again

        var largest = 0
        for i in 0..<300 {
            var der = [UInt8](repeating: 0x30, count: 60_000)
            der[1] = UInt8(i & 0xFF)
            der[2] = UInt8(i >> 8)
            let summary = cache.summary(der: der, endpoints: Self.endpoints)
            #expect(summary == nil)  // not a certificate
            largest = max(largest, cache.heldBytes)
        }
        #expect(largest <= CertificateCache.byteLimit)
        #expect(largest > CertificateCache.byteLimit - 60_000)  // the flood did fill it
    }
}
