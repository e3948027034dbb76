/// The first bytes of one direction of a TCP connection, in sequence order: enough for the application decoders that
/// identify a device (TLS and DICOM handshakes, HTTP heads, the first HL7 messages), never the whole stream.
/// Retransmissions are dropped, out-of-order segments are held (bounded) until the gap fills.
public struct StreamPrefix: Sendable {
    /// Bytes kept at most.
    public let limit: Int
    public private(set) var bytes: [UInt8] = []
    private var nextSequence: UInt32?
    private var pending: [(sequence: UInt32, data: [UInt8])] = []
    /// True once `limit` bytes are kept or the caller has decided (`finish`): later segments are ignored.
    public private(set) var isFinished = false
    /// True between `takeFirst` and `keep`: the stream's first bytes are the caller's, not yet in `bytes`.
    private var firstLent = false

    public init(limit: Int = 65536) { self.limit = limit }

    /// Notes a SYN: data starts at its sequence number + 1.
    public mutating func start(synSequence: UInt32) {
        if nextSequence == nil { nextSequence = synSequence &+ 1 }
    }

    /// Adds a segment's payload; returns true when new contiguous bytes were appended.
    public mutating func add(sequence: UInt32, payload: UnsafeRawBufferPointer) -> Bool {
        guard !isFinished, !payload.isEmpty else { return false }
        if nextSequence == nil { nextSequence = sequence }  // joined mid-stream: start here
        let before = bytes.count
        insert(sequence: sequence, data: payload)
        // Drain held segments that now fit.
        var progressed = true
        while progressed && !pending.isEmpty && !isFinished {
            progressed = false
            for (i, segment) in pending.enumerated() where Self.distance(from: nextSequence!, to: segment.sequence) <= 0 {
                pending.remove(at: i)
                segment.data.withUnsafeBytes { insert(sequence: segment.sequence, data: $0) }
                progressed = true
                break
            }
        }
        return bytes.count > before
    }

    /// The bytes of a segment that starts the stream while nothing is kept (in order, none held), for the caller to
    /// read where they lie: the part of `payload` that `add` would append. The prefix moves on as `add` would, but
    /// copies nothing until `keep`. Nil when the segment must go through `add`.
    public mutating func takeFirst(sequence: UInt32, payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard !isFinished, bytes.isEmpty, pending.isEmpty, !payload.isEmpty, nextSequence == nil || nextSequence == sequence
        else { return nil }
        let fresh = UnsafeRawBufferPointer(rebasing: payload.prefix(limit))
        nextSequence = sequence &+ UInt32(truncatingIfNeeded: fresh.count)
        if fresh.count >= limit { isFinished = true }
        firstLent = true
        return fresh
    }

    /// Copies in the bytes `takeFirst` returned, unless `finish` came since: the prefix is then as `add` would have
    /// left it.
    public mutating func keep(_ first: UnsafeRawBufferPointer) {
        guard firstLent else { return }
        firstLent = false
        bytes = Array(first)
    }

    /// Bytes held: the contiguous prefix and the segments waiting for a gap to fill.
    public var heldBytes: Int { pending.isEmpty ? bytes.count : pending.reduce(bytes.count) { $0 + $1.data.count } }

    /// Stops collecting and frees the bytes.
    public mutating func finish() {
        isFinished = true
        firstLent = false
        bytes = []
        pending = []
    }

    private mutating func insert(sequence: UInt32, data: UnsafeRawBufferPointer) {
        guard let expected = nextSequence else { return }
        let offset = Self.distance(from: expected, to: sequence)
        if offset > 0 {
            // A gap: hold the segment, within bounds (at most 16 segments and `limit` bytes ahead).
            if pending.count < 16 && offset < limit && !pending.contains(where: { $0.sequence == sequence }) {
                pending.append((sequence, Array(data)))
            }
            return
        }
        let skip = Int(-offset)
        guard skip < data.count else { return }  // entirely a retransmission
        let room = limit - bytes.count
        let fresh = data[skip...].prefix(room)
        bytes.append(contentsOf: fresh)
        nextSequence = expected &+ UInt32(truncatingIfNeeded: fresh.count)
        if bytes.count >= limit { isFinished = true; pending = [] }
    }

    /// Signed distance between sequence numbers, modulo 2^32.
    static func distance(from a: UInt32, to b: UInt32) -> Int64 { Int64(Int32(bitPattern: b &- a)) }
}
