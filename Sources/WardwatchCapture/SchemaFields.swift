/// Decoded values shaped to the observation schema's field rules (schemas/observation.v1.schema.json). A record
/// that breaks them goes to the dead-letter topic in `wardwatch process`, so one odd byte in damaged or
/// nonconforming traffic would lose the whole observation; here such a field is mended or left out instead.
enum SchemaFields {
    /// A DICOM UID (PS3.5 9.1): 1 to 64 characters, digits in dot-separated components. Anything else is nil.
    static func dicomUID(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.count <= 64 else { return nil }
        var previousWasDot = true
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                if previousWasDot { return nil }
                previousWasDot = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                previousWasDot = false
            } else {
                return nil
            }
        }
        return previousWasDot ? nil : text
    }

    /// An AE title or implementation version name: 1 to 16 printable ASCII characters (the decoder has trimmed the
    /// padding and replaced what is not printable by "?"). A longer one is nil.
    static func dicomShortText(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.count <= 16 else { return nil }
        return text
    }

    /// A TLS server name: control characters, spaces and DEL become "?" (a host name has none); one longer than
    /// 255 bytes is nil.
    static func serverName(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.count <= 255 else { return nil }
        guard text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return text }
        return String(decoding: text.utf8.map { $0 <= 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }

    /// An XML local name as the schema takes it (a letter or "_", then letters, digits, ".", "_" or "-"; at most 256
    /// bytes): any other byte becomes "_". The field is required, so it is mended, never left out.
    static func xmlName(_ text: String) -> String {
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            if letter || byte == UInt8(ascii: "_") { return true }
            return !first && ((byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-"))
        }
        let mended = text.utf8.prefix(256).enumerated().map { allowed($1, first: $0 == 0) ? $1 : UInt8(ascii: "_") }
        if mended.isEmpty { return "_" }
        return mended.elementsEqual(text.utf8) ? text : String(decoding: mended, as: UTF8.self)
    }

    /// A VLAN id, 1 to 4094 (0 means none, 4095 is reserved); anything else is nil.
    static func vlanID(_ value: UInt16?) -> Int? {
        guard let value, (1...4094).contains(value) else { return nil }
        return Int(value)
    }
}
