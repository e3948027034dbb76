/// MLLP, the HL7 minimal lower layer protocol: a start block 0x0B, the message, an end block 0x1C 0x0D.
public enum MLLP {
    public static let startBlock: UInt8 = 0x0B
    public static let endBlock: UInt8 = 0x1C
    public static let carriageReturn: UInt8 = 0x0D
}

/// The identity fields of an HL7 v2 message carried over MLLP, found by framing on any TCP port.
///
/// Privacy: HL7 v2 messages carry patient data. The decoder scans segment names and copies the bytes of these
/// fields only: MSH-1 and MSH-2 (separators), MSH-3 to MSH-6 (applications and facilities), MSH-9 (message type),
/// MSH-11 (processing id), MSH-12 (version id), and the device identifiers PRT-10 (participation device), PRT-16
/// (UDI device identifier) and OBX-18 (equipment instance identifier). No other segment or field (PID, NK1, PV1,
/// OBX-5 values, MSH-10 control id, ...) is ever copied into a value, and errors carry no message content.
public struct HL7Message: Equatable, Sendable {
    /// A device identifier and the field it came from.
    public struct DeviceIdentifier: Hashable, Sendable {
        public enum Field: String, Sendable {
            /// PRT-10, participation device (v2.7+): a device identifier, or the UDI human readable form.
            case prt10 = "PRT-10"
            /// PRT-16, UDI device identifier (v2.8+).
            case prt16 = "PRT-16"
            /// OBX-18, equipment instance identifier.
            case obx18 = "OBX-18"
        }

        public var field: Field
        /// One repetition of the field, components kept (`^`), escape sequences as sent.
        public var value: String

        public init(field: Field, value: String) {
            self.field = field
            self.value = value
        }
    }

    /// MSH-1, normally "|".
    public var fieldSeparator: String
    /// MSH-2, normally "^~\&" (component, repetition, escape, subcomponent; v2.7 may add a truncation character).
    public var encodingCharacters: String
    /// MSH-3 to MSH-6 and MSH-9, MSH-11, MSH-12: the field as sent (components kept, escape sequences as-is);
    /// nil where the field is empty, absent from a short MSH, or cut by the end of the buffer.
    public var sendingApplication: String?
    public var sendingFacility: String?
    public var receivingApplication: String?
    public var receivingFacility: String?
    /// MSH-9, for example "ADT^A01" or "ORU^R01^ORU_R01".
    public var messageType: String?
    /// MSH-11: P production, T training, D debugging.
    public var processingID: String?
    /// MSH-12, for example "2.3" or "2.5.1".
    public var versionID: String?
    /// PRT-10, PRT-16 and OBX-18 values in message order, one per repetition, duplicates removed.
    public var deviceIdentifiers: [DeviceIdentifier]
    /// True where the end block was seen; false for a message cut by the end of the buffer (a message split over
    /// TCP segments), where only fields wholly inside the buffer are decoded.
    public var isComplete: Bool
    /// Bytes of the buffer the frame used, start and end blocks included.
    public var frameLength: Int

    public enum DecodeError: Error, Equatable, Sendable {
        /// Too few bytes for "0x0B MSH" and the separators.
        case truncated
        /// No MLLP start block.
        case notMLLP
        /// The frame does not start with an MSH segment.
        case notMSH
        /// Separators that are not printable, distinct punctuation.
        case badEncodingCharacters
    }

    /// Longest text kept from one field.
    public static let maximumFieldLength = 256
    /// Most device identifiers kept from one message.
    public static let maximumDeviceIdentifiers = 32
    /// Most messages `decodeAll` returns from one buffer.
    public static let maximumMessagesPerBuffer = 64

    /// True where `bytes` (a TCP payload) starts with an MLLP start block followed by "MSH" and a field separator.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 5, bytes[0] == MLLP.startBlock, bytes[1] == 0x4D, bytes[2] == 0x53, bytes[3] == 0x48
        else { return false }
        return isSeparator(bytes[4])
    }

    /// Decodes the MLLP-framed message at the start of `bytes`.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<HL7Message, DecodeError> {
        decodeFrame(bytes, at: 0)
    }

    /// Decodes the MLLP frames that follow each other from the start of `bytes`; stops at the first that does not
    /// decode or is not complete.
    public static func decodeAll(_ bytes: UnsafeRawBufferPointer) -> [HL7Message] {
        var messages: [HL7Message] = []
        var offset = 0
        while offset < bytes.count, messages.count < maximumMessagesPerBuffer {
            guard case .success(let message) = decodeFrame(bytes, at: offset) else { break }
            messages.append(message)
            guard message.isComplete, message.frameLength > 0 else { break }
            offset += message.frameLength
        }
        return messages
    }

    static func decodeFrame(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Result<HL7Message, DecodeError> {
        guard let first = bytes.readUInt8(at: start) else { return .failure(.truncated) }
        guard first == MLLP.startBlock else { return .failure(.notMLLP) }
        let body = start + 1
        guard body + 4 <= bytes.count else { return .failure(.truncated) }
        guard bytes[body] == 0x4D, bytes[body + 1] == 0x53, bytes[body + 2] == 0x48 else {
            return .failure(.notMSH)
        }
        let fs = bytes[body + 3]
        guard isSeparator(fs) else { return .failure(.badEncodingCharacters) }

        // The message ends at the end block, or at the end of the buffer when the frame is cut.
        let end = bytes.index(of: MLLP.endBlock, from: body)
        let complete = end < bytes.count
        var frameEnd = end
        if complete {
            frameEnd += 1
            if bytes.readUInt8(at: frameEnd) == MLLP.carriageReturn { frameEnd += 1 }
        }

        // MSH: tokens after the n-th field separator are MSH-(n+1); token 1 is MSH-2, the encoding characters.
        let msh = Segment(bytes: bytes, start: body, end: segmentEnd(bytes, from: body, to: end), limit: end,
            messageComplete: complete, separator: fs)
        var msh2: Range<Int>?
        var mshFields = [Range<Int>?](repeating: nil, count: 12)
        msh.tokens(upTo: 11) { index, range in
            if index == 1 { msh2 = range } else if index >= 2 { mshFields[index] = range }
        }
        guard let msh2 else { return .failure(.truncated) }
        guard let encoding = encodingCharacters(bytes, msh2, fieldSeparator: fs) else {
            return .failure(.badEncodingCharacters)
        }
        let repetition: UInt8? = encoding.count >= 2 ? encoding[1] : nil

        var message = HL7Message(
            fieldSeparator: String(decoding: [fs], as: UTF8.self),
            encodingCharacters: String(decoding: encoding, as: UTF8.self),
            sendingApplication: text(bytes, mshFields[2]), sendingFacility: text(bytes, mshFields[3]),
            receivingApplication: text(bytes, mshFields[4]), receivingFacility: text(bytes, mshFields[5]),
            messageType: text(bytes, mshFields[8]), processingID: text(bytes, mshFields[10]),
            versionID: text(bytes, mshFields[11]), deviceIdentifiers: [], isComplete: complete,
            frameLength: frameEnd - start)

        // The other segments: only the three-letter name is looked at, and only PRT and OBX are read further.
        var segmentStart = msh.end + 1
        while segmentStart < end {
            let segEnd = segmentEnd(bytes, from: segmentStart, to: end)
            var nameStart = segmentStart
            while nameStart < segEnd, bytes[nameStart] == 0x0A { nameStart += 1 }  // "\r\n" separators
            if segEnd - nameStart >= 4, bytes[nameStart + 3] == fs {
                let segment = Segment(bytes: bytes, start: nameStart, end: segEnd, limit: end,
                    messageComplete: complete, separator: fs)
                let a = bytes[nameStart], b = bytes[nameStart + 1], c = bytes[nameStart + 2]
                if a == 0x50, b == 0x52, c == 0x54 {  // PRT
                    segment.tokens(upTo: 16) { index, range in
                        if index == 10 { message.addDevice(.prt10, bytes, range, repetition) }
                        if index == 16 { message.addDevice(.prt16, bytes, range, repetition) }
                    }
                } else if a == 0x4F, b == 0x42, c == 0x58 {  // OBX
                    segment.tokens(upTo: 18) { index, range in
                        if index == 18 { message.addDevice(.obx18, bytes, range, repetition) }
                    }
                }
            }
            segmentStart = segEnd + 1
        }
        return .success(message)
    }

    /// One segment: `start..<end`, ending at a carriage return or at `limit`, the end of the message's bytes.
    struct Segment {
        let bytes: UnsafeRawBufferPointer
        let start: Int
        let end: Int
        let limit: Int
        let messageComplete: Bool
        let separator: UInt8

        /// Whether the segment's last byte is known: a carriage return or the end block follows it.
        var isTerminated: Bool { end < limit || messageComplete }

        /// Calls `body` with the range of each token after the n-th field separator, n from 1 to `maxIndex`.
        /// A token cut by the end of the buffer is not reported.
        func tokens(upTo maxIndex: Int, _ body: (Int, Range<Int>) -> Void) {
            var index = 0
            var tokenStart = start
            var i = start
            while i <= end, index <= maxIndex {
                if i == end || bytes[i] == separator {
                    if index >= 1, i < end || isTerminated { body(index, tokenStart..<i) }
                    index += 1
                    tokenStart = i + 1
                }
                i += 1
            }
        }
    }

    static func segmentEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, to limit: Int) -> Int {
        var i = start
        while i < limit, bytes[i] != MLLP.carriageReturn { i += 1 }
        return i
    }

    /// A separator: printable ASCII punctuation.
    static func isSeparator(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        let isDigit = byte >= 0x30 && byte <= 0x39
        let isLetter = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
        return !isDigit && !isLetter
    }

    /// MSH-2: one to five distinct separators, none equal to the field separator.
    static func encodingCharacters(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, fieldSeparator: UInt8)
        -> [UInt8]?
    {
        guard range.count >= 1, range.count <= 5 else { return nil }
        var out: [UInt8] = []
        for i in range {
            let byte = bytes[i]
            guard isSeparator(byte), byte != fieldSeparator, !out.contains(byte) else { return nil }
            out.append(byte)
        }
        return out
    }

    mutating func addDevice(
        _ field: DeviceIdentifier.Field, _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ repetition: UInt8?
    ) {
        var repetitionStart = range.lowerBound
        var i = range.lowerBound
        while i <= range.upperBound {
            if i == range.upperBound || bytes[i] == repetition {
                if let value = Self.text(bytes, repetitionStart..<i), deviceIdentifiers.count < Self.maximumDeviceIdentifiers {
                    let identifier = DeviceIdentifier(field: field, value: value)
                    if !deviceIdentifiers.contains(identifier) { deviceIdentifiers.append(identifier) }
                }
                repetitionStart = i + 1
            }
            i += 1
        }
    }

    /// The field's bytes as text: at most `maximumFieldLength` bytes, control characters replaced by "?", invalid
    /// UTF-8 replaced; nil for an absent or empty field.
    static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>?) -> String? {
        guard let range, !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bytes.count else { return nil }
        let end = min(range.upperBound, range.lowerBound + maximumFieldLength)
        var out = [UInt8]()
        out.reserveCapacity(end - range.lowerBound)
        for i in range.lowerBound..<end {
            let byte = bytes[i]
            out.append(byte < 0x20 || byte == 0x7F ? 0x3F : byte)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
