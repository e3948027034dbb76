import Foundation
import Synchronization
import Testing
@testable import WardwatchKafka

@Suite("Kafka client against the embedded broker", .serialized)
struct KafkaClientTests {
    @Test("produce and consume round trip keeps keys, values, headers and per-key partitioning")
    func roundTrip() async throws {
        let broker = try TestKafka.broker(topics: ["rt": 4])
        let producer = try TestKafka.producer(broker)
        let records = (0..<200).map { i in
            ProducerRecord(
                topic: "rt", key: "device-\(i % 17)", value: Array("value-\(i)".utf8),
                headers: [KafkaHeader("content-type", "application/json"), KafkaHeader("seq", "\(i)")])
        }
        let reports = try await producer.enqueue(records).reports()
        #expect(reports.allSatisfy { $0.error == nil && $0.offset >= 0 })
        await producer.shutdown()

        let consumer = try TestKafka.consumer(broker, group: "rt-group")
        try consumer.subscribe(["rt"])
        let got = try await TestKafka.collect(consumer, count: 200)
        await consumer.close()

        #expect(got.count == 200)
        var partitionOfKey: [String: Int32] = [:]
        for record in got {
            let key = String(decoding: record.key!, as: UTF8.self)
            let seq = Int(String(decoding: record.header("seq")!, as: UTF8.self))!
            #expect(key == "device-\(seq % 17)")
            #expect(String(decoding: record.value!, as: UTF8.self) == "value-\(seq)")
            #expect(record.header("content-type") == Array("application/json".utf8))
            #expect(record.timestamp != nil)
            if let known = partitionOfKey[key] { #expect(known == record.partition) }
            partitionOfKey[key] = record.partition
        }
        #expect(Set(got.map { String(decoding: $0.header("seq")!, as: UTF8.self) }).count == 200)
        #expect(Set(partitionOfKey.values).count > 1)
    }

    @Test("a full queue makes enqueue wait, not fail")
    func backpressure() async throws {
        let broker = try TestKafka.broker(topics: ["bp": 2])
        let producer = try TestKafka.producer(broker, ["queue.buffering.max.messages": "50"])
        let records = (0..<5000).map { ProducerRecord(topic: "bp", key: "k\($0)", value: [UInt8](repeating: 7, count: 100)) }
        let reports = try await producer.enqueue(records).reports()
        #expect(reports.count == 5000)
        #expect(reports.allSatisfy { $0.error == nil })
        await producer.shutdown()
    }

    /// The default eager assignor and the cooperative one (supported, not the default on librdkafka 2.0.2).
    @Test(
        "two consumers in one group split the partitions; the survivor gets all after the other leaves",
        arguments: [KafkaConsumer.defaultAssignmentStrategy, "cooperative-sticky"])
    func groupSplitAndTakeover(strategy: String) async throws {
        let broker = try TestKafka.broker(topics: ["grp": 6])
        let assignedA = Recorder(Set<TopicPartition>())
        let assignedB = Recorder(Set<TopicPartition>())
        func hooks(_ r: Recorder<Set<TopicPartition>>) -> RebalanceHooks {
            RebalanceHooks(
                onAssigned: { parts in r.update { $0.formUnion(parts) } },
                onRevoked: { parts in r.update { $0.subtract(parts) } },
                onLost: { parts in r.update { $0.subtract(parts) } })
        }
        let strategyProperty = ["partition.assignment.strategy": strategy]
        let a = try TestKafka.consumer(broker, group: "split", hooks: hooks(assignedA), strategyProperty)
        try a.subscribe(["grp"])
        #expect(await TestKafka.eventually { assignedA.value.count == 6 })
        let b = try TestKafka.consumer(broker, group: "split", hooks: hooks(assignedB), strategyProperty)
        try b.subscribe(["grp"])
        let split = await TestKafka.eventually {
            let (x, y) = (assignedA.value, assignedB.value)
            return !x.isEmpty && !y.isEmpty && x.isDisjoint(with: y) && x.union(y).count == 6
        }
        #expect(split, "A has \(assignedA.value.count), B has \(assignedB.value.count)")
        #expect(Set(try a.assignment()) == assignedA.value)
        await b.close()
        #expect(await TestKafka.eventually { assignedA.value.count == 6 })
        #expect(assignedB.value.isEmpty)
        await a.close()
    }

    @Test("committed offsets resume after a restart")
    func committedOffsetsResume() async throws {
        let broker = try TestKafka.broker(topics: ["resume": 1])
        let producer = try TestKafka.producer(broker)
        try await producer.send((0..<50).map { ProducerRecord(topic: "resume", key: "k", value: Array("\($0)".utf8)) })
        await producer.shutdown()

        let first = try TestKafka.consumer(broker, group: "resume-group")
        try first.subscribe(["resume"])
        let got = try await TestKafka.collect(first, count: 50)
        #expect(got.count == 50)
        try await first.commit([TopicPartitionOffset("resume", 0, 30)])
        await first.close()

        let second = try TestKafka.consumer(broker, group: "resume-group")
        let committed = try await second.committed([TopicPartition("resume", 0)])
        #expect(committed.first?.offset == 30)
        try second.subscribe(["resume"])
        let rest = try await TestKafka.collect(second, count: 20)
        #expect(rest.first?.offset == 30)
        #expect(rest.map(\.offset) == Array(30..<50))
        await second.close()
    }

    @Test("a partition reader reads to the current end each time, also where it found the partition empty before")
    func readerRereadsGrownPartition() async throws {
        let broker = try TestKafka.broker(topics: ["grows": 4])
        let reader = try PartitionReader(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers), logger: TestKafka.logger)
        let start = (0..<Int32(4)).map { TopicPartitionOffset("grows", $0, TopicPartitionOffset.beginning) }
        let producer = try TestKafka.producer(broker)
        var expected = 0
        for round in 0..<4 {
            let read = Recorder(0)
            try await reader.readToEnd(start) { batch in read.update { $0 += batch.count } }
            #expect(read.value == expected, "read \(round)")
            let records = (0..<100).map { ProducerRecord(topic: "grows", key: Array("k\($0)".utf8), value: Array("\(round)".utf8)) }
            try await producer.send(records)
            expected += records.count
        }
        await producer.shutdown()
    }

    @Test("a partition reader rides out a broker outage: connection errors do not end the read")
    func readerSurvivesOutage() async throws {
        let broker = try TestKafka.broker(topics: ["outage": 2])
        let producer = try TestKafka.producer(broker)
        try await producer.send((0..<200).map { ProducerRecord(topic: "outage", key: Array("k\($0)".utf8), value: Array("\($0)".utf8)) })
        await producer.shutdown()
        let reader = try PartitionReader(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers), logger: TestKafka.logger)
        let start = (0..<Int32(2)).map { TopicPartitionOffset("outage", $0, TopicPartitionOffset.beginning) }
        let before = Recorder(0)
        try await reader.readToEnd(start) { batch in before.update { $0 += batch.count } }
        #expect(before.value == 200)

        // The broker closes every connection and refuses new ones while the read starts; it is back 1.5 s later.
        try broker.setBroker(1, up: false)
        let comeBack = Task {
            try await Task.sleep(for: .milliseconds(1500))
            try broker.setBroker(1, up: true)
        }
        let during = Recorder(0)
        try await reader.readToEnd(start, idleTimeout: .seconds(20)) { batch in during.update { $0 += batch.count } }
        try await comeBack.value
        #expect(during.value == 200)
    }

    @Test("pause, resume and seek move the fetch position")
    func pauseResumeSeek() async throws {
        let broker = try TestKafka.broker(topics: ["seek": 1])
        let producer = try TestKafka.producer(broker)
        try await producer.send((0..<10).map { ProducerRecord(topic: "seek", key: "k", value: Array("\($0)".utf8)) })
        await producer.shutdown()

        let consumer = try TestKafka.consumer(broker, group: "seek-group")
        try await consumer.assign([TopicPartitionOffset("seek", 0, TopicPartitionOffset.beginning)])
        let all = try await TestKafka.collect(consumer, count: 10)
        #expect(all.map(\.offset) == Array(0..<10))
        try consumer.pause([TopicPartition("seek", 0)])
        try await consumer.seek([TopicPartitionOffset("seek", 0, 4)])
        try consumer.resume([TopicPartition("seek", 0)])
        let again = try await TestKafka.collect(consumer, count: 6)
        #expect(again.map(\.offset) == Array(4..<10))
        let marks = try await consumer.watermarks(TopicPartition("seek", 0))
        #expect(marks.high == 10)
        await consumer.close()
    }

    @Test("a transactional produce with send_offsets_to_transaction commits")
    func transactionCommits() async throws {
        let broker = try TestKafka.broker(topics: ["tx-in": 1, "tx-out": 2])
        let seed = try TestKafka.producer(broker)
        try await seed.send((0..<5).map { ProducerRecord(topic: "tx-in", key: "k", value: Array("\($0)".utf8)) })
        await seed.shutdown()

        let consumer = try TestKafka.consumer(broker, group: "tx-group", ["isolation.level": "read_committed"])
        try consumer.subscribe(["tx-in"])
        let input = try await TestKafka.collect(consumer, count: 5)

        let producer = try TestKafka.producer(broker, ["transactional.id": "tx-test-1"])
        try await producer.initTransactions()
        try producer.beginTransaction()
        let outputs = input.map { ProducerRecord(topic: "tx-out", key: Array($0.key!), value: Array($0.value!)) }
        let handle = try await producer.enqueue(outputs)
        try await producer.sendOffsetsToTransaction(
            [TopicPartitionOffset("tx-in", 0, input.last!.offset + 1)], groupMetadata: try consumer.groupMetadata())
        try await producer.commitTransaction()
        try await handle.delivered()
        // A second transaction that is aborted completes the state machine too.
        try producer.beginTransaction()
        _ = try await producer.enqueue([ProducerRecord(topic: "tx-out", key: "k", value: [1])])
        try await producer.abortTransaction()
        await producer.shutdown()
        await consumer.close()

        let reader = try TestKafka.consumer(broker, group: "tx-reader")
        try reader.subscribe(["tx-out"])
        let out = try await TestKafka.collect(reader, count: 5)
        #expect(Set(out.map { Array($0.value!) }) == Set(input.map { Array($0.value!) }))
        await reader.close()
    }

    @Test("abandoning undelivered records fails the queued ones and frees a sender waiting for queue space")
    func abandonUndelivered() async throws {
        let broker = try TestKafka.broker(topics: ["given-up": 1])
        try broker.setBroker(1, up: false)
        let producer = try TestKafka.producer(broker, ["queue.buffering.max.messages": "50"])
        let queued = try await producer.enqueue((0..<40).map { ProducerRecord(topic: "given-up", key: "k\($0)", value: [1]) })
        let returned = Mutex(false)
        let blocked = Task {
            defer { returned.withLock { $0 = true } }
            return try await producer.enqueue((0..<100).map { ProducerRecord(topic: "given-up", key: "b\($0)", value: [2]) })
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(!queued.isComplete, "the broker is down: nothing can be delivered yet")
        #expect(!returned.withLock { $0 }, "the second sender should be waiting for queue space")
        producer.abandonUndelivered()
        let freed = await TestKafka.eventually(timeout: .seconds(10)) { queued.isComplete && returned.withLock { $0 } }
        try #require(freed, "the queued records were not failed, or the waiting sender not freed")
        let second = try await blocked.value
        let secondReports = await second.reports()
        let firstReports = await queued.reports()
        #expect(firstReports.allSatisfy { $0.error?.isGivenUp == true })
        #expect(secondReports.count == 100 && secondReports.allSatisfy { $0.error?.isGivenUp == true })
        #expect(queued.failures.count == 40 && second.failures.count == 100)
        await producer.shutdown(timeout: .seconds(5))
    }

    @Test("an unreachable broker gives a clear error within a bounded time")
    func unreachableBroker() async throws {
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: TestKafka.logger)
        let start = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) { try await producer.checkConnectivity(timeout: .seconds(3)) }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(error?.message.contains("127.0.0.1:1") == true)
        #expect(error?.message.contains("cannot reach Kafka") == true)
    }

    @Test("an invalid librdkafka property is rejected with its name")
    func invalidProperty() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "x:1", properties: ["no.such.property": "1"]))
        }
        #expect(error?.message.contains("no.such.property") == true)
    }
}
