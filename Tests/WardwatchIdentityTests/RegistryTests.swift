import Testing
import WardwatchIdentity

@Suite struct RegistryTests {
    @Test func macBits() throws {
        let random = try #require(MACAddress("da:a1:19:00:11:22"))
        #expect(random.isLocallyAdministered && random.isRandomised && !random.isMulticast)
        let multicast = try #require(MACAddress("01:00:5e:00:00:fb"))
        #expect(multicast.isMulticast && !multicast.isRandomised)
        #expect(MACAddress("00-03-B1-B5-B6-48")?.description == "00:03:b1:b5:b6:48")
        #expect(MACAddress("00:03:b1:b5:b6") == nil)
    }

    @Test(.enabled(if: Fixtures.hasIEEE)) func longestPrefix() throws {
        let registry = Fixtures.engine.registry
        #expect(registry.count > 30_000)
        // MA-S block inside the IEEE RA's own MA-L 70-B3-D5.
        #expect(registry.organization(MACAddress("70:b3:d5:36:a0:01")!) == "Becton Dickinson")
        #expect(registry.organization(MACAddress("00:03:b1:b5:b6:48")!)?.hasPrefix("ICU Medical") == true)
        #expect(registry.lookup(MACAddress("02:00:00:00:00:01")!) == .locallyAdministered)
        #expect(registry.lookup(MACAddress("33:33:00:00:00:01")!) == .multicast)
    }

    @Test func registryCSV() {
        var registry = OUIRegistry()
        registry.load(csv: """
            Registry,Assignment,Organization Name,Organization Address
            MA-L,001A01,Smiths Medical,"1265 Grey Fox Road, Arden Hills"
            MA-M,001A01A,"Sub, Block Inc.",Somewhere
            """)
        #expect(registry.organization(MACAddress("00:1a:01:a0:00:01")!) == "Sub, Block Inc.")
        #expect(registry.organization(MACAddress("00:1a:01:b0:00:01")!) == "Smiths Medical")
    }

    @Test func knowledgeBaseEntriesCiteSources() throws {
        let kb = try KnowledgeBase.bundled()
        #expect(kb.manufacturers.count >= 30)
        #expect(kb.rules.count >= 50)
        for m in kb.manufacturers { #expect(!m.sources.isEmpty, "\(m.name) has no source") }
        for r in kb.rules { #expect(!r.source.isEmpty, "\(r.id) has no source") }
        #expect(Set(kb.rules.map(\.id)).count == kb.rules.count)
    }
}
