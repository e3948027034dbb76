import CRdKafka
import Foundation
import Logging
import Metrics
import Synchronization

/// A Kafka producer over librdkafka.
///
/// - Idempotence is on by default (`enable.idempotence=true`); any librdkafka property passes through.
/// - `enqueue` hands records to librdkafka and suspends (never throws) while librdkafka's queue is full; the returned
///   handle completes with the delivery reports. `send` does both.
/// - A dedicated thread polls for delivery reports; `shutdown()` flushes and stops it.
/// - Transactions follow librdkafka's pattern: `initTransactions`, then per transaction `beginTransaction`,
///   produce, `sendOffsetsToTransaction`, `commitTransaction` (or `abortTransaction` on an abortable error).
public final class KafkaProducer: Sendable {
    let handle: KafkaClientHandle
    private let logger: Logger
    private let topicHandles = Mutex<[String: OpaquePointer]>([:])
    private let poller: ProducerPoller

    /// Creates a producer. `metricsFactory`, where given, receives librdkafka's statistics as gauges.
    public init(
        configuration: KafkaConfiguration, logger: Logger = Logger(label: "wardwatch.kafka.producer"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(KafkaError) {
        var configuration = configuration
        configuration.setDefault("enable.idempotence", "true")
        self.logger = logger
        self.handle = try KafkaClientHandle(
            kind: .producer, configuration: configuration, logger: logger, metricsFactory: metricsFactory,
            clientRole: "producer"
        ) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message, let opaque = message.pointee._private else { return }
                let slot = opaque.assumingMemoryBound(to: DeliverySlot.self)
                slot.pointee.partition = message.pointee.partition
                slot.pointee.offset = message.pointee.offset
                slot.pointee.error = message.pointee.err.rawValue
                slot.pointee.tracker.takeUnretainedValue().complete(count: 1)
            }
        }
        self.poller = ProducerPoller(handle: handle)
        poller.start()
    }

    deinit {
        poller.stop()
        for (_, rkt) in topicHandles.withLock({ $0 }) { rd_kafka_topic_destroy(rkt) }
    }

    /// Fails within `timeout` when no broker answers, with a message naming the brokers and the cause.
    public func checkConnectivity(timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let handle = self.handle
        _ = try await Blocking.run { () throws(KafkaError) in try handle.checkConnectivity(timeout: timeout) }
    }

    private func topicHandle(_ name: String) -> OpaquePointer {
        topicHandles.withLock { cache in
            if let rkt = cache[name] { return rkt }
            let rkt = rd_kafka_topic_new(handle.pointer, name, nil)!
            cache[name] = rkt
            return rkt
        }
    }

    /// Hands `records` to librdkafka, suspending while its queue is full, and returns a handle on their delivery.
    /// Throws only for a fatal producer error; per-record failures arrive in the reports.
    public func enqueue(_ records: [ProducerRecord]) async throws(KafkaError) -> DeliveryHandle {
        let tracker = DeliveryTracker(topics: records.map(\.topic))
        var lastTopic: String?
        var lastHandle: OpaquePointer?
        let unassigned = ww_partition_unassigned()
        for index in records.indices {
            let record = records[index]
            if record.topic != lastTopic {
                lastTopic = record.topic
                lastHandle = topicHandle(record.topic)
            }
            let slot = tracker.slots + index
            while true {
                if poller.isAbandoned {
                    // Given up (`abandonUndelivered`): this record and the rest fail without being handed over.
                    for rest in index..<records.count { tracker.slots[rest].error = RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue }
                    tracker.complete(count: records.count - index)
                    return DeliveryHandle(tracker: tracker)
                }
                let err = produce(record, topic: lastHandle!, partition: record.partition ?? unassigned, slot: slot)
                if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    await poller.waitForQueueSpace()
                    continue
                }
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    if err == RD_KAFKA_RESP_ERR__FATAL {
                        tracker.complete(count: records.count - index)
                        throw fatalError(during: "producing to \(record.topic)")
                    }
                    slot.pointee.error = err.rawValue
                    tracker.complete(count: 1)
                }
                break
            }
        }
        return DeliveryHandle(tracker: tracker)
    }

    private func produce(
        _ record: ProducerRecord, topic: OpaquePointer, partition: Int32, slot: UnsafeMutablePointer<DeliverySlot>
    ) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                header.value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                }
            }
        }
        let err = withOptionalBytes(record.key) { key in
            withOptionalBytes(record.value) { value in
                ww_produce(
                    handle.pointer, topic, partition, key.baseAddress, key.count, value.baseAddress, value.count,
                    headers, record.timestamp ?? 0, UnsafeMutableRawPointer(slot))
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return err
    }

    /// Produces `records` and waits for their delivery; throws the first failure.
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) {
        try await enqueue(records).delivered()
    }

    /// Produces one record and returns its delivery report; throws if it was not delivered.
    @discardableResult
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveryReport {
        let report = try await enqueue([record]).reports()[0]
        if let error = report.error { throw error }
        return report
    }

    /// Waits until every enqueued record has been delivered or has failed, or `timeout` passes.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let drained = await poller.waitUntilDrained(timeout: timeout)
        if !drained {
            let left = rd_kafka_outq_len(handle.pointer)
            throw KafkaError(
                code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "flush: \(left) records still undelivered after \(timeout)")
        }
    }

    /// Gives up on every record not yet delivered, for a stop that must not wait on an unreachable cluster. Records
    /// queued or in flight fail with a purge error (`KafkaError.isGivenUp`; their handles complete at the next poll,
    /// a request in flight is failed at once and its connection closed), so do records that come back for a retry,
    /// and `enqueue` no longer waits for queue space: what it has not handed over fails at once. The producer
    /// produces nothing afterwards (so purging what is in flight cannot upset the idempotent sequence); only
    /// `shutdown` is left. Returns how many messages and requests librdkafka still held.
    @discardableResult
    public func abandonUndelivered() -> Int {
        let held = Int(rd_kafka_outq_len(handle.pointer))
        poller.abandon()
        ProducerPoller.purgeAll(handle.pointer)
        return held
    }

    /// Flushes, then stops the polling thread. The producer cannot be used afterwards.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        do {
            try await flush(timeout: timeout)
        } catch {
            logger.warning("producer shut down with undelivered records", metadata: ["error": "\(error)"])
        }
        poller.stop()
    }

    private func fatalError(during operation: String) -> KafkaError {
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle.pointer, &buffer, buffer.count)
        let text = String(cBuffer: buffer)
        return KafkaError(code: code.rawValue, severity: .fatal, message: "\(operation): fatal producer error: \(text)")
    }

    // MARK: Transactions

    /// Registers the `transactional.id` with the cluster and fences older producers with the same id.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(
                rd_kafka_init_transactions(handle.pointer, timeout.kafkaMilliseconds), during: "init transactions")
        }
    }

    public func beginTransaction() throws(KafkaError) {
        try KafkaError.check(rd_kafka_begin_transaction(handle.pointer), during: "begin transaction")
    }

    /// Adds the consumer's next offsets to the current transaction, so they commit with the outputs.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartitionOffset], groupMetadata: ConsumerGroupMetadata, timeout: Duration = .seconds(30)
    ) async throws(KafkaError) {
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            let list = NativePartitionList.make(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(
                rd_kafka_send_offsets_to_transaction(handle.pointer, list, groupMetadata.pointer, timeout.kafkaMilliseconds),
                during: "send offsets to transaction")
        }
    }

    /// Flushes the transaction's records and commits it.
    public func commitTransaction(timeout: Duration = .seconds(60)) async throws(KafkaError) {
        _ = await poller.waitUntilDrained(timeout: timeout)
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(
                rd_kafka_commit_transaction(handle.pointer, timeout.kafkaMilliseconds), during: "commit transaction")
        }
    }

    /// Aborts the current transaction; its undelivered records fail with a purge error.
    public func abortTransaction(timeout: Duration = .seconds(60)) async throws(KafkaError) {
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(
                rd_kafka_abort_transaction(handle.pointer, timeout.kafkaMilliseconds), during: "abort transaction")
        }
    }
}

@inline(__always)
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let bytes { return bytes.withUnsafeBytes(body) }
    return body(UnsafeRawBufferPointer(start: nil, count: 0))
}

/// The producer's polling thread: serves delivery reports, wakes senders waiting for queue space and flushers.
final class ProducerPoller: @unchecked Sendable {
    private let handle: KafkaClientHandle
    private struct State {
        var stopped = false
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaiters: [(deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let state = Mutex(State())
    /// Read for every record `enqueue` produces: an atomic, not the lock.
    private let abandoned = Atomic<Bool>(false)
    private let finished = DispatchSemaphoreBox()

    init(handle: KafkaClientHandle) { self.handle = handle }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "kafka-producer-poll"
        thread.start()
    }

    /// Fails every queued and in-flight message, without waiting for the broker threads (a thread stuck on an
    /// unreachable host must not stall the caller).
    static func purgeAll(_ rk: OpaquePointer) {
        _ = rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING))
    }

    private func run() {
        let rk = handle.pointer
        var lastPurge = ContinuousClock.now
        while true {
            let stop = state.withLock { $0.stopped }
            if stop { break }
            let spaceWaiting = state.withLock { !$0.spaceWaiters.isEmpty || !$0.drainWaiters.isEmpty }
            // Once abandoned, records that come back to the queue (a request that failed and would be retried) are
            // purged too, every 100 ms at most.
            if abandoned.load(ordering: .relaxed), ContinuousClock.now - lastPurge >= .milliseconds(100) {
                Self.purgeAll(rk)
                lastPurge = .now
            }
            rd_kafka_poll(rk, spaceWaiting ? 5 : 50)
            let queued = rd_kafka_outq_len(rk)
            let now = ContinuousClock.now
            let (space, drained, timedOut) = state.withLock { s in
                let space = s.spaceWaiters
                s.spaceWaiters.removeAll()
                var drained: [CheckedContinuation<Bool, Never>] = []
                var timedOut: [CheckedContinuation<Bool, Never>] = []
                s.drainWaiters.removeAll { waiter in
                    if queued == 0 { drained.append(waiter.continuation); return true }
                    if now >= waiter.deadline { timedOut.append(waiter.continuation); return true }
                    return false
                }
                return (space, drained, timedOut)
            }
            space.forEach { $0.resume() }
            drained.forEach { $0.resume(returning: true) }
            timedOut.forEach { $0.resume(returning: false) }
        }
        rd_kafka_poll(rk, 0)
        let (space, drains) = state.withLock { s in
            defer { s.spaceWaiters.removeAll(); s.drainWaiters.removeAll() }
            return (s.spaceWaiters, s.drainWaiters)
        }
        space.forEach { $0.resume() }
        drains.forEach { $0.continuation.resume(returning: rd_kafka_outq_len(rk) == 0) }
        finished.signal()
    }

    /// Whether the producer gave up its undelivered records (`KafkaProducer.abandonUndelivered`).
    var isAbandoned: Bool { abandoned.load(ordering: .acquiring) }

    /// Marks the producer abandoned and wakes every sender waiting for queue space.
    func abandon() {
        abandoned.store(true, ordering: .releasing)  // before the lock: a sender that waits after this sees it
        let waiting = state.withLock { s in
            defer { s.spaceWaiters.removeAll() }
            return s.spaceWaiters
        }
        waiting.forEach { $0.resume() }
    }

    func waitForQueueSpace() async {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { s in
                let giveUp = s.stopped || abandoned.load(ordering: .acquiring)
                if !giveUp { s.spaceWaiters.append(continuation) }
                return giveUp
            }
            if stopped { continuation.resume() }
        }
    }

    func waitUntilDrained(timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { s in
                if !s.stopped { s.drainWaiters.append((ContinuousClock.now + timeout, continuation)) }
                return s.stopped
            }
            if stopped { continuation.resume(returning: rd_kafka_outq_len(handle.pointer) == 0) }
        }
    }

    /// Stops the thread and waits for it to finish; safe to call more than once.
    func stop() {
        let first = state.withLock { s in
            defer { s.stopped = true }
            return !s.stopped
        }
        if first { finished.wait() }
    }
}

/// A semaphore usable from Sendable contexts.
final class DispatchSemaphoreBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func signal() { semaphore.signal() }
    func wait() { semaphore.wait() }
}
