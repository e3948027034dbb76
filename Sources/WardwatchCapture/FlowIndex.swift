/// The flow table's index from key to slot: open addressing with linear probing over a power-of-two array of
/// buckets, at most half full. A bucket holds the upper 32 bits of its key's hash and the slot number plus one (0 is
/// an empty bucket); keys themselves stay in the table's slots, which the caller compares through `matches`.
///
/// One multiply-fold hash of the key's four words (instead of `Hasher`'s SipHash, a fifth of the capture's flow
/// accounting), seeded at random for each index: a sender who chooses addresses and ports cannot aim many flows at
/// one bucket without the seed. Removal shifts the following buckets back, so no tombstones build up under churn.
struct FlowIndex: Sendable {
    private var buckets: [UInt64]
    /// log2 of the bucket count (at most 32: a bucket's home is the top `bits` of its 32-bit hash tag).
    private var bits: Int
    private(set) var count = 0
    private let seed: (UInt64, UInt64, UInt64, UInt64)

    init(seed: (UInt64, UInt64, UInt64, UInt64)? = nil) {
        bits = 6
        buckets = Array(repeating: 0, count: 1 << bits)
        var random = SystemRandomNumberGenerator()
        self.seed = seed ?? (random.next(), random.next(), random.next(), random.next())
    }

    /// The high and low words of a full 64-bit product, folded together.
    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// The key's hash, of the words `FlowKey.hash(into:)` feeds `Hasher`.
    @inline(__always)
    func hash(_ key: FlowKey) -> UInt64 {
        let words = key.hashWords
        let addresses = Self.fold(words.0 ^ seed.0, words.1 ^ seed.1)
        let rest = Self.fold(words.2 ^ seed.2, words.3 ^ seed.3)
        return Self.fold(addresses ^ rest ^ seed.0, 0x9FB2_1C65_1E98_DF25)
    }

    @inline(__always)
    private func home(ofTag tag: UInt64) -> Int { Int(truncatingIfNeeded: tag >> (32 - bits)) }

    /// The bucket of the key with `hash` for which `matches(slot)` is true, and its slot.
    @inline(__always)
    func find(hash: UInt64, matches: (Int) -> Bool) -> (bucket: Int, slot: Int)? {
        let tag = hash >> 32
        let mask = buckets.count - 1
        var position = home(ofTag: tag)
        while true {
            let bucket = buckets[position]
            if bucket == 0 { return nil }
            if bucket >> 32 == tag, matches(Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1) {
                return (position, Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1)
            }
            position = (position + 1) & mask
        }
    }

    /// The bucket that holds `slot`, for a key with `hash` that is present.
    private func bucket(of slot: Int, hash: UInt64) -> Int {
        find(hash: hash) { $0 == slot }!.bucket
    }

    /// Adds a key known to be absent. `keyOfSlot` gives every present slot's key, to rehash when the index grows.
    mutating func insert(hash: UInt64, slot: Int, keyOfSlot: (Int) -> FlowKey) {
        precondition(slot >= 0 && slot < 0xFFFF_FFFF, "flow slot out of range")
        if (count + 1) * 2 > buckets.count { grow(keyOfSlot: keyOfSlot) }
        place(tag: hash >> 32, slot: slot)
        count += 1
    }

    private mutating func place(tag: UInt64, slot: Int) {
        let mask = buckets.count - 1
        var position = home(ofTag: tag)
        while buckets[position] != 0 { position = (position + 1) & mask }
        buckets[position] = tag << 32 | UInt64(slot + 1)
    }

    private mutating func grow(keyOfSlot: (Int) -> FlowKey) {
        precondition(bits < 32, "flow index full")
        let old = buckets
        bits += 1
        buckets = Array(repeating: 0, count: 1 << bits)
        for bucket in old where bucket != 0 {
            let slot = Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1
            place(tag: hash(keyOfSlot(slot)) >> 32, slot: slot)
        }
    }

    /// Empties the bucket at `position`, shifting back the buckets after it that probed past it.
    mutating func remove(at position: Int) {
        let mask = buckets.count - 1
        var hole = position
        var next = (position + 1) & mask
        while buckets[next] != 0 {
            let home = home(ofTag: buckets[next] >> 32)
            // The bucket at `next` may move into the hole when its home is not in the cyclic range (hole, next].
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
        count -= 1
    }

    /// Points the key with `hash`, now held in slot `to`, away from slot `from`.
    mutating func move(hash: UInt64, from: Int, to: Int) {
        let position = bucket(of: from, hash: hash)
        buckets[position] = buckets[position] & 0xFFFF_FFFF_0000_0000 | UInt64(to + 1)
    }
}
