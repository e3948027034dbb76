import Testing
import WardwatchDecoders
@testable import WardwatchCapture

@Suite("Flow index")
struct FlowIndexTests {
    /// Keys over a small space, so that inserts and removes of the same keys interleave.
    static func key(_ n: Int) -> FlowKey {
        let source = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0x0A00_0000 + UInt32(n % 997))), port: UInt16(40000 + n / 997))
        let server = FlowEndpoint(address: FlowAddress(IPv4Address(value: 0xC0A8_0001)), port: 443)
        return FlowKey.of(source: source, destination: server, transport: 6, vlan: nil, sourceMAC: nil).key
    }

    /// Drives the index as the flow table does (a dense array of keys; a removed key's slot takes the last one) and
    /// checks it against a dictionary after every step.
    @Test("finds every key, and only those, through random inserts and removes that grow and shrink it", arguments: [1, 2, 3])
    func matchesDictionary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var index = FlowIndex(seed: (random.next(), random.next(), random.next(), random.next()))
        var slots: [FlowKey] = []
        var model: [FlowKey: Int] = [:]
        func lookup(_ key: FlowKey) -> (bucket: Int, slot: Int)? {
            index.find(hash: index.hash(key)) { slots[$0] == key }
        }
        var largest = 0
        for step in 0..<30_000 {
            // Inserts outweigh removes for the first half, then removes do: the index grows, then empties.
            let inserting = random.next() % 100 < (step < 15_000 ? 70 : 30)
            let key = Self.key(Int(random.next() % 5_000))
            if inserting, model[key] == nil {
                index.insert(hash: index.hash(key), slot: slots.count) { slots[$0] }
                model[key] = slots.count
                slots.append(key)
            } else if !inserting, let found = lookup(key) {
                let slot = found.slot
                #expect(model[key] == slot)
                index.remove(at: found.bucket)
                model[key] = nil
                let last = slots.count - 1
                if slot != last {
                    slots.swapAt(slot, last)
                    index.move(hash: index.hash(slots[slot]), from: last, to: slot)
                    model[slots[slot]] = slot
                }
                slots.removeLast()
            }
            largest = max(largest, slots.count)
            #expect(index.count == model.count)
            if step % 500 == 0 {
                for (key, slot) in model { #expect(lookup(key)?.slot == slot) }
                for n in 0..<5_000 where model[Self.key(n)] == nil { #expect(lookup(Self.key(n)) == nil) }
            }
        }
        for (key, slot) in model { #expect(lookup(key)?.slot == slot) }
        #expect(largest > 1_000)  // grew well past its first 64 buckets
    }

    @Test("a key's hash depends on the index's seed")
    func seeded() {
        let key = Self.key(7)
        #expect(FlowIndex(seed: (1, 2, 3, 4)).hash(key) == FlowIndex(seed: (1, 2, 3, 4)).hash(key))
        #expect(FlowIndex(seed: (1, 2, 3, 4)).hash(key) != FlowIndex(seed: (5, 6, 7, 8)).hash(key))
    }
}
