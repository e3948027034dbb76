import WardwatchDecoders
import WardwatchModel

/// An address in a flow key: IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d).
public struct FlowAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(_ v4: IPv4Address) {
        high = 0
        low = 0x0000_FFFF_0000_0000 | UInt64(v4.value)
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// 0.0.0.0 or ::, the source of a host with no address yet (DHCP DISCOVER and REQUEST, DHCPv6 and duplicate
    /// address detection use link-local or this).
    public var isUnspecified: Bool { high == 0 && (low == 0 || low == 0x0000_FFFF_0000_0000) }

    public static func < (a: FlowAddress, b: FlowAddress) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// The IPv4 address held (meaningful where `isIPv4`).
    var ipv4: IPv4Address { IPv4Address(value: UInt32(truncatingIfNeeded: low)) }

    public var description: String {
        isIPv4 ? ipv4.description : IPv6Address(high: high, low: low).description
    }
}

/// A transport endpoint.
public struct FlowEndpoint: Hashable, Comparable, Sendable {
    public var address: FlowAddress
    public var port: UInt16

    public init(address: FlowAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public static func < (a: FlowEndpoint, b: FlowEndpoint) -> Bool { (a.address, a.port) < (b.address, b.port) }
}

/// The 5-tuple of a flow, the same for both directions (the lower endpoint first), plus the VLAN.
///
/// A sender with no address (0.0.0.0 or ::) is told apart by its MAC: every DHCP client's DISCOVER goes from
/// 0.0.0.0:68 to 255.255.255.255:67, and without the MAC all of a subnet's clients would be counted as one flow and
/// reported as the first one's.
public struct FlowKey: Hashable, Sendable {
    public let lower: FlowEndpoint
    public let upper: FlowEndpoint
    public let transport: UInt8
    public let vlan: UInt16
    /// The sender's MAC plus one when its address is unspecified; 0 otherwise.
    public let unaddressedSender: UInt64

    /// The key as four words instead of nine fields, for hashing: the addresses' low words, their high words with
    /// the unaddressed sender folded in (0 nearly always), and the ports, transport and VLAN packed into one.
    @inline(__always)
    var hashWords: (UInt64, UInt64, UInt64, UInt64) {
        (lower.address.low, upper.address.low,
         lower.address.high &+ upper.address.high &* 0x9E37_79B9_7F4A_7C15 ^ unaddressedSender,
         UInt64(lower.port) << 48 | UInt64(upper.port) << 32 | UInt64(transport) << 16 | UInt64(vlan))
    }

    public func hash(into hasher: inout Hasher) {
        let words = hashWords
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The key of a packet from `source` (with MAC `sourceMAC`) to `destination`, and whether the packet goes lower
    /// to upper.
    public static func of(
        source: FlowEndpoint, destination: FlowEndpoint, transport: UInt8, vlan: UInt16?, sourceMAC: MACAddress?
    ) -> (key: FlowKey, fromLower: Bool) {
        let fromLower = source <= destination
        let unaddressed = source.address.isUnspecified ? (sourceMAC?.value ?? 0) &+ 1 : 0
        let key = FlowKey(
            lower: fromLower ? source : destination, upper: fromLower ? destination : source, transport: transport,
            vlan: vlan ?? 0, unaddressedSender: unaddressed)
        return (key, fromLower)
    }
}

/// One packet's contribution to its flow.
public struct FlowPacket: Sendable {
    public var source: FlowEndpoint
    public var destination: FlowEndpoint
    public var transport: UInt8
    public var vlan: UInt16?
    public var sourceMAC: MACAddress?
    public var bytes: Int
    public var tcpFlags: UInt8
    public var time: EventTime

    public init(
        source: FlowEndpoint, destination: FlowEndpoint, transport: UInt8, vlan: UInt16?, sourceMAC: MACAddress?,
        bytes: Int, tcpFlags: UInt8 = 0, time: EventTime
    ) {
        self.source = source
        self.destination = destination
        self.transport = transport
        self.vlan = vlan
        self.sourceMAC = sourceMAC
        self.bytes = bytes
        self.tcpFlags = tcpFlags
        self.time = time
    }
}

/// A flow's counters over one reporting interval, initiator (the side that sent the first packet seen) first.
public struct FlowSummary: Sendable, Equatable {
    public enum EndReason: String, Sendable {
        /// No packet for the idle timeout.
        case idle
        /// Still going after the active timeout: this summary covers the interval, the flow continues.
        case active
        /// TCP closed (FIN both ways, or RST).
        case closed
        /// Pushed out of a full table.
        case evicted
        /// The capture ended.
        case end
    }

    public var initiator: FlowEndpoint
    public var responder: FlowEndpoint
    public var transport: UInt8
    public var vlan: UInt16?
    public var initiatorMAC: MACAddress?
    public var responderMAC: MACAddress?
    public var packetsOut = 0
    public var packetsIn = 0
    public var bytesOut = 0
    public var bytesIn = 0
    public var tcpFlagsOut: UInt8 = 0
    public var tcpFlagsIn: UInt8 = 0
    public var firstTime: EventTime
    public var lastTime: EventTime
    /// Application protocols the decoders recognised in this flow, sorted.
    public var applicationProtocols: [String] = []
    public var reason: EndReason = .idle
}

/// Flows keyed by 5-tuple in both directions, timed out in packet time, bounded in memory. A value type: the
/// capture thread owns it; it never reads the wall clock.
///
/// Entries live in a dense array of slots, found through a key-to-slot index (`FlowIndex`), and linked in the order their last
/// packet arrived. A full table therefore lets go of the flow whose last packet arrived longest ago at once: a port
/// scan or a flood of new flows costs the same per packet as any other traffic (a scan of the whole table for each new
/// flow made a 300,000-SYN scan take more than five minutes). Arrival order is packet-time order except where packet
/// times tie or go backwards (a later file of a capture).
public struct FlowTable: Sendable {
    public struct Configuration: Sendable {
        /// A flow with no packet for this long is reported and forgotten.
        public var idleTimeout: Int64 = 60_000_000
        /// A flow still active after this long is reported and its counters restart.
        public var activeTimeout: Int64 = 300_000_000
        /// Flows kept at most; beyond it the flow whose last packet arrived longest ago is reported and forgotten
        /// (counted).
        public var capacity = 100_000
        /// How often, in packet time, timeouts are checked.
        public var sweepInterval: Int64 = 1_000_000
        /// A closed TCP flow is kept this long for its last ACKs before it is reported.
        public var closedLinger: Int64 = 2_000_000

        public init() {}
    }

    struct Entry: Sendable {
        var summary: FlowSummary
        var initiatorIsLower: Bool
        var finLower = false
        var finUpper = false
        var closed = false
        /// The connection's analyzer (TCP flows the extractor analyses): kept with its flow, so one lookup per
        /// segment finds both.
        var connection: ConnectionAnalyzer?
    }

    /// A summary that became due, with the analyzer of a flow that ended (not of one merely restarting).
    struct Reported {
        var summary: FlowSummary
        var connection: ConnectionAnalyzer?
    }

    /// An entry with its key and its neighbours in arrival order (slot numbers; -1 at either end).
    struct Slot: Sendable {
        var key: FlowKey
        var entry: Entry
        var older: Int
        var newer: Int
    }

    public let configuration: Configuration
    private var slots: [Slot] = []
    private var index = FlowIndex()
    /// The ends of the arrival order: the flow whose last packet came first, and the one whose came last.
    private var oldest = -1
    private var newest = -1
    private var lastSweep: EventTime?
    /// The flows a sweep found idle and closed, kept empty between sweeps for their memory.
    private var sweepLists: (idle: [FlowKey], closed: [FlowKey]) = ([], [])
    public private(set) var evictions = 0
    /// Entries holding a connection analyzer.
    private(set) var connectionCount = 0

    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    public var count: Int { slots.count }

    static let fin: UInt8 = 0x01
    static let rst: UInt8 = 0x04

    /// Accounts one packet; appends any summaries that became due (timeouts, evictions).
    public mutating func record(_ packet: FlowPacket, into output: inout [FlowSummary]) -> FlowKey {
        var reported: [Reported] = []
        var unbounded = StreamBudget(limit: .max)
        let key = record(packet, reporting: &reported, streams: &unbounded).key
        for r in reported { output.append(r.summary) }
        return key
    }

    /// A flow's slot: valid until the table next removes a flow (the last slot moves into a removed one's place).
    typealias Index = Int

    /// Accounts one packet; appends any summaries that became due. Returns the packet's flow key and the index of its
    /// entry, valid until the table next removes a flow (nil when this packet's sweep reported the flow itself).
    /// `streams` is the analyzers' byte budget, for the sweep (see `sweep`).
    mutating func record(
        _ packet: FlowPacket, reporting output: inout [Reported], streams: inout StreamBudget
    ) -> (key: FlowKey, index: Index?) {
        let (key, fromLower) = FlowKey.of(
            source: packet.source, destination: packet.destination, transport: packet.transport, vlan: packet.vlan,
            sourceMAC: packet.sourceMAC)
        let slot: Int
        let hash = index.hash(key)
        if let found = index.find(hash: hash, matches: { slots[$0].key == key })?.slot {
            slots[found].entry.account(packet, fromLower: fromLower)  // in place: one lookup
            makeNewest(found)
            slot = found
        } else {
            if slots.count >= configuration.capacity { evictOldest(into: &output) }
            var entry = Entry(
                summary: FlowSummary(
                    initiator: packet.source, responder: packet.destination, transport: packet.transport,
                    vlan: packet.vlan, initiatorMAC: packet.sourceMAC, firstTime: packet.time, lastTime: packet.time),
                initiatorIsLower: fromLower)
            entry.account(packet, fromLower: fromLower)
            slot = slots.count
            slots.append(Slot(key: key, entry: entry, older: newest, newer: -1))
            if newest >= 0 { slots[newest].newer = slot } else { oldest = slot }
            newest = slot
            index.insert(hash: hash, slot: slot) { slots[$0].key }
        }
        // A sweep may report this flow or move it to another slot.
        return (key, sweep(now: packet.time, into: &output, streams: &streams) ? locate(key)?.slot : slot)
    }

    /// Where `key`'s entry is: its index bucket and its slot, if the table has one.
    private func locate(_ key: FlowKey) -> (bucket: Int, slot: Int)? {
        index.find(hash: index.hash(key), matches: { slots[$0].key == key })
    }

    /// Moves a slot to the newest end of the arrival order.
    @inline(__always)
    private mutating func makeNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        slots[slot].older = newest
        slots[slot].newer = -1
        slots[newest].newer = slot
        newest = slot
    }

    /// Takes a slot out of the arrival order (its own links are left as they were).
    private mutating func unlink(_ slot: Int) {
        let (older, newer) = (slots[slot].older, slots[slot].newer)
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        if newer >= 0 { slots[newer].older = older } else { newest = older }
    }

    /// Starts analysing the connection of the entry at `index`.
    mutating func attach(_ connection: ConnectionAnalyzer, at index: Index) {
        slots[index].entry.connection = connection
        connectionCount += 1
    }

    /// `ConnectionAnalyzer.segment` on the analyzer of the entry at `index` (which has one), in place. The change in
    /// the bytes it holds for the decoders (prefixes, TLS messages in the making) is added to `caches.streams` (a reported analyzer's are taken off by the caller).
    mutating func analyze(
        at index: Index, _ tcp: TCPSegment, from source: FlowEndpoint, mac: MACAddress?, ipFacts: P0fIPFacts?,
        sensor: SensorIdentity, context: ConnectionAnalyzer.PacketContext, caches: inout AnalyzerCaches,
        into output: inout ObservationBatch
    ) -> String? {
        // Only a payload for a direction still being read changes the bytes held: no sums for the others (bare ACKs,
        // the rest of a stream once its decoders are done). Debug builds sum them anyway, to check that.
        let mayChange = slots[index].entry.connection!.mayHoldMore(tcp, from: source)
        #if DEBUG
        let summed = true
        #else
        let summed = mayChange
        #endif
        let held = summed ? slots[index].entry.connection!.heldBytes : 0
        let application = slots[index].entry.connection!.segment(
            tcp, from: source, mac: mac, ipFacts: ipFacts, sensor: sensor, context: context, caches: &caches,
            into: &output)
        if summed {
            let change = slots[index].entry.connection!.heldBytes - held
            assert(mayChange || change == 0, "held bytes changed")
            caches.streams.held += change
        }
        return application
    }

    /// Whether the entry at `index` has a connection analyzer.
    func hasConnection(at index: Index) -> Bool { slots[index].entry.connection != nil }

    /// `tag` for the entry at `index`.
    mutating func tag(at index: Index, application: String) {
        if slots[index].entry.summary.applicationProtocols.isEmpty,
            let single = Self.singleProtocols.first(where: { $0[0] == application })
        {
            slots[index].entry.summary.applicationProtocols = single  // shared: no array made per flow
            return
        }
        if !slots[index].entry.summary.applicationProtocols.contains(application) {
            slots[index].entry.summary.applicationProtocols.append(application)
            slots[index].entry.summary.applicationProtocols.sort()
        }
    }

    /// The protocol lists of a flow where the decoders recognised one protocol, made once.
    private static let singleProtocols = [["tls"], ["http"], ["dicom"], ["hl7"]]

    /// Removes an entry, reporting its summary (with `reason`) and its analyzer. The last slot moves into its place.
    private mutating func report(_ key: FlowKey, reason: FlowSummary.EndReason, into output: inout [Reported]) {
        let (bucket, slot) = locate(key)!
        index.remove(at: bucket)
        unlink(slot)
        let last = slots.count - 1
        if slot != last {
            // Through the buffer, the two slots are moved (an array's own swapAt copies them, retaining what they hold).
            slots.withUnsafeMutableBufferPointer { $0.swapAt(slot, last) }
            let (older, newer) = (slots[slot].older, slots[slot].newer)
            if older >= 0 { slots[older].newer = slot } else { oldest = slot }
            if newer >= 0 { slots[newer].older = slot } else { newest = slot }
            index.move(hash: index.hash(slots[slot].key), from: last, to: slot)
        }
        let entry = slots.removeLast().entry
        var summary = entry.summary
        summary.reason = reason
        if entry.connection != nil { connectionCount -= 1 }
        output.append(Reported(summary: summary, connection: entry.connection))
    }

    /// Notes an application protocol a decoder recognised in the flow.
    public mutating func tag(_ key: FlowKey, application: String) {
        guard let slot = locate(key)?.slot else { return }
        tag(at: slot, application: application)
    }

    /// Reports flows idle or active for too long, at most once per sweep interval of packet time. While `streams` is
    /// spent, also gives up connection directions that hold bytes and have sent no payload for
    /// `StreamBudget.stallTimeout`, taking their bytes off it and counting them as cut. True when it ran (indices into
    /// the table are then stale).
    @discardableResult
    mutating func sweep(now: EventTime, into output: inout [Reported], streams: inout StreamBudget) -> Bool {
        if let last = lastSweep, now.microseconds - last.microseconds < configuration.sweepInterval { return false }
        lastSweep = now
        let stalledBefore = streams.isSpent ? now.microseconds - StreamBudget.stallTimeout : nil
        // The lists of a sweep reuse the last one's memory (taken out of the table while it is changed).
        var (idle, closed) = sweepLists
        sweepLists = ([], [])
        defer {
            if !idle.isEmpty { idle.removeAll(keepingCapacity: true) }
            if !closed.isEmpty { closed.removeAll(keepingCapacity: true) }
            sweepLists = (idle, closed)
        }
        for index in slots.indices {
            if let stalledBefore, slots[index].entry.connection != nil {
                let held = slots[index].entry.connection!.heldBytes
                if held > 0 {
                    streams.cut += slots[index].entry.connection!.giveUpStalled(before: stalledBefore)
                    streams.held -= held - slots[index].entry.connection!.heldBytes
                }
            }
            let quiet = now.microseconds - slots[index].entry.summary.lastTime.microseconds
            if slots[index].entry.closed && quiet >= configuration.closedLinger {
                closed.append(slots[index].key)
            } else if quiet >= configuration.idleTimeout {
                idle.append(slots[index].key)
            } else if now.microseconds - slots[index].entry.summary.firstTime.microseconds >= configuration.activeTimeout {
                var summary = slots[index].entry.summary
                summary.reason = .active
                output.append(Reported(summary: summary))
                slots[index].entry.restartInterval(at: now)
            }
        }
        closed.sort(by: Self.order)
        idle.sort(by: Self.order)
        for key in closed { report(key, reason: .closed, into: &output) }
        for key in idle { report(key, reason: .idle, into: &output) }
        return true
    }

    /// Reports the flow whose last packet came first (the front of the arrival order): no search.
    private mutating func evictOldest(into output: inout [Reported]) {
        guard oldest >= 0 else { return }
        report(slots[oldest].key, reason: .evicted, into: &output)
        evictions += 1
    }

    /// Reports every flow still open (at the end of a capture), in a fixed order.
    public mutating func flushAll(into output: inout [FlowSummary]) {
        var reported: [Reported] = []
        flushAll(reporting: &reported)
        for r in reported { output.append(r.summary) }
    }

    /// Reports every flow still open, with its analyzer, in a fixed order.
    mutating func flushAll(reporting output: inout [Reported]) {
        for key in slots.map(\.key).sorted(by: Self.order) {
            report(key, reason: slots[locate(key)!.slot].entry.closed ? .closed : .end, into: &output)
        }
    }

    static func order(_ a: FlowKey, _ b: FlowKey) -> Bool {
        (a.lower, a.upper, a.transport, a.vlan, a.unaddressedSender) < (b.lower, b.upper, b.transport, b.vlan, b.unaddressedSender)
    }
}

extension FlowKey: Comparable {
    public static func < (a: FlowKey, b: FlowKey) -> Bool { FlowTable.order(a, b) }
}

extension FlowTable.Entry {
    mutating func account(_ packet: FlowPacket, fromLower: Bool) {
        let outbound = fromLower == initiatorIsLower
        if outbound {
            summary.packetsOut += 1
            summary.bytesOut += packet.bytes
            summary.tcpFlagsOut |= packet.tcpFlags
        } else {
            summary.packetsIn += 1
            summary.bytesIn += packet.bytes
            summary.tcpFlagsIn |= packet.tcpFlags
            if summary.responderMAC == nil { summary.responderMAC = packet.sourceMAC }
        }
        summary.lastTime = max(summary.lastTime, packet.time)
        if packet.transport == 6 {
            if packet.tcpFlags & FlowTable.rst != 0 { closed = true }
            if packet.tcpFlags & FlowTable.fin != 0 {
                if fromLower { finLower = true } else { finUpper = true }
                if finLower && finUpper { closed = true }
            }
        }
    }

    mutating func restartInterval(at time: EventTime) {
        summary.packetsOut = 0
        summary.packetsIn = 0
        summary.bytesOut = 0
        summary.bytesIn = 0
        summary.tcpFlagsOut = 0
        summary.tcpFlagsIn = 0
        summary.firstTime = time
    }
}
