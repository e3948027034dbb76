import WardwatchKafka

/// Counts records per key per event-time window and forwards every updated count (emit on update, like a Kafka
/// Streams windowed count without suppression). Records for windows already closed are counted as late and kept out.
/// Output value: `{"count":N,"key":"K","window_end":E,"window_start":S}` (milliseconds).
public struct WindowedCountProcessor: StreamProcessor {
    public static let store = "window-counts"
    public static let output = "counts"
    public let windows: TimeWindows

    public init(windows: TimeWindows) { self.windows = windows }

    public mutating func process(_ record: ConsumerRecord, context: ProcessorContext) throws {
        guard let key = record.key, !key.isEmpty else { throw DeadLetterReason("record has no key") }
        let timestamp = context.recordTimestamp
        let store = context.store(Self.store, of: Int64.self)
        let keyText = String(decoding: key, as: UTF8.self)
        var late = false
        for start in windows.windowStarts(containing: timestamp) {
            if windows.isClosed(start: start, streamTime: context.streamTime) {
                late = true
                continue
            }
            let storeKey = keyText + "@" + String(start)
            if store.hasApplied(storeKey) { continue }
            let count = (store.get(storeKey) ?? 0) + 1
            store.put(storeKey, count)
            var value = "{\"count\":\(count),\"key\":"
            appendJSONString(keyText, to: &value)
            value += ",\"window_end\":\(start + windows.size),\"window_start\":\(start)}"
            context.forward(to: Self.output, key: Array(key), value: Array(value.utf8), timestamp: timestamp)
        }
        if late { context.recordLate() }
    }

    /// Reads `input`, counts per key and window into `output`; the store keeps each window until it closes.
    public static func topology(applicationId: String, input: String, output: String, windows: TimeWindows) -> Topology {
        Topology(
            applicationId: applicationId, sourceTopics: [input],
            stores: [.keyValue(store, of: Int64.self, codec: .int64, timeToLive: windows.retention)],
            outputs: [Self.output: output]
        ) {
            [WindowedCountProcessor(windows: windows)]
        }
    }
}

/// Appends `text` as a JSON string literal.
func appendJSONString(_ text: String, to out: inout String) {
    out.append("\"")
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out.append("\\\"")
        case "\\": out.append("\\\\")
        case "\n": out.append("\\n")
        case "\r": out.append("\\r")
        case "\t": out.append("\\t")
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
        default: out.unicodeScalars.append(scalar)
        }
    }
    out.append("\"")
}
