import DequeModule
import Foundation

/// A bounded hand-off of batches from the consumer's poll thread to one Swift task. The poll thread blocks while the
/// buffer is full (so a slow application slows fetching rather than growing memory); the task suspends while it is
/// empty. One lock operation per batch, never per record.
final class BatchChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer = Deque<ConsumerBatch>()
    private var waiter: CheckedContinuation<Result<ConsumerBatch, KafkaError>?, Never>?
    private var finished = false
    private var failure: KafkaError?
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Called by the poll thread; returns false when the channel was finished meanwhile.
    @discardableResult
    func push(_ batch: ConsumerBatch, while keepWaiting: () -> Bool) -> Bool {
        condition.lock()
        while buffer.count >= capacity && !finished && keepWaiting() {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        if finished {
            condition.unlock()
            return false
        }
        if let waiter {
            self.waiter = nil
            condition.unlock()
            waiter.resume(returning: .success(batch))
        } else {
            buffer.append(batch)
            condition.unlock()
        }
        return true
    }

    /// Removes buffered records of revoked partitions.
    func purge(_ partitions: Set<TopicPartition>) {
        condition.lock()
        buffer = Deque(buffer.map { $0.removing(partitions) }.filter { !$0.isEmpty })
        condition.unlock()
    }

    /// Ends the sequence, after a failure if one is given. Buffered batches are dropped.
    func finish(failure: KafkaError? = nil) {
        condition.lock()
        finished = true
        self.failure = self.failure ?? failure
        buffer.removeAll()
        let waiter = self.waiter
        self.waiter = nil
        let result: Result<ConsumerBatch, KafkaError>? = self.failure.map { .failure($0) }
        condition.broadcast()
        condition.unlock()
        waiter?.resume(returning: result)
    }

    func next() async throws(KafkaError) -> ConsumerBatch? {
        let result: Result<ConsumerBatch, KafkaError>? = await withCheckedContinuation { continuation in
            condition.lock()
            if let batch = buffer.popFirst() {
                condition.signal()
                condition.unlock()
                continuation.resume(returning: .success(batch))
            } else if finished {
                let failure = self.failure
                self.failure = nil
                condition.unlock()
                continuation.resume(returning: failure.map { .failure($0) })
            } else {
                waiter = continuation
                condition.unlock()
            }
        }
        return try result?.get()
    }
}

/// The consumer's batches as an AsyncSequence; it ends when the consumer is closed and throws on a fatal error.
public struct KafkaConsumerBatches: AsyncSequence, Sendable {
    public typealias Element = ConsumerBatch
    let channel: BatchChannel

    public struct AsyncIterator: AsyncIteratorProtocol {
        let channel: BatchChannel
        public mutating func next() async throws(KafkaError) -> ConsumerBatch? { try await channel.next() }
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(KafkaError) -> ConsumerBatch? {
            try await channel.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: channel) }
}
