import DequeModule

/// A mutual-exclusion lock for async code: the processing loop and the rebalance hooks take turns, so a rebalance
/// never sees a half-processed batch.
actor AsyncLock {
    private var locked = false
    private var waiters = Deque<CheckedContinuation<Void, Never>>()

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if let next = waiters.popFirst() {
            next.resume()
        } else {
            locked = false
        }
    }
}

extension AsyncLock {
    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await lock()
        do {
            let result = try await body()
            unlock()
            return result
        } catch {
            unlock()
            throw error
        }
    }
}
