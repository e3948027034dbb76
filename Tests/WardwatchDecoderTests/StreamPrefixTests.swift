import Testing
import WardwatchCapture

/// A segment that starts a stream is lent to the decoders where it lies (`takeFirst`) and copied in only if they want
/// more (`keep`): the prefix must end as `add` alone would have left it.
@Suite("Stream prefix")
struct StreamPrefixTests {
    /// One cut of a stream into segments: in order, with retransmissions, overlaps and segments out of order.
    static func segments(of stream: [UInt8], start: UInt32, random: inout SplitMix64) -> [(UInt32, [UInt8])] {
        var out: [(UInt32, [UInt8])] = []
        var offset = 0
        while offset < stream.count {
            let length = 1 + Int(random.next() % 700)
            let end = min(stream.count, offset + length)
            out.append((start &+ UInt32(offset), Array(stream[offset..<end])))
            switch random.next() % 8 {
            case 0: out.append(out[out.count - 1])  // a retransmission
            case 1 where out.count >= 2: out.swapAt(out.count - 1, out.count - 2)  // out of order
            case 2 where offset > 0: out.append((start &+ UInt32(offset - 1), Array(stream[(offset - 1)..<end])))  // overlap
            default: break
            }
            offset = end
        }
        return out
    }

    @Test("lending the first segment, then keeping it, leaves the prefix as adding it does, however the stream is cut")
    func lentFirstSegment() {
        var random = SplitMix64(seed: 17)
        var roundsLent = 0
        for round in 0..<400 {
            let stream = (0..<Int(random.next() % 5000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let start = UInt32(truncatingIfNeeded: random.next())
            let limit = [64, 1000, 65536][round % 3]
            var added = StreamPrefix(limit: limit)
            var lent = StreamPrefix(limit: limit)
            if round % 2 == 0 {
                added.start(synSequence: start &- 1)
                lent.start(synSequence: start &- 1)
            }
            var lentCount = 0
            for (sequence, data) in Self.segments(of: stream, start: start, random: &random) {
                let grew = data.withUnsafeBytes { added.add(sequence: sequence, payload: $0) }
                data.withUnsafeBytes { payload in
                    if let first = lent.takeFirst(sequence: sequence, payload: payload) {
                        lentCount += 1
                        #expect(grew, "a lent segment is one that adds bytes")
                        #expect(first.elementsEqual(added.bytes), "the lent bytes are those add kept")
                        lent.keep(first)
                    } else {
                        let lentGrew = lent.add(sequence: sequence, payload: payload)
                        #expect(lentGrew == grew)
                    }
                }
                #expect(lent.bytes == added.bytes)
                #expect(lent.isFinished == added.isFinished)
                #expect(lent.heldBytes == added.heldBytes)
            }
            #expect(lentCount <= 1, "only a segment that starts the stream is lent")
            roundsLent += lentCount
        }
        #expect(roundsLent > 200, "most streams start with a segment in order")
    }

    @Test("a lent segment the decoders finished with is never copied in")
    func finishedWhileLent() {
        var prefix = StreamPrefix(limit: 100)
        let data: [UInt8] = Array(repeating: 7, count: 40)
        data.withUnsafeBytes { payload in
            let first = prefix.takeFirst(sequence: 1000, payload: payload)
            #expect(first?.count == 40)
            prefix.finish()
            if let first { prefix.keep(first) }
        }
        #expect(prefix.bytes.isEmpty)
        #expect(prefix.isFinished)
        // A later segment is ignored, as after any finish.
        let more: [UInt8] = [1, 2, 3]
        let grew = more.withUnsafeBytes { prefix.add(sequence: 1040, payload: $0) }
        #expect(!grew)
    }

    @Test("a first segment longer than the limit is cut to it and finishes the prefix, as add does")
    func firstSegmentPastLimit() {
        var lent = StreamPrefix(limit: 16)
        var added = StreamPrefix(limit: 16)
        let data: [UInt8] = Array(0..<40)
        data.withUnsafeBytes { payload in
            let first = lent.takeFirst(sequence: 5, payload: payload)
            #expect(first.map(Array.init) == Array(data[..<16]))
            #expect(lent.isFinished)
            if let first { lent.keep(first) }
            let grew = added.add(sequence: 5, payload: payload)
            #expect(grew)
        }
        #expect(lent.bytes == added.bytes)
        #expect(lent.isFinished == added.isFinished)
    }
}
