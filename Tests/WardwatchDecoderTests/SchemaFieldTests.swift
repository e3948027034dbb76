import Foundation
import Testing
@testable import WardwatchCapture
import WardwatchDecoders
import WardwatchModel

/// The rules that keep observations from damaged traffic schema-valid. The end-to-end check (every shared and
/// fixture capture, mutated, through `wardwatch capture` and schemas/validate.py) is Tests/Fuzz/mutated-schema-check.sh,
/// run by `make test` after the Swift tests: it is too CPU-heavy to run beside the timing-sensitive scaling test.
@Suite("Schema field rules")
struct SchemaFieldTests {
    @Test("DICOM UIDs: digits in dot-separated components, 1 to 64 characters; anything else is left out")
    func dicomUIDs() {
        #expect(SchemaFields.dicomUID("1.2.840.10008.3.1.1.1") == "1.2.840.10008.3.1.1.1")
        #expect(SchemaFields.dicomUID("1") == "1")
        #expect(SchemaFields.dicomUID(String(repeating: "1.", count: 31) + "12") != nil)  // 64 characters
        for bad in ["", ".1", "1.", "1..2", "1.2?.3", "1.2.826.0.1.3680043.9.7133.1Y1", "1 .2",
                    String(repeating: "1.", count: 32) + "1", nil] {
            #expect(SchemaFields.dicomUID(bad) == nil, "\(bad ?? "nil")")
        }
    }

    @Test("short texts, server names and VLAN ids")
    func otherFields() {
        #expect(SchemaFields.dicomShortText("STORESCU") == "STORESCU")
        #expect(SchemaFields.dicomShortText(String(repeating: "A", count: 17)) == nil)
        #expect(SchemaFields.dicomShortText("") == nil)
        #expect(SchemaFields.serverName("www.example.org") == "www.example.org")
        #expect(SchemaFields.serverName("api.x\u{0}cs.net") == "api.x?cs.net")
        #expect(SchemaFields.serverName("a b\u{7F}") == "a?b?")
        #expect(SchemaFields.serverName(String(repeating: "a", count: 256)) == nil)
        #expect(SchemaFields.xmlName("ProbeMatches") == "ProbeMatches")
        #expect(SchemaFields.xmlName("ProbeMatche\u{FFFD}") == "ProbeMatche___")
        #expect(SchemaFields.xmlName("9x") == "_x" && SchemaFields.xmlName("") == "_")
        #expect(SchemaFields.vlanID(20) == 20)
        #expect(SchemaFields.vlanID(0) == nil && SchemaFields.vlanID(4095) == nil && SchemaFields.vlanID(26189) == nil)
    }
}
