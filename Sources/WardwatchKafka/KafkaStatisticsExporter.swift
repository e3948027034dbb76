import Foundation
import Metrics

/// Turns librdkafka's statistics JSON (`statistics.interval.ms`) into gauges. Labels stay low-cardinality: the client
/// role, the broker name and topic/partition (bounded by the cluster), never a record key.
final class KafkaStatisticsExporter: Sendable {
    let role: String
    let factory: any MetricsFactory

    init(role: String, factory: any MetricsFactory) {
        self.role = role
        self.factory = factory
    }

    private func gauge(_ name: String, _ value: Double, _ extra: [(String, String)] = []) {
        Gauge(label: name, dimensions: [("role", role)] + extra, factory: factory).record(value)
    }

    func record(json: UnsafeRawBufferPointer) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else { return }
        func number(_ dict: [String: Any], _ key: String) -> Double? { (dict[key] as? NSNumber)?.doubleValue }
        if let v = number(object, "msg_cnt") { gauge("kafka_client_queued_messages", v) }
        if let v = number(object, "msg_size") { gauge("kafka_client_queued_bytes", v) }
        if let v = number(object, "replyq") { gauge("kafka_client_reply_queue_ops", v) }
        if let v = number(object, "txmsgs") { gauge("kafka_client_tx_messages", v) }
        if let v = number(object, "txmsg_bytes") { gauge("kafka_client_tx_bytes", v) }
        if let v = number(object, "rxmsgs") { gauge("kafka_client_rx_messages", v) }
        if let v = number(object, "rxmsg_bytes") { gauge("kafka_client_rx_bytes", v) }
        if let brokers = object["brokers"] as? [String: Any] {
            for (name, value) in brokers {
                guard let broker = value as? [String: Any], (broker["nodeid"] as? NSNumber)?.intValue ?? -1 >= 0 else { continue }
                if let rtt = broker["rtt"] as? [String: Any], let avg = number(rtt, "avg") {
                    gauge("kafka_client_broker_rtt_seconds", avg / 1_000_000, [("broker", name)])
                }
                if let v = number(broker, "outbuf_msg_cnt") { gauge("kafka_client_broker_outbuf_messages", v, [("broker", name)]) }
            }
        }
        if let topics = object["topics"] as? [String: Any] {
            for (topicName, value) in topics {
                guard let topic = value as? [String: Any], let partitions = topic["partitions"] as? [String: Any] else { continue }
                for (partitionName, pvalue) in partitions where partitionName != "-1" {
                    guard let partition = pvalue as? [String: Any] else { continue }
                    if let lag = number(partition, "consumer_lag"), lag >= 0 {
                        gauge("kafka_client_consumer_lag", lag, [("topic", topicName), ("partition", partitionName)])
                    }
                }
            }
        }
    }
}
