import Foundation
import MetricsTestKit
import Synchronization
import Testing
import WardwatchCapture
import WardwatchModel

#if canImport(Glibc)
import Glibc
#endif

/// Collects what a capture publishes.
final class CollectingSink: ObservationSink {
    let observations = Mutex<[Observation]>([])
    func publish(_ batch: borrowing ObservationBatch) async throws {
        let decoded = try batch.decoded()
        observations.withLock { $0.append(contentsOf: decoded) }
    }
    func finish() async throws {}
}

/// A sink whose publishing waits until `release()` (a slow Kafka cluster), keeping what it is given.
final class HeldSink: ObservationSink {
    private let released = Atomic<Bool>(false)
    let published = Atomic<Int>(0)
    func release() { released.store(true, ordering: .releasing) }
    func publish(_ batch: borrowing ObservationBatch) async throws {
        while !released.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
        published.add(batch.count, ordering: .relaxed)
    }
    func finish() async throws {}
}

/// A veth pair made for one test and removed after it.
struct VethPair {
    let a: String
    let b: String

    static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func create() -> VethPair? {
        let suffix = String(getpid() % 10000)
        let pair = VethPair(a: "wwa\(suffix)", b: "wwb\(suffix)")
        guard run(["link", "add", pair.a, "type", "veth", "peer", "name", pair.b]) == 0 else { return nil }
        _ = run(["link", "set", pair.a, "up"])
        _ = run(["link", "set", pair.b, "up"])
        return pair
    }

    func remove() { _ = VethPair.run(["link", "del", a]) }

    /// A live capture of ARP on `b` (frames are sent on `a`).
    func arpSource() throws -> PcapSource {
        var options = LiveCaptureOptions(interface: b)
        options.bpfFilter = "arp"
        return try PcapSource(live: options)
    }

    /// A started capture of ARP on `b` (sensor "veth" at site "lab") into a new collecting sink: its source, sink,
    /// runner and the task running it.
    func startARPCapture(
        batchSize: Int = 4096, maxBatchDelay: Duration = .milliseconds(250),
        announcementRefresh: Int64 = ObservationExtractor.defaultAnnouncementRefresh, metrics: TestMetrics? = nil
    ) throws -> (source: PcapSource, sink: CollectingSink, runner: CaptureRunner, running: Task<CaptureCounters, any Error>) {
        let source = try arpSource()
        let sink = CollectingSink()
        let runner = CaptureRunner(
            sources: [source], sensor: SensorIdentity(sensorId: "veth", site: "lab"), sink: sink, batchSize: batchSize,
            maxBatchDelay: maxBatchDelay, announcementRefresh: announcementRefresh, metricsFactory: metrics)
        return (source, sink, runner, Task { try await runner.run() })
    }

    /// Sends a raw Ethernet frame out of `interface` through an AF_PACKET socket.
    static func send(_ frame: [UInt8], on interface: String) -> Bool { send([frame], on: interface) == 1 }

    /// Sends raw Ethernet frames out of `interface` through one AF_PACKET socket (closing one waits for the kernel's
    /// network readers, about 10 ms); returns how many were sent whole.
    static func send(_ frames: [[UInt8]], on interface: String) -> Int {
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        // struct sockaddr_ll (linux/if_packet.h), which Swift's Glibc module does not import: family, protocol,
        // ifindex, hatype, pkttype, halen, addr[8]; 20 bytes in host order but the protocol.
        var address = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt16(AF_PACKET)) { address.replaceSubrange(0..<2, with: $0) }
        withUnsafeBytes(of: Int32(if_nametoindex(interface))) { address.replaceSubrange(4..<8, with: $0) }
        address[11] = 6
        return frames.filter { frame in
            let sent = frame.withUnsafeBytes { bytes in
                address.withUnsafeBytes { raw in
                    sendto(fd, bytes.baseAddress, bytes.count, 0, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), 20)
                }
            }
            return sent == frame.count
        }.count
    }
}

/// How a test DNS exchange is carried: IPv4, IPv4 in an 802.1Q tag, or IPv6.
enum TestCarriage: CaseIterable {
    case ipv4, vlan, ipv6

    var clientIP: String { self == .ipv6 ? "fd00::1:1" : "10.99.1.1" }
    var serverIP: String { self == .ipv6 ? "fd00::2:2" : "10.99.2.2" }
}

/// A DNS query for an A record from the client (10.99.1.1 or fd00::1:1) at `clientPort` to the server (10.99.2.2 or
/// fd00::2:2) at port 53, or its answer back (no records).
func dnsFrame(query: Bool, clientPort: UInt16, carriage: TestCarriage = .ipv4) -> [UInt8] {
    let clientMAC: [UInt8] = [0x02, 0, 0x5e, 0, 0, 1], serverMAC: [UInt8] = [0x02, 0, 0x5e, 0, 0, 2]
    var dns: [UInt8] = [UInt8(clientPort >> 8), UInt8(clientPort & 0xFF), query ? 0x01 : 0x81, query ? 0x00 : 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
    dns += [4] + Array("pump".utf8) + [7] + Array("example".utf8) + [0, 0, 1, 0, 1]
    let (sourcePort, destinationPort) = query ? (clientPort, UInt16(53)) : (UInt16(53), clientPort)
    let udpLength = 8 + dns.count
    let udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF),
                        UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0] + dns
    let ethernet = query ? serverMAC + clientMAC : clientMAC + serverMAC
    if carriage == .ipv6 {
        let client: [UInt8] = [0xFD] + [UInt8](repeating: 0, count: 11) + [0, 1, 0, 1]
        let server: [UInt8] = [0xFD] + [UInt8](repeating: 0, count: 11) + [0, 2, 0, 2]
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(udp.count >> 8), UInt8(udp.count & 0xFF), 17, 64] + (query ? client + server : server + client)
        return ethernet + [0x86, 0xDD] + ip + udp
    }
    let client: [UInt8] = [10, 99, 1, 1], server: [UInt8] = [10, 99, 2, 2]
    // No header checksum, as in the other tests' frames: neither the kernel's packet path nor the decoders check it.
    let ipLength = 20 + udp.count
    let ip: [UInt8] = [0x45, 0, UInt8(ipLength >> 8), UInt8(ipLength & 0xFF), 0, 1, 0, 0, 64, 17, 0, 0]
        + (query ? client + server : server + client)
    let tag: [UInt8] = carriage == .vlan ? [0x81, 0x00, 0, 20] : []
    return ethernet + tag + [0x08, 0x00] + ip + udp
}

/// A gratuitous ARP announcement from `mac` for `ip`.
func gratuitousARP(mac: [UInt8], ip: [UInt8]) -> [UInt8] {
    [UInt8](repeating: 0xFF, count: 6) + mac + [0x08, 0x06] + [0, 1, 0x08, 0, 6, 4, 0, 1] + mac + ip
        + [UInt8](repeating: 0, count: 6) + ip + [UInt8](repeating: 0, count: 18)
}

@Suite("Live capture", .serialized, .enabled(if: getuid() == 0, "needs root to create a veth pair"))
struct LiveCaptureTests {
    @Test("captures frames sent over a veth pair, with a BPF filter, and stops on request")
    func vethCapture() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        let metrics = TestMetrics()
        let (source, sink, runner, running) = try pair.startARPCapture(batchSize: 1, metrics: metrics)
        try await Task.sleep(for: .milliseconds(200))
        let pump: [UInt8] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]
        let monitor: [UInt8] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x31]
        // DHCP frames from the ward sample: the "arp" filter must keep them out.
        let (_, samplePackets) = try Fixtures.packets(Fixtures.wardSample)
        let dhcpFrames = samplePackets.map(\.0).filter { $0.count > 300 && $0[12] == 0x08 && $0[13] == 0x00 }
        #expect(!dhcpFrames.isEmpty)
        for frame in dhcpFrames.prefix(4) { #expect(VethPair.send(frame, on: pair.a)) }
        let deadline = ContinuousClock.now + .seconds(10)
        var seen: Set<String> = []
        while seen.count < 2 && ContinuousClock.now < deadline {
            #expect(VethPair.send(gratuitousARP(mac: pump, ip: [10, 99, 0, 5]), on: pair.a))
            #expect(VethPair.send(gratuitousARP(mac: monitor, ip: [10, 99, 0, 6]), on: pair.a))
            try await Task.sleep(for: .milliseconds(100))
            seen = Set(sink.observations.withLock { $0.map(\.deviceKey) })
        }
        runner.stop()
        let counters = try await running.value
        #expect(seen == ["02:00:5e:10:20:30", "02:00:5e:10:20:31"])
        let observations = sink.observations.withLock { $0 }
        #expect(!observations.isEmpty)
        #expect(observations.allSatisfy { $0.kind == .arp && $0.sensorId == "veth" && $0.arp?.gratuitous == true })
        #expect(counters.packets >= 2)
        #expect(source.statistics() != nil)
        // The kernel's counts (pcap_stats) as gauges, and the capture's own counters, for Prometheus.
        let received = try metrics.expectGauge("wardwatch_capture_kernel_received").lastValue
        #expect((received ?? 0) >= Double(counters.packets), "kernel received \(String(describing: received))")
        #expect(try metrics.expectGauge("wardwatch_capture_kernel_dropped").lastValue == 0)
        #expect(try metrics.expectGauge("wardwatch_capture_interface_dropped").lastValue != nil)
        #expect(metrics.counterTotal(label: "wardwatch_capture_packets_total") == Int64(counters.packets))
        #expect(metrics.counterTotal(label: "wardwatch_capture_observations_total") == Int64(observations.count))
    }

    @Test("a stop reads what the kernel's ring already holds before it ends")
    func stopDrainsRing() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        let (source, sink, runner, running) = try pair.startARPCapture(batchSize: 64)
        // The reader is waiting on the ring. A burst from 300 new devices, then the stop at once: in the default
        // (non-immediate) mode the kernel hands its block over only when full or after the 100 ms timeout, so the
        // whole burst is still in the ring when the stop comes.
        let frames: [[UInt8]] = (0..<300).map { (i: Int) -> [UInt8] in
            let (high, low) = (UInt8(i >> 8), UInt8(i & 0xFF))
            return gratuitousARP(mac: [0x02, 0x00, 0x5e, 0x33, high, low], ip: [10, 98, high, low])
        }
        #expect(VethPair.send(frames, on: pair.a) == frames.count)
        runner.stop()
        let counters = try await running.value
        let stats = try #require(source.statistics())
        // Every frame the kernel took for the socket was read: none left behind in the ring, none dropped.
        #expect(stats.dropped == 0)
        #expect(counters.packets == Int(stats.received), "kernel received \(stats.received), read \(counters.packets)")
        #expect(counters.packets == frames.count)
        #expect(Set(sink.observations.withLock { $0.map(\.deviceKey) }).count == frames.count)
    }

    @Test("a stop on a link that keeps sending still ends: the drain after it is bounded")
    func stopOnBusyLink() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        let (_, _, runner, running) = try pair.startARPCapture()
        // A sender that goes on for 10 s whatever happens: without a bound the drain would read until it ends.
        let sending = Atomic<Bool>(true)
        let interface = pair.a
        let sender = Thread {
            let frame = gratuitousARP(mac: [0x02, 0x00, 0x5e, 0x44, 0, 1], ip: [10, 97, 0, 1])
            let end = ContinuousClock.now + .seconds(10)
            while sending.load(ordering: .relaxed) && ContinuousClock.now < end {
                _ = VethPair.send(Array(repeating: frame, count: 50), on: interface)
            }
        }
        sender.start()
        defer { sending.store(false, ordering: .relaxed) }
        try await Task.sleep(for: .milliseconds(300))
        let stopped = ContinuousClock.now
        runner.stop()
        let counters = try await running.value
        let took = ContinuousClock.now - stopped
        #expect(counters.packets > 0)
        #expect(took < .seconds(5), "the stop took \(took)")
    }

    @Test("a light but steady link is published within the batch delay, not held for a full batch")
    func steadyLightLink() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        // Every announcement emitted, a batch far larger than what is sent, and a frame every 40 ms: the interface
        // never idles for the 100 ms read timeout, so only the delay can hand the batch over.
        let (_, sink, runner, running) = try pair.startARPCapture(
            batchSize: 100_000, maxBatchDelay: .milliseconds(200), announcementRefresh: 0)
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        var publishedWhileRunning = 0
        var sent = 0
        while publishedWhileRunning == 0 && ContinuousClock.now - start < .seconds(5) {
            #expect(VethPair.send(gratuitousARP(mac: [0x02, 0x00, 0x5e, 0x10, 0x20, 0x40], ip: [10, 99, 0, 7]), on: pair.a))
            sent += 1
            try await Task.sleep(for: .milliseconds(40))
            publishedWhileRunning = sink.observations.withLock { $0.count }
        }
        runner.stop()
        _ = try await running.value
        #expect(publishedWhileRunning > 0, "nothing published while running after \(sent) frames")
    }

    @Test("promiscuous mode is set on the interface only when asked; every option combination still captures")
    func liveOptions() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        func interfaceIsPromiscuous() throws -> Bool {
            let flags = try String(contentsOfFile: "/sys/class/net/\(pair.b)/flags", encoding: .utf8)
            let value = try #require(UInt32(flags.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16))
            return value & 0x100 != 0  // IFF_PROMISC
        }
        #expect(try !interfaceIsPromiscuous())
        for (promiscuous, immediate) in [(true, false), (false, true)] {
            var options = LiveCaptureOptions(interface: pair.b)
            options.promiscuous = promiscuous
            options.immediateMode = immediate
            options.bufferSizeBytes = 1 << 20
            options.snapLength = 96
            options.bpfFilter = "arp"
            let source = try PcapSource(live: options)
            #expect(try interfaceIsPromiscuous() == promiscuous, "promiscuous \(promiscuous)")
            let sink = CollectingSink()
            let runner = CaptureRunner(
                sources: [source], sensor: SensorIdentity(sensorId: "veth", site: "lab"), sink: sink, batchSize: 1)
            let running = Task { try await runner.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            var seen = 0
            while seen == 0 && ContinuousClock.now < deadline {
                #expect(VethPair.send(gratuitousARP(mac: [0x02, 0x00, 0x5e, 0x10, 0x20, 0x50], ip: [10, 99, 0, 8]), on: pair.a))
                try await Task.sleep(for: .milliseconds(100))
                seen = sink.observations.withLock { $0.count }
            }
            runner.stop()
            _ = try await running.value
            #expect(seen > 0, "promiscuous \(promiscuous), immediate \(immediate): nothing captured")
        }
        #expect(try !interfaceIsPromiscuous(), "closing the capture leaves the interface as it was")
    }

    @Test("captures in one fanout group split the traffic by connection: each flow, both ways, reaches one of them")
    func fanoutSplitsByConnection() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        let group = UInt16(getpid() % 60_000)
        let members = try (0..<2).map { _ in
            var options = LiveCaptureOptions(interface: pair.b)
            // The test's own traffic only: a host can send mDNS or LLMNR on a new link.
            options.bpfFilter = "udp port 53 or (vlan and udp port 53)"
            options.fanoutGroup = group
            return try PcapSource(live: options)
        }
        #expect(members.allSatisfy { $0.fanoutGroup == group })
        let sinks = [CollectingSink(), CollectingSink()]
        let runners = (0..<2).map {
            CaptureRunner(sources: [members[$0]], sensor: SensorIdentity(sensorId: "member-\($0)", site: "lab"), sink: sinks[$0], batchSize: 1)
        }
        let running = runners.map { runner in Task { try await runner.run() } }
        try await Task.sleep(for: .milliseconds(200))
        // 32 DNS exchanges of each carriage (IPv4, IPv4 tagged for VLAN 20, IPv6), each a query from its own client
        // port and the answer back: 192 packets, 96 flows.
        let perCarriage = 32
        let flows = perCarriage * TestCarriage.allCases.count
        for carriage in TestCarriage.allCases {
            for i in 0..<perCarriage {
                #expect(VethPair.send(dnsFrame(query: true, clientPort: UInt16(40_000 + i), carriage: carriage), on: pair.a))
                #expect(VethPair.send(dnsFrame(query: false, clientPort: UInt16(40_000 + i), carriage: carriage), on: pair.a))
            }
        }
        func dnsCount() -> Int { sinks.map { $0.observations.withLock { $0.filter { $0.kind == .dns }.count } }.reduce(0, +) }
        let deadline = ContinuousClock.now + .seconds(10)
        while dnsCount() < 2 * flows && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        for runner in runners { runner.stop() }
        var packets: [Int] = []
        for task in running { packets.append(try await task.value.packets) }

        #expect(dnsCount() == 2 * flows, "every packet once, in one member or the other")
        #expect(packets.reduce(0, +) == 2 * flows, "packets per member: \(packets)")
        // Each member reports whole flows (both directions counted), no flow is reported by both, and each carriage's
        // flows are shared between the members (the kernel hashes past the VLAN tag and on IPv6 ports too).
        struct FlowID: Hashable { var ip: String, port: Int, vlan: Int? }
        var owned: [Set<FlowID>] = []
        for sink in sinks {
            let observations = sink.observations.withLock { $0 }
            let flowObservations = observations.filter { $0.kind == .flow }
            #expect(flowObservations.allSatisfy { $0.flow!.packetsOut == 1 && $0.flow!.packetsIn == 1 }, "a flow split between members")
            let ids = Set(flowObservations.map { FlowID(ip: $0.flow!.connection.localIp, port: $0.flow!.connection.localPort, vlan: $0.vlan) })
            #expect(ids.count == flowObservations.count)
            // As many queries and as many answers as flows: the DNS messages went with their flows.
            let dns = observations.filter { $0.kind == .dns }
            let clients = Set(TestCarriage.allCases.map(\.clientIP)), servers = Set(TestCarriage.allCases.map(\.serverIP))
            let (queries, answers) = (dns.filter { clients.contains($0.source.ip ?? "") }.count, dns.filter { servers.contains($0.source.ip ?? "") }.count)
            #expect(queries == ids.count && answers == ids.count, "\(queries) queries, \(answers) answers, \(ids.count) flows")
            owned.append(ids)
        }
        #expect(owned[0].isDisjoint(with: owned[1]))
        let expected = Set(TestCarriage.allCases.flatMap { carriage in
            (0..<perCarriage).map { FlowID(ip: carriage.clientIP, port: 40_000 + $0, vlan: carriage == .vlan ? 20 : nil) }
        })
        #expect(owned[0].union(owned[1]) == expected)
        for carriage in TestCarriage.allCases {
            let shares = owned.map { ids in ids.filter { $0.ip == carriage.clientIP && ($0.vlan != nil) == (carriage == .vlan) }.count }
            #expect(shares.allSatisfy { $0 > 0 }, "\(carriage) flows per member: \(shares)")
        }
    }

    @Test("a capture that cannot join a fanout group says so, naming the group and the interface")
    func fanoutMismatch() throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        let group = UInt16(getpid() % 60_000)
        var options = LiveCaptureOptions(interface: pair.b)
        options.fanoutGroup = group
        let first = try PcapSource(live: options)
        // A group lives on one interface: a member on another one is refused by the kernel.
        var other = LiveCaptureOptions(interface: pair.a)
        other.fanoutGroup = group
        let error = #expect(throws: CaptureError.self) { _ = try PcapSource(live: other) }
        #expect(error?.message.contains("fanout group \(group)") == true && error?.message.contains(pair.a) == true, "\(String(describing: error))")
        withExtendedLifetime(first) {}
    }

    @Test("the capture buffer takes effect: a small one drops while the reader waits on a slow sink, the default does not, immediate mode holds far fewer packets, and drops are exported")
    func bufferSizeTakesEffect() async throws {
        let pair = try #require(VethPair.create(), "cannot create a veth pair")
        defer { pair.remove() }
        // Two DNS queries fill the reader's one batch in flight and the next, then the sink holds the reader while a
        // third query and 3,000 UDP frames of 1,400 bytes (4.2 MB) arrive. Once the sink lets go, a DNS query is sent
        // every 100 ms until one is published: the ring hands packets over in order, so the reader has then read
        // everything the ring kept of the burst (a fixed wait failed on a loaded machine).
        let filler = [UInt8](repeating: 0x02, count: 12) + [0x08, 0x00] + [0x45, 0, 0x05, 0x5A, 0, 1, 0, 0, 64, 17, 0, 0]
            + [10, 99, 3, 3, 10, 99, 4, 4] + [0x9C, 0x40, 0, 9, 0x05, 0x46, 0, 0] + [UInt8](repeating: 0, count: 1_358)
        let burst = 3_003
        func held(bufferMiB: Int32?, immediate: Bool?) async throws -> (dropped: Double, packets: Int, sent: Int) {
            var options = LiveCaptureOptions(interface: pair.b)
            options.bpfFilter = "udp"
            if let bufferMiB { options.bufferSizeBytes = bufferMiB << 20 }
            if let immediate { options.immediateMode = immediate }
            let source = try PcapSource(live: options)
            let sink = HeldSink()
            let metrics = TestMetrics()
            let runner = CaptureRunner(
                sources: [source], sensor: SensorIdentity(sensorId: "veth", site: "lab"), sink: sink, batchSize: 1,
                announcementRefresh: 0, metricsFactory: metrics)
            let running = Task { try await runner.run() }
            try await Task.sleep(for: .milliseconds(200))
            #expect(VethPair.send([UInt16(40_001), 40_002, 40_003].map { dnsFrame(query: true, clientPort: $0) }, on: pair.a) == 3)
            try await Task.sleep(for: .milliseconds(300))
            #expect(VethPair.send(Array(repeating: filler, count: burst - 3), on: pair.a) == burst - 3)
            sink.release()
            var markers = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while sink.published.load(ordering: .relaxed) < 4 && ContinuousClock.now < deadline {
                markers += VethPair.send([dnsFrame(query: true, clientPort: UInt16(41_000 + markers))], on: pair.a)
                try await Task.sleep(for: .milliseconds(100))
            }
            runner.stop()
            let counters = try await running.value
            #expect(sink.published.load(ordering: .relaxed) >= 4, "no query published after the burst")
            let dropped = try #require(try metrics.expectGauge("wardwatch_capture_kernel_dropped").lastValue)
            return (dropped, counters.packets, burst + markers)
        }
        let defaults = try await held(bufferMiB: nil, immediate: nil)
        #expect(defaults.dropped == 0 && defaults.packets == defaults.sent, "16 MiB, not immediate (the defaults): \(defaults)")
        let small = try await held(bufferMiB: 1, immediate: nil)
        #expect(small.dropped > 0 && small.packets + Int(small.dropped) == small.sent, "1 MiB: \(small)")
        let immediate = try await held(bufferMiB: nil, immediate: true)
        #expect(immediate.dropped > 0 && immediate.packets + Int(immediate.dropped) == immediate.sent, "16 MiB, immediate: \(immediate)")
    }

    @Test("a missing interface is a one-line error naming it")
    func missingInterface() throws {
        let error = #expect(throws: CaptureError.self) { _ = try PcapSource(live: LiveCaptureOptions(interface: "nosuchif0")) }
        #expect(error?.message.contains("nosuchif0") == true)
    }
}
