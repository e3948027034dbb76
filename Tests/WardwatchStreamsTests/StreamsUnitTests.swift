import Foundation
import Testing
import WardwatchKafka
@testable import WardwatchStreams

@Suite("Windows, stores and tasks without a broker")
struct StreamsUnitTests {
    @Test("tumbling and hopping windows contain the right starts; a window closes after its end plus grace")
    func windows() {
        let tumbling = TimeWindows.tumbling(size: 60_000, grace: 5_000)
        #expect(tumbling.windowStarts(containing: 0) == [0])
        #expect(tumbling.windowStarts(containing: 59_999) == [0])
        #expect(tumbling.windowStarts(containing: 60_000) == [60_000])
        #expect(tumbling.windowStarts(containing: -1) == [-60_000])
        let hopping = TimeWindows.hopping(size: 60_000, advance: 20_000)
        #expect(hopping.windowStarts(containing: 65_000) == [20_000, 40_000, 60_000])
        #expect(!tumbling.isClosed(start: 0, streamTime: 64_999))
        #expect(tumbling.isClosed(start: 0, streamTime: 65_000))
        #expect(!tumbling.isClosed(start: 0, streamTime: .min))
    }

    @Test("a store's changelog restores an equal store; hasApplied guards re-delivered records; TTL deletes in event time")
    func storeChangelog() throws {
        let spec = StoreSpec.keyValue("s", of: Int64.self, codec: .int64, timeToLive: 10_000)
        let store = try #require(spec.make() as? KeyValueStore<Int64>)
        store.setCurrent(offset: 5, timestamp: 1_000)
        store.put("a", 1)
        store.put("b", 2)
        store.setCurrent(offset: 6, timestamp: 2_000)
        store.put("a", 3)
        store.delete("b")
        let changes = store.takeChanges()
        #expect(changes.map { String(decoding: $0.key, as: UTF8.self) } == ["a", "b"])
        #expect(changes[1].value == nil)
        #expect(store.takeChanges().isEmpty)

        let restored = try #require(spec.make() as? KeyValueStore<Int64>)
        for change in changes { try restored.restore(key: change.key[...], value: change.value?[...]) }
        #expect(restored.get("a") == 3 && restored.get("b") == nil && restored.count == 1)
        restored.setCurrent(offset: 6, timestamp: 2_000)
        #expect(restored.hasApplied("a"), "offset 6 wrote a: re-delivering offset 6 must not apply it again")
        restored.setCurrent(offset: 7, timestamp: 2_500)
        #expect(!restored.hasApplied("a"))

        restored.expire(streamTime: 11_999)
        #expect(restored.get("a") == 3)
        restored.expire(streamTime: 13_000)  // the next sweep is due one eighth of the TTL after the last
        #expect(restored.get("a") == 3)
        restored.expire(streamTime: 13_249)
        #expect(restored.get("a") == nil)
        #expect(restored.takeChanges().first?.value == nil, "expiry writes a tombstone")
        #expect(throws: (any Error).self) { try restored.restore(key: [1], value: [1, 2][...]) }
    }

    @Test("windowed count: counts per key and window, keeps late records out, sends bad records to dead letters")
    func windowedCount() throws {
        let windows = TimeWindows.tumbling(size: 60_000, grace: 10_000)
        let topology = WindowedCountProcessor.topology(applicationId: "t", input: "in", output: "out", windows: windows)
        let engine = StreamEngine(topology: topology, deadLetterTopic: "dlq")
        func record(_ key: String?, _ ts: Int64, offset: Int64) -> ConsumerRecord {
            ConsumerRecord(
                topic: "in", partition: 0, offset: offset, timestamp: ts, key: key.map { Array($0.utf8)[...] },
                value: [1][...], headers: [])
        }
        let records = [
            record("a", 1_000, offset: 0), record("a", 2_000, offset: 1), record("b", 59_000, offset: 2),
            record("a", 75_000, offset: 3),  // stream time 75 s: window [0, 60 s) closes at 70 s
            record("a", 30_000, offset: 4),  // late: kept out
            record(nil, 76_000, offset: 5),  // no key: dead letter
            record("a", 61_000, offset: 6),
        ]
        let result = engine.process(records: records)
        #expect(result.late == 1)
        #expect(result.deadLetters == 1)
        let values = result.outputs.filter { $0.topic == "out" }.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(values == [
            #"{"count":1,"key":"a","window_end":60000,"window_start":0}"#,
            #"{"count":2,"key":"a","window_end":60000,"window_start":0}"#,
            #"{"count":1,"key":"b","window_end":60000,"window_start":0}"#,
            #"{"count":1,"key":"a","window_end":120000,"window_start":60000}"#,
            #"{"count":2,"key":"a","window_end":120000,"window_start":60000}"#,
        ])
        let dead = try #require(result.outputs.first { $0.topic == "dlq" })
        let reason = try JSONSerialization.jsonObject(with: Data(dead.value ?? [])) as? [String: Any]
        #expect(reason?["source_offset"] as? Int == 5)
        #expect((reason?["reason"] as? String)?.contains("no key") == true)
        let changelog = engine.takeChangelog()
        #expect(changelog.allSatisfy { $0.topic == "t-window-counts-changelog" && $0.partition == 0 })
        #expect(Set(changelog.map { String(decoding: $0.key ?? [], as: UTF8.self) }) == ["a@0", "b@0", "a@60000"])
        #expect(engine.commitOffsets() == [TopicPartitionOffset("in", 0, 7)])
    }

    @Test("punctuations run once per interval of stream time crossed, in order, without any wall clock")
    func punctuation() {
        struct Ticker: StreamProcessor {
            mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws {}
            mutating func punctuate(streamTime: Int64, context: ProcessorContext) {
                context.forward(to: "ticks", key: nil, value: Array("\(streamTime)".utf8), timestamp: streamTime)
            }
        }
        let topology = Topology(
            applicationId: "p", sourceTopics: ["in"], stores: [], outputs: ["ticks": "ticks"], punctuationInterval: 1_000
        ) { [Ticker()] }
        let engine = StreamEngine(topology: topology, deadLetterTopic: "dlq")
        let records = [500, 900, 3_200, 3_100, 4_000].enumerated().map { index, ts in
            ConsumerRecord(topic: "in", partition: 0, offset: Int64(index), timestamp: Int64(ts), key: [1][...], value: [1][...], headers: [])
        }
        let ticks = engine.process(records: records).outputs.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(ticks == ["1000", "2000", "3000", "4000"])
        let idle = engine.advanceAll(to: 6_500).map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(idle == ["5000", "6000"], "an idle partition's stream time can be moved on")
    }
}
