import Testing
import WardwatchIdentity

@Suite struct StackDatabaseTests {
    static let db: TCPStackDatabase = {
        var db = TCPStackDatabase()
        db.load(text: """
            [tcp:request]
            label = s:unix:Linux:3.11 and newer
            sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0
            label = g:win:Windows:generic
            sig   = *:128:0:*:%8192,*:mss,nop,ws,nop,nop,sok:df,id+:0
            label = s:win:Windows:7 or 8
            sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0
            label = s:unix:Solaris:10
            sig   = *:64:0:*:mtu*2,*:mss,nop,ws:df,id+:0
            label = s:!:nmap:
            sig   = *:64-:0:265:%512,*:mss,nop,ws:df,id+:0
            """, source: "test")
        return db
    }()

    @Test func exactSpecificWinsOverGeneric() throws {
        let r = try #require(Self.db.match(signature: "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0", observedTTL: 128, isResponse: false))
        #expect(r.label.description == "Windows 7 or 8" && r.quality == .exact)
        let g = try #require(Self.db.match(signature: "4:128+0:0:1460:16384,2:mss,nop,ws,nop,nop,sok:df,id+:0", observedTTL: 120, isResponse: false))
        #expect(g.label.generic && g.label.name == "Windows")
    }

    @Test func windowAsMultipleOfMSSAndMTU() throws {
        #expect(Self.db.match(signature: "4:64+0:0:1460:29200,10:mss,sok,ts,nop,ws:df,id+:0", observedTTL: 64, isResponse: false)?.label.name == "Linux")
        #expect(Self.db.match(signature: "4:64+0:0:1460:29201,10:mss,sok,ts,nop,ws:df,id+:0", observedTTL: 64, isResponse: false) == nil)
        // MTU 1500 = MSS 1460 + 40.
        #expect(Self.db.match(signature: "4:64+0:0:1460:3000,3:mss,nop,ws:df,id+:0", observedTTL: 60, isResponse: false)?.label.name == "Solaris")
    }

    @Test func fuzzyTTLAndQuirks() throws {
        // 64 - 20 = 44 hops, beyond p0f's 35: fuzzy.
        let far = try #require(Self.db.match(signature: "4:64+44:0:1460:29200,10:mss,sok,ts,nop,ws:df,id+:0", observedTTL: 20, isResponse: false))
        #expect(far.quality == .fuzzy)
        // df and id+ gone: tolerated, fuzzy.
        let quirk = try #require(Self.db.match(signature: "4:64+0:0:1460:29200,10:mss,sok,ts,nop,ws::0", observedTTL: 64, isResponse: false))
        #expect(quirk.quality == .fuzzy)
        // A quirk added that p0f does not tolerate: no match.
        #expect(Self.db.match(signature: "4:64+0:0:1460:29200,10:mss,sok,ts,nop,ws:df,id+,ts1-:0", observedTTL: 64, isResponse: false) == nil)
        // Options layout must be equal.
        #expect(Self.db.match(signature: "4:64+0:0:1460:29200,10:mss,sok,ts,ws:df,id+:0", observedTTL: 64, isResponse: false) == nil)
    }

    @Test(.enabled(if: Fixtures.hasP0f)) func debianDatabase() throws {
        let stacks = Fixtures.engine.stacks
        #expect(stacks.requests.count > 50)
        let linux = try #require(stacks.match(signature: "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0", observedTTL: 61, isResponse: false))
        #expect(linux.label.name == "Linux")
        let windows = try #require(stacks.match(signature: "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0", observedTTL: 128, isResponse: false))
        #expect(windows.label.name == "Windows")
    }
}
