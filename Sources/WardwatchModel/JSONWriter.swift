/// Appends JSON as UTF-8 bytes to a reusable buffer, in exactly the dialect of `WardwatchJSON`'s encoder: no
/// whitespace, no escaped slashes, `\"` `\\` `\b` `\f` `\n` `\r` `\t` and `\u00xx` (lowercase hex) for the other
/// control characters, everything else (DEL and all non-ASCII) as is. Callers write an object's keys in sorted order;
/// the writer only places the commas.
///
/// The buffer is raw memory the writer owns (no copy-on-write checks per byte), so the writer cannot be copied.
public struct JSONWriter: ~Copyable, @unchecked Sendable {
    private var bytes: ByteBuffer
    /// True after a value, so the next key or array element is preceded by a comma.
    private var needsComma = false
    /// What `time` wrote for the last two seconds it formatted, from the quote to the dot (`"2023-05-01T12:00:00.`),
    /// the one used last first: observations come in time order, and a flow's summary writes its first packet's time
    /// between two later ones.
    private var recentSeconds = (TimePrefix(), TimePrefix())
    /// The day of the last second `time` formatted.
    private var recentDay = DayPrefix()

    public init(capacity: Int = 4096) {
        bytes = ByteBuffer(capacity: capacity)
    }

    /// Bytes written so far.
    public var count: Int { bytes.count }

    /// A copy of the bytes written so far.
    public var written: [UInt8] { bytes.withBytes { Array($0) } }

    /// The bytes written so far, without copying them.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try bytes.withBytes(body) }

    /// Forgets the bytes, keeping the buffer's capacity.
    public mutating func reset() {
        bytes.count = 0
        needsComma = false
    }

    /// Forgets the bytes from `count` on (`count` is a value `count` had after a whole value or record).
    mutating func truncate(to count: Int) {
        precondition(count >= 0 && count <= bytes.count, "truncating past the end")
        bytes.count = count
        needsComma = false
    }

    /// Ends a record with a newline (JSON lines).
    public mutating func newline() {
        bytes.append(0x0A)
        needsComma = false
    }

    /// Appends `text`'s UTF-8 bytes as they are: no quotes, no escaping, no comma.
    public mutating func appendRaw(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ bytes.append(UnsafeRawBufferPointer($0)) }) == nil {
            var copy = text
            copy.withUTF8 { bytes.append(UnsafeRawBufferPointer($0)) }
        }
    }

    /// Appends at most `maxLength` bytes that `body` writes in place and counts: no quotes, no escaping, no comma.
    @inline(__always)
    public mutating func appendRaw(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        bytes.appendInPlace(maxLength: maxLength, body)
    }

    /// Writes a JSON string whose text `body` writes in place (at most `maxLength` bytes, none that needs escaping:
    /// addresses, digits) and counts.
    @inline(__always)
    public mutating func plainString(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        bytes.appendInPlace(maxLength: maxLength, body)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes a value already encoded as JSON (see `EncodedJSON`): its bytes as they are.
    @inline(__always)
    public mutating func encoded(_ json: UnsafeRawBufferPointer) {
        separator()
        bytes.append(json)
        needsComma = true
    }

    /// Writes members whose text `body` writes in place and counts (at most `maxLength` bytes: keys and values as
    /// JSON, commas between them, none before the first), after a comma where one is due.
    @inline(__always)
    public mutating func membersInPlace(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        separator()
        bytes.appendInPlace(maxLength: maxLength, body)
        needsComma = true
    }

    /// Starts members written apart from any object (see `DeviceEnvelope`): the next key gets no comma.
    mutating func beginMembers() { needsComma = false }

    /// Writes members already encoded (`"a":1,"b":2`, see `DeviceEnvelope`) among an object's, after a comma where
    /// one is due.
    @inline(__always)
    mutating func members(_ json: UnsafeRawBufferPointer) {
        separator()
        bytes.append(json)
        needsComma = true
    }

    /// Appends bytes as they are: no quotes, no escaping, no comma.
    @inline(__always)
    mutating func appendRaw(_ raw: UnsafeRawBufferPointer) { bytes.append(raw) }

    /// Writes a JSON string whose text is a plain constant (no character that needs escaping).
    @inline(__always)
    public mutating func plainString(_ text: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        raw(text)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    // MARK: Structure

    @inline(__always)
    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        bytes.append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separator()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"name":`. `name` is a plain key (no character that needs escaping), given in sorted order.
    @inline(__always)
    public mutating func key(_ name: StaticString) {
        bytes.appendKey(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), comma: needsComma)
        needsComma = false
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        separator()
        appendQuoted(value)
        needsComma = true
    }

    /// Writes the JSON string of `text` read as UTF-8, ill-formed sequences replaced: what
    /// `string(String(decoding: text, as: UTF8.self))` writes, with no `String` made when the text is ASCII.
    public mutating func string(utf8 text: UnsafeRawBufferPointer) {
        separator()
        if !appendPlainQuoted(text, asciiOnly: true) {
            // Not plain ASCII: ASCII that needs escaping, or other bytes, read as a String (ill-formed ones replaced).
            if Self.isASCII(text) { appendEscapedQuoted(text) } else { appendQuoted(String(decoding: text, as: UTF8.self)) }
        }
        needsComma = true
    }

    /// `value` quoted and escaped.
    private mutating func appendQuoted(_ value: String) {
        // Native strings lend their bytes in place (a `var` copy for `withUTF8` cost a retain and a release).
        if value.utf8.withContiguousStorageIfAvailable({ appendQuoted(UnsafeRawBufferPointer($0)) }) == nil {
            var copy = value
            copy.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0)) }
        }
    }

    /// `text` (valid UTF-8) quoted and escaped.
    @inline(__always)
    private mutating func appendQuoted(_ text: UnsafeRawBufferPointer) {
        if !appendPlainQuoted(text, asciiOnly: false) { appendEscapedQuoted(text) }
    }

    /// `text` quoted, each byte that needs it escaped.
    private mutating func appendEscapedQuoted(_ text: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        appendEscaped(text.assumingMemoryBound(to: UInt8.self))
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `text` quoted when no byte of it needs escaping (nor has its top bit set, when `asciiOnly`): checked
    /// and copied in one pass, a word at a time. False, with nothing appended, otherwise.
    @inline(__always)
    private mutating func appendPlainQuoted(_ text: UnsafeRawBufferPointer, asciiOnly: Bool) -> Bool {
        guard let source = text.baseAddress else {
            raw("\"\"")
            return true
        }
        let n = text.count
        let high: UInt64 = asciiOnly ? 0x8080_8080_8080_8080 : 0
        var plain = true
        bytes.appendInPlace(maxLength: n + 2) { out in
            out[0] = UInt8(ascii: "\"")
            let target = UnsafeMutableRawPointer(out + 1)
            if n < 8 {
                for i in 0..<n {
                    let byte = source.load(fromByteOffset: i, as: UInt8.self)
                    if byte < 0x20 || byte == 0x22 || byte == 0x5C || (asciiOnly && byte >= 0x80) {
                        plain = false
                        return 0
                    }
                    target.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
                }
            } else {
                // Whole words, then the last eight bytes (overlapping the words before them).
                var i = 0
                while true {
                    let at = min(i, n - 8)
                    let word = source.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                    if word & high != 0 || Self.mayNeedEscape(word) {
                        plain = false
                        return 0
                    }
                    target.storeBytes(of: word, toByteOffset: at, as: UInt64.self)
                    if at == n - 8 { break }
                    i += 8
                }
            }
            out[n + 1] = UInt8(ascii: "\"")
            return n + 2
        }
        return plain
    }

    public mutating func bool(_ value: Bool) {
        separator()
        value ? raw("true") : raw("false")
        needsComma = true
    }

    public mutating func int(_ value: Int) { int64(Int64(value)) }

    public mutating func int64(_ value: Int64) {
        separator()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
        needsComma = true
    }

    public mutating func uint32(_ value: UInt32) {
        separator()
        appendDigits(UInt64(value))
        needsComma = true
    }

    /// RFC 3339, as `EventTime.description` writes it, as a JSON string.
    public mutating func time(_ time: EventTime) {
        separator()
        let micros = ((time.microseconds % 1_000_000) + 1_000_000) % 1_000_000
        let totalSeconds = (time.microseconds - micros) / 1_000_000
        if totalSeconds != recentSeconds.0.second {
            if totalSeconds == recentSeconds.1.second {
                swap(&recentSeconds.0, &recentSeconds.1)
            } else {
                recentSeconds.1 = recentSeconds.0
                recentSeconds.0 = formatSecond(totalSeconds)
            }
        }
        let prefix = recentSeconds.0
        guard prefix.length > 0 else {
            // A time whose prefix is too long to keep (a year past 9999 or before 0): written as it is made.
            writeSecond(totalSeconds)
            appendMicroseconds(micros)
            needsComma = true
            return
        }
        // The prefix's three words and the digits' one, stored whole; the count moves by the bytes that are text.
        let digits = Self.microsecondsAndClose(micros)
        bytes.appendInPlace(maxLength: MemoryLayout<(UInt64, UInt64, UInt64)>.size + 8) { target in
            let raw = UnsafeMutableRawPointer(target)
            raw.storeBytes(of: prefix.words.0, as: UInt64.self)
            raw.storeBytes(of: prefix.words.1, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: prefix.words.2, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: digits, toByteOffset: prefix.length, as: UInt64.self)
            return prefix.length &+ 8
        }
        needsComma = true
    }

    /// The text of one second from the quote to the dot, kept for `time`.
    private struct TimePrefix {
        var second = Int64.min
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        /// Bytes of `words` that are text; 0 when the text is longer than the words.
        var length = 0
    }

    /// The prefix of `totalSeconds`: its day's text (kept for the last day made), then `hh:mm:ss.` from digit pairs.
    private mutating func formatSecond(_ totalSeconds: Int64) -> TimePrefix {
        let secondsOfDay = ((totalSeconds % 86_400) + 86_400) % 86_400
        let days = (totalSeconds - secondsOfDay) / 86_400
        if days != recentDay.day { recentDay = formatDay(days) }
        var prefix = TimePrefix(second: totalSeconds)
        let day = recentDay
        // The day's text and the clock's nine bytes must fit the prefix's 24: the day's at most 15.
        guard day.length > 0, day.length <= 15 else { return prefix }
        let seconds = Int(truncatingIfNeeded: secondsOfDay)
        let colon = UInt64(UInt8(ascii: ":"))
        let clock = Self.pair(seconds / 3600) | colon << 16 | Self.pair(seconds % 3600 / 60) << 24 | colon << 40
            | Self.pair(seconds % 60) << 48
        withUnsafeMutableBytes(of: &prefix.words) { raw in
            raw.storeBytes(of: day.words.0, as: UInt64.self)
            raw.storeBytes(of: day.words.1, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: clock, toByteOffset: day.length, as: UInt64.self)
            raw.storeBytes(of: UInt8(ascii: "."), toByteOffset: day.length + 8, as: UInt8.self)
        }
        prefix.length = day.length + 9
        return prefix
    }

    /// The text of one day from the quote to the `T` (`"2023-05-01T`), kept for `formatSecond`.
    private struct DayPrefix {
        var day = Int64.min
        var words: (UInt64, UInt64) = (0, 0)
        /// Bytes of `words` that are text; 0 when the text is longer than the words.
        var length = 0
    }

    /// The prefix of day `days` after 1970, made by writing it and taking it back.
    private mutating func formatDay(_ days: Int64) -> DayPrefix {
        let start = bytes.count
        writeDay(days)
        var prefix = DayPrefix(day: days)
        let length = bytes.count - start
        if length <= MemoryLayout<(UInt64, UInt64)>.size {
            bytes.withBytes { written in
                withUnsafeMutableBytes(of: &prefix.words) {
                    $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: written[start..<start + length]))
                }
            }
            prefix.length = length
        }
        bytes.count = start
        return prefix
    }

    /// Writes `"2023-05-01T` for day `days` after 1970.
    private mutating func writeDay(_ days: Int64) {
        bytes.append(UInt8(ascii: "\""))
        let (y, m, d) = EventTime.civil(fromDays: days)
        padded(y, 4)
        bytes.append(UInt8(ascii: "-"))
        padded(m, 2)
        bytes.append(UInt8(ascii: "-"))
        padded(d, 2)
        bytes.append(UInt8(ascii: "T"))
    }

    /// Writes `"2023-05-01T12:00:00.` for the second `totalSeconds` after 1970 (a time whose prefix is not kept).
    private mutating func writeSecond(_ totalSeconds: Int64) {
        let secondsOfDay = ((totalSeconds % 86_400) + 86_400) % 86_400
        writeDay((totalSeconds - secondsOfDay) / 86_400)
        padded(secondsOfDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        padded(secondsOfDay % 3600 / 60, 2)
        bytes.append(UInt8(ascii: ":"))
        padded(secondsOfDay % 60, 2)
        bytes.append(UInt8(ascii: "."))
    }

    public mutating func stringArray(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    public mutating func intArray(_ values: [Int]) { integerArray(values) }

    /// An array of integers of any width (code points as a decoder holds them).
    public mutating func integerArray<Numbers: Sequence>(_ values: Numbers) where Numbers.Element: BinaryInteger {
        beginArray()
        for value in values { int64(Int64(value)) }
        endArray()
    }

    // MARK: Optional members: nothing at all when absent, as the synthesized Codable conformances do.

    /// A text member (a `String`, or text written from where it lies), left out when absent.
    @inline(__always)
    public mutating func member<Text: JSONText>(_ name: StaticString, _ value: Text?) {
        guard let value else { return }
        key(name)
        value.writeJSONString(to: &self)
    }

    @inline(__always)
    public mutating func member(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    // MARK: Bytes

    /// Digits of `value`, most significant first. Eight digits at a time: each group of eight is made in a register
    /// from four pairs of a table of "00" to "99" (32-bit divisions that do not wait on each other), then stored at
    /// once; the leading group is shifted to drop its leading zeros.
    @inline(__always)
    private mutating func appendDigits(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(truncatingIfNeeded: value) &+ 48)
        } else if value < 100_000_000 {
            let (digits, n) = Self.leadingDigits(UInt32(truncatingIfNeeded: value))
            bytes.appendInPlace(maxLength: 8) { target in
                UnsafeMutableRawPointer(target).storeBytes(of: digits, as: UInt64.self)
                return n
            }
        } else {
            appendLongDigits(value)
        }
    }

    #if _endian(big)
    #error("eightDigits lays digits out for a little-endian machine")
    #endif

    /// `appendDigits` for values of nine digits or more.
    private mutating func appendLongDigits(_ value: UInt64) {
        let (high, low) = value.quotientAndRemainder(dividingBy: 100_000_000)
        let lowDigits = Self.eightDigits(UInt32(truncatingIfNeeded: low))
        if high < 100_000_000 {
            let (digits, n) = Self.leadingDigits(UInt32(truncatingIfNeeded: high))
            bytes.appendInPlace(maxLength: 16) { target in
                let raw = UnsafeMutableRawPointer(target)
                raw.storeBytes(of: digits, as: UInt64.self)
                raw.storeBytes(of: lowDigits, toByteOffset: n, as: UInt64.self)
                return n &+ 8
            }
        } else {
            // 17 to 20 digits: the top (at most 1844) then two groups of eight.
            let (top, middle) = high.quotientAndRemainder(dividingBy: 100_000_000)
            let (digits, n) = Self.leadingDigits(UInt32(truncatingIfNeeded: top))
            bytes.appendInPlace(maxLength: 24) { target in
                let raw = UnsafeMutableRawPointer(target)
                raw.storeBytes(of: digits, as: UInt64.self)
                raw.storeBytes(of: Self.eightDigits(UInt32(truncatingIfNeeded: middle)), toByteOffset: n, as: UInt64.self)
                raw.storeBytes(of: lowDigits, toByteOffset: n &+ 8, as: UInt64.self)
                return n &+ 16
            }
        }
    }

    /// The eight digits of `x` (below 100,000,000, zero-padded) as ASCII in a word, the first digit in its lowest
    /// byte (stored as is on a little-endian machine, they read in order).
    @inline(__always)
    private static func eightDigits(_ x: UInt32) -> UInt64 {
        let (high, low) = (x / 10_000, x % 10_000)
        func pair(_ p: UInt32) -> UInt64 { Self.pair(Int(p)) }
        return pair(high / 100) | pair(high % 100) << 16 | pair(low / 100) << 32 | pair(low % 100) << 48
    }

    /// The two digits of `p` (0 to 99) as ASCII in the low bytes of a word, in order.
    @inline(__always)
    private static func pair(_ p: Int) -> UInt64 {
        UInt64(UnsafeRawPointer(digitPairs.utf8Start).loadUnaligned(fromByteOffset: p &* 2, as: UInt16.self))
    }

    /// The digits of `x` (below 100,000,000) without leading zeros, in the low bytes of a word in order, and how many.
    @inline(__always)
    private static func leadingDigits(_ x: UInt32) -> (word: UInt64, count: Int) {
        let n = digitCount(x)
        return (eightDigits(x) >> (64 &- 8 &* UInt64(n)), n)
    }

    /// How many decimal digits `x` (below 100,000,000) has; 1 for 0.
    @inline(__always)
    private static func digitCount(_ x: UInt32) -> Int {
        var n = 1
        if x >= 10 { n &+= 1 }
        if x >= 100 { n &+= 1 }
        if x >= 1_000 { n &+= 1 }
        if x >= 10_000 { n &+= 1 }
        if x >= 100_000 { n &+= 1 }
        if x >= 1_000_000 { n &+= 1 }
        if x >= 10_000_000 { n &+= 1 }
        return n
    }

    /// "00" to "99", back to back.
    private static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// The six digits of `micros` (0 to 999,999), then `Z"`: eight bytes written in place after one room check.
    @inline(__always)
    private mutating func appendMicroseconds(_ micros: Int64) {
        let word = Self.microsecondsAndClose(micros)
        bytes.appendInPlace(maxLength: 8) { target in
            UnsafeMutableRawPointer(target).storeBytes(of: word, as: UInt64.self)
            return 8
        }
    }

    /// The six digits of `micros` (0 to 999,999) then `Z"`, as the eight bytes of a word in order.
    @inline(__always)
    private static func microsecondsAndClose(_ micros: Int64) -> UInt64 {
        eightDigits(UInt32(truncatingIfNeeded: micros)) >> 16 | UInt64(UInt8(ascii: "Z")) << 48 | UInt64(UInt8(ascii: "\"")) << 56
    }

    /// `value` in decimal, left-padded with zeros to `width` characters (a minus sign counts as one, as in
    /// `EventTime.description`).
    private mutating func padded(_ value: Int64, _ width: Int) {
        var length = value < 0 ? 2 : 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        for _ in length..<max(width, length) { bytes.append(UInt8(ascii: "0")) }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    /// Appends UTF-8 text, escaped for a JSON string: runs of plain bytes are copied at once.
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let base = utf8.baseAddress else { return }
        var runStart = 0
        var i = 0
        let count = utf8.count
        while i < count {
            // Eight bytes at a time while none needs escaping (the common case: addresses, names, digits).
            while i + 8 <= count, !Self.mayNeedEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) { i += 8 }
            guard i < count else { break }
            let byte = base[i]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                i += 1
                continue
            }
            if runStart < i { bytes.append(UnsafeRawBufferPointer(start: base + runStart, count: i - runStart)) }
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22: bytes.append(UInt8(ascii: "\""))
            case 0x5C: bytes.append(UInt8(ascii: "\\"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                raw("u00")
                bytes.append(Self.hexDigit(byte >> 4))
                bytes.append(Self.hexDigit(byte & 0x0F))
            }
            i += 1
            runStart = i
        }
        if runStart < count { bytes.append(UnsafeRawBufferPointer(start: base + runStart, count: count - runStart)) }
    }
}

extension JSONWriter {
    /// True when no byte has its top bit set: text whose JSON string is its bytes, escaped.
    public static func isASCII(_ text: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= text.count {
            if text.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < text.count {
            if text[i] & 0x80 != 0 { return false }
            i += 1
        }
        return true
    }

    /// True when some byte of the word may be a control character, `"` or `\` (never false when one is; may be true
    /// when none is, as a borrow from a lower byte can mark a higher one).
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        let control = (word &- ones &* 0x20) & ~word & highs != 0  // some byte below 0x20
        return control || hasZero(word ^ (ones &* 0x22)) || hasZero(word ^ (ones &* 0x5C))
    }

    /// The lowercase hex digit of a nibble (0 to 15).
    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }
}

/// Growable raw bytes owned by one writer.
struct ByteBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        let n = bytes.count
        if count + n > capacity { grow(to: count + n) }
        Self.copy(n, from: source, to: UnsafeMutableRawPointer(base + count))
        count += n
    }

    /// Copies `n` bytes. Most appends are a few bytes (keys, numbers, addresses): two overlapping word copies
    /// instead of a call to memmove.
    @inline(__always)
    private static func copy(_ n: Int, from source: UnsafeRawPointer, to target: UnsafeMutableRawPointer) {
        if n >= 8 && n <= 16 {
            target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (target + n - 8).storeBytes(of: (source + n - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else if n >= 4 && n < 8 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            (target + n - 4).storeBytes(of: (source + n - 4).loadUnaligned(as: UInt32.self), as: UInt32.self)
        } else if n < 4 {
            for i in 0..<n { target.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        } else {
            target.copyMemory(from: source, byteCount: n)
        }
    }

    /// Appends `"name":`, after a comma when `comma`: one room check for the whole key (keys are most of the
    /// appends).
    @inline(__always)
    mutating func appendKey(_ name: UnsafeRawBufferPointer, comma: Bool) {
        let n = name.count
        if count + n + 4 > capacity { grow(to: count + n + 4) }
        var target = base + count
        if comma {
            target[0] = UInt8(ascii: ",")
            target += 1
        }
        target[0] = UInt8(ascii: "\"")
        if let source = name.baseAddress { Self.copy(n, from: source, to: UnsafeMutableRawPointer(target + 1)) }
        target[n + 1] = UInt8(ascii: "\"")
        target[n + 2] = UInt8(ascii: ":")
        count = target + n + 3 - base
    }

    /// Appends what `body` writes at the end (at most `maxLength` bytes) and counts.
    @inline(__always)
    mutating func appendInPlace(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + maxLength > capacity { grow(to: count + maxLength) }
        let written = body(base + count)
        precondition(written >= 0 && written <= maxLength, "wrote past the room asked for")
        count += written
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}
