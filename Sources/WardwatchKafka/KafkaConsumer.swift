import CRdKafka
import Foundation
import Logging
import Metrics
import Synchronization

/// What the application does when the group moves partitions. librdkafka calls these synchronously from the
/// consumer's poll thread, which waits for each hook to finish before it changes the assignment.
public struct RebalanceHooks: Sendable {
    /// Before newly assigned partitions start fetching: restore their state. Fetching begins when it returns.
    public var onAssigned: @Sendable ([TopicPartition]) async -> Void
    /// Before partitions are taken away in an orderly rebalance: finish the batch in hand, flush, commit.
    /// Undelivered records of these partitions have already been dropped from the consumer's buffer.
    public var onRevoked: @Sendable ([TopicPartition]) async -> Void
    /// When partitions were lost (session timed out, fenced): drop their state without committing.
    public var onLost: @Sendable ([TopicPartition]) async -> Void

    public init(
        onAssigned: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in },
        onRevoked: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in },
        onLost: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in }
    ) {
        self.onAssigned = onAssigned
        self.onRevoked = onRevoked
        self.onLost = onLost
    }
}

/// The consumer group's metadata, for `KafkaProducer.sendOffsetsToTransaction`.
public final class ConsumerGroupMetadata: @unchecked Sendable {
    let pointer: OpaquePointer
    init(pointer: OpaquePointer) { self.pointer = pointer }
    deinit { rd_kafka_consumer_group_metadata_destroy(pointer) }
}

/// A Kafka consumer over librdkafka.
///
/// - Consumer groups with the eager round-robin assignor by default; rebalances call `RebalanceHooks`.
///   Cooperative-sticky works (the callback handles both protocols) but librdkafka 2.0.2 aborts when a member that
///   has joined is destroyed before its first assignment (librdkafka issue 4312, fixed in 2.3.0).
/// - Offsets are committed only by the application (`enable.auto.commit=false`).
/// - A dedicated thread polls and hands whole batches to Swift through `batches`.
public final class KafkaConsumer: Sendable {
    let handle: KafkaClientHandle
    private let poller: ConsumerPoller
    private let logger: Logger

    /// The assignor used unless the configuration names one: eager, because Debian's librdkafka 2.0.2 can abort in
    /// the cooperative-sticky assignor's teardown.
    public static let defaultAssignmentStrategy = "roundrobin"

    /// Creates a consumer. `configuration` needs `group.id` for `subscribe`; `assign` works without one.
    public init(
        configuration: KafkaConfiguration, hooks: RebalanceHooks = RebalanceHooks(), maxBatchSize: Int = 2000,
        bufferedBatches: Int = 2, logger: Logger = Logger(label: "wardwatch.kafka.consumer"),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(KafkaError) {
        var configuration = configuration
        configuration.setDefault("enable.auto.commit", "false")
        configuration.setDefault("enable.auto.offset.store", "false")
        configuration.setDefault("auto.offset.reset", "earliest")
        configuration.setDefault("partition.assignment.strategy", Self.defaultAssignmentStrategy)
        if configuration["group.id"] == nil { configuration["group.id"] = "wardwatch-unused-\(UUID().uuidString)" }
        self.logger = logger
        let handle = try KafkaClientHandle(
            kind: .consumer, configuration: configuration, logger: logger, metricsFactory: metricsFactory,
            clientRole: "consumer"
        ) { conf in
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let partitions, let context = ClientContext.from(opaque) else { return }
                context.rebalance?(rk, err, partitions)
            }
            // Served on the poll thread for every commit, `commitAsync`'s included: the only place its outcome shows.
            rd_kafka_conf_set_offset_commit_cb(conf) { _, err, offsets, opaque in
                guard let context = ClientContext.from(opaque) else { return }
                let failed = err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET
                if failed || offsets.map({ NativePartitionList.firstError(UnsafePointer($0), during: "commit") != nil }) == true {
                    context.failedCommits.add(1, ordering: .relaxed)
                }
            }
        }
        self.handle = handle
        rd_kafka_poll_set_consumer(handle.pointer)
        self.poller = ConsumerPoller(
            handle: handle, hooks: hooks, maxBatchSize: maxBatchSize, channel: BatchChannel(capacity: bufferedBatches),
            logger: logger)
        handle.context.rebalance = { [weak poller] rk, err, list in poller?.rebalance(rk: rk, err: err, list: list) }
        poller.start()
    }

    deinit { poller.stopWithoutClosing() }

    /// The batches, in the order fetched. The sequence ends after `close()`.
    public var batches: KafkaConsumerBatches { KafkaConsumerBatches(channel: poller.channel) }

    /// Joins the group and subscribes to `topics`.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = NativePartitionList.make(topics.map { TopicPartition($0, ww_partition_unassigned()) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(handle.pointer, list), during: "subscribe to \(topics.joined(separator: ","))")
    }

    /// Reads the given partitions from the given offsets, outside any group rebalancing. The topics' metadata is
    /// fetched first: librdkafka 2.0.2 backs off for 500 ms when it must resolve a logical offset (beginning, end)
    /// for a partition whose leader it does not know yet.
    public func assign(_ offsets: [TopicPartitionOffset], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let handle = self.handle
        let topics = Set(offsets.map(\.topic))
        try await Blocking.run { () throws(KafkaError) in
            for topic in topics {
                let rkt = rd_kafka_topic_new(handle.pointer, topic, nil)
                defer { rd_kafka_topic_destroy(rkt) }
                var metadata: UnsafePointer<rd_kafka_metadata>?
                let err = rd_kafka_metadata(handle.pointer, 0, rkt, &metadata, timeout.kafkaMilliseconds)
                if let metadata { rd_kafka_metadata_destroy(metadata) }
                try KafkaError.check(err, during: "metadata of \(topic)")
            }
            let list = NativePartitionList.make(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_assign(handle.pointer, list), during: "assign partitions")
        }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(handle.pointer, &list), during: "read assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return NativePartitionList.partitions(list).sorted()
    }

    /// Commits `offsets` (each the next offset to read) synchronously, off the cooperative pool.
    public func commit(_ offsets: [TopicPartitionOffset]) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            let list = NativePartitionList.make(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_commit(handle.pointer, list, 0), during: "commit offsets")
            if let error = NativePartitionList.firstError(list, during: "commit offset of") { throw error }
        }
    }

    /// Starts committing `offsets` and returns at once, without waiting for the group coordinator (which, during a
    /// rebalance, answers only once the poll thread has served the rebalance). A failed commit is covered by a
    /// later one; callers that must know (a revocation) use `commit`.
    public func commitAsync(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = NativePartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_commit(handle.pointer, list, 1), during: "commit offsets")
    }

    /// How many offset commits have failed so far (refused during a rebalance, fenced, timed out), asynchronous
    /// ones included; a caller that commits with `commitAsync` compares it to notice that it must commit again.
    public var failedCommits: Int { handle.context.failedCommits.load(ordering: .relaxed) }

    /// Commits the offsets after `batch`.
    public func commit(after batch: ConsumerBatch) async throws(KafkaError) {
        try await commit(batch.nextOffsets)
    }

    /// The group's committed offsets for `partitions` (`TopicPartitionOffset.invalid` where none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartitionOffset]
    {
        let handle = self.handle
        return try await Blocking.run { () throws(KafkaError) in
            let list = NativePartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(
                rd_kafka_committed(handle.pointer, list, timeout.kafkaMilliseconds), during: "read committed offsets")
            return NativePartitionList.offsets(list)
        }
    }

    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_pause_partitions(handle.pointer, list), during: "pause partitions")
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_resume_partitions(handle.pointer, list), during: "resume partitions")
    }

    /// Moves the fetch positions of assigned partitions. (librdkafka 2.0.2 divides this timeout by 1000 by
    /// mistake, so the default is generous.)
    public func seek(_ offsets: [TopicPartitionOffset], timeout: Duration = .seconds(600)) async throws(KafkaError) {
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            let list = NativePartitionList.make(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(
                rd_kafka_seek_partitions(handle.pointer, list, timeout.kafkaMilliseconds), during: "seek")
            if let error = NativePartitionList.firstError(list, during: "seek") { throw error }
        }
    }

    /// Moves assigned partitions back to `offsets` and drops every record of them fetched but not yet handed out,
    /// so the next batches continue exactly from there (after an aborted transaction: rewind to the committed
    /// offsets). Runs on the poll thread between polls.
    public func rewind(to offsets: [TopicPartitionOffset]) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let poller = self.poller
        let result: Result<Void, KafkaError> = await withCheckedContinuation { continuation in
            poller.requestRewind(offsets) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// The low and high watermark offsets of a partition, asked of the broker.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> (low: Int64, high: Int64)
    {
        let handle = self.handle
        return try await Blocking.run { () throws(KafkaError) in
            var low: Int64 = 0
            var high: Int64 = 0
            try KafkaError.check(
                rd_kafka_query_watermark_offsets(
                    handle.pointer, partition.topic, partition.partition, &low, &high, timeout.kafkaMilliseconds),
                during: "query watermarks of \(partition)")
            return (low, high)
        }
    }

    /// The group metadata for transactional offset commits.
    public func groupMetadata() throws(KafkaError) -> ConsumerGroupMetadata {
        guard let pointer = rd_kafka_consumer_group_metadata(handle.pointer) else {
            throw KafkaError(message: "consumer group metadata unavailable (no group.id?)")
        }
        return ConsumerGroupMetadata(pointer: pointer)
    }

    /// Fails within `timeout` when no broker answers, with a message naming the brokers and the cause.
    public func checkConnectivity(timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let handle = self.handle
        _ = try await Blocking.run { () throws(KafkaError) in try handle.checkConnectivity(timeout: timeout) }
    }

    /// Leaves the group (the revoke hook runs for the partitions held), closes the consumer and ends `batches`.
    public func close() async {
        await poller.close()
    }
}

/// The consumer's poll thread and its rebalance handling.
final class ConsumerPoller: @unchecked Sendable {
    let channel: BatchChannel
    private let handle: KafkaClientHandle
    private let hooks: RebalanceHooks
    private let maxBatchSize: Int
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let closeOnStop = Atomic<Bool>(true)
    /// Entered when the thread starts, left when it has closed the consumer; any number of callers may wait.
    private let finished = DispatchGroup()
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// Only touched on the poll thread (rebalance callbacks run there too).
    private var builder: ConsumerBatchBuilder
    private let rewinds = Mutex<RewindQueue>(RewindQueue())

    struct RewindQueue {
        var pending: [(offsets: [TopicPartitionOffset], done: @Sendable (Result<Void, KafkaError>) -> Void)] = []
        /// Set when the poll thread has stopped: later requests fail at once instead of waiting forever.
        var closed = false
    }

    init(handle: KafkaClientHandle, hooks: RebalanceHooks, maxBatchSize: Int, channel: BatchChannel, logger: Logger) {
        self.handle = handle
        self.hooks = hooks
        self.maxBatchSize = maxBatchSize
        self.channel = channel
        self.logger = logger
        self.builder = ConsumerBatchBuilder(capacity: maxBatchSize)
    }

    func start() {
        started.store(true, ordering: .releasing)
        finished.enter()
        let thread = Thread { [self] in run() }
        thread.name = "kafka-consumer-poll"
        thread.start()
    }

    private func run() {
        let rk = handle.pointer
        var fatal: KafkaError?
        loop: while !stopRequested.load(ordering: .acquiring) {
            performRewinds()
            var timeout: Int32 = 100
            while builder.count < maxBatchSize {
                guard let message = rd_kafka_consumer_poll(rk, timeout) else { break }
                defer { rd_kafka_message_destroy(message) }
                timeout = 0
                let err = message.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    builder.append(message)
                } else if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    continue
                } else if err == RD_KAFKA_RESP_ERR__FATAL {
                    var buffer = [CChar](repeating: 0, count: 512)
                    let code = rd_kafka_fatal_error(rk, &buffer, buffer.count)
                    let text = String(cBuffer: buffer)
                    fatal = KafkaError(code: code.rawValue, severity: .fatal, message: "fatal consumer error: \(text)")
                    break loop
                } else {
                    let text = message.pointee.payload.map {
                        String(decoding: UnsafeRawBufferPointer(start: $0, count: message.pointee.len), as: UTF8.self)
                    } ?? KafkaError.text(err)
                    logger.warning("consumer error", metadata: ["error": "\(text)", "code": "\(err.rawValue)"])
                }
            }
            if !builder.isEmpty {
                channel.push(builder.take()) {
                    !stopRequested.load(ordering: .acquiring) && rewinds.withLock { $0.pending.isEmpty }
                }
            }
        }
        if closeOnStop.load(ordering: .acquiring) && fatal == nil {
            let err = rd_kafka_consumer_close(rk)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("consumer close", metadata: ["error": "\(KafkaError.text(err))"])
            }
        }
        let abandoned = rewinds.withLock { queue in
            queue.closed = true
            defer { queue.pending.removeAll() }
            return queue.pending
        }
        for request in abandoned { request.done(.failure(KafkaError(message: "rewind: the consumer is closed"))) }
        channel.finish(failure: fatal)
        finished.leave()
    }

    func requestRewind(_ offsets: [TopicPartitionOffset], done: @escaping @Sendable (Result<Void, KafkaError>) -> Void) {
        let accepted = rewinds.withLock { queue in
            if !queue.closed { queue.pending.append((offsets, done)) }
            return !queue.closed
        }
        if !accepted { done(.failure(KafkaError(message: "rewind: the consumer is closed"))) }
    }

    /// Drops buffered records of the rewound partitions, then seeks them (librdkafka drops its own prefetched
    /// records of a seeked partition).
    private func performRewinds() {
        let requests = rewinds.withLock { queue in
            defer { queue.pending.removeAll() }
            return queue.pending
        }
        for request in requests {
            let partitions = Set(request.offsets.map(\.topicPartition))
            builder.remove(partitions)
            channel.purge(partitions)
            let list = NativePartitionList.make(request.offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            var result: Result<Void, KafkaError> = .success(())
            do throws(KafkaError) {
                try KafkaError.check(rd_kafka_seek_partitions(handle.pointer, list, 600_000), during: "rewind")
                if let error = NativePartitionList.firstError(list, during: "rewind") { throw error }
            } catch {
                result = .failure(error)
            }
            request.done(result)
        }
    }

    /// Runs an async hook to completion on this (non-cooperative) thread.
    private func runHook(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphoreBox()
        Task { await body(); done.signal() }
        done.wait()
    }

    /// Called from within `rd_kafka_consumer_poll` on the poll thread.
    func rebalance(rk: OpaquePointer, err: rd_kafka_resp_err_t, list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let partitions = NativePartitionList.partitions(list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let hooks = self.hooks
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions.count)"])
            runHook { await hooks.onAssigned(partitions) }
            let error = cooperative ? rd_kafka_incremental_assign(rk, list) : nil
            if !cooperative { _ = rd_kafka_assign(rk, list) }
            if let error {
                logger.error("incremental assign failed", metadata: ["error": "\(KafkaError.consume(error, during: "assign"))"])
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let revoked = Set(partitions)
            builder.remove(revoked)
            channel.purge(revoked)
            if rd_kafka_assignment_lost(rk) != 0 {
                logger.warning("partitions lost", metadata: ["partitions": "\(partitions.count)"])
                runHook { await hooks.onLost(partitions) }
            } else {
                logger.info("partitions revoked", metadata: ["partitions": "\(partitions.count)"])
                runHook { await hooks.onRevoked(partitions) }
            }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    logger.error("incremental unassign failed", metadata: ["error": "\(KafkaError.consume(error, during: "unassign"))"])
                }
            } else {
                _ = rd_kafka_assign(rk, nil)
            }
        default:
            logger.error("rebalance error", metadata: ["error": "\(KafkaError.text(err))"])
            _ = rd_kafka_assign(rk, nil)
        }
    }

    /// Asks the thread to leave the group and close, and waits for it (every caller waits for the one close).
    func close() async {
        _ = stopped.exchange(true, ordering: .acquiringAndReleasing)
        stopRequested.store(true, ordering: .releasing)
        let finished = self.finished
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                finished.wait()
                continuation.resume()
            }
        }
    }

    /// Stops the thread without leaving the group cleanly (deinit of an unclosed consumer).
    func stopWithoutClosing() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        closeOnStop.store(false, ordering: .releasing)
        stopRequested.store(true, ordering: .releasing)
        finished.wait()
    }
}
