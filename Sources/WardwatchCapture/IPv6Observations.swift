import WardwatchDecoders
import WardwatchModel

/// Payloads of the IPv6 announcement kinds: DHCPv6 (`dhcpv6`) and ICMPv6 neighbour discovery (`ndp`).
enum IPv6Observations {
    /// Address text as in `source.ip`: RFC 5952, an IPv4-mapped address in hex groups too.
    static func text(_ address: IPv6Address) -> String {
        FlowAddress(high: address.high, low: address.low).description
    }

    /// A link-layer address: a MAC when it has six bytes, else colon-separated lowercase hex; nil when empty.
    static func linkLayerText(_ bytes: [UInt8]) -> String? {
        if bytes.count == 6 { return bytes.withUnsafeBytes { MACAddress($0, at: 0) }?.description }
        guard !bytes.isEmpty else { return nil }
        return bytes.map { hexString([$0]) }.joined(separator: ":")
    }

    /// A vendor class datum: as text when every byte is printable ASCII, else `hex:` and its bytes.
    static func classDatum(_ bytes: [UInt8]) -> String {
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        return "hex:" + hexString(bytes)
    }

    /// Message types a client sends (RFC 8415 section 7.3).
    static func isClientMessage(_ type: UInt8) -> Bool { [1, 3, 4, 5, 6, 8, 9, 11].contains(type) }

    /// The payload of a DHCPv6 message: the client's (innermost) message of a relay chain; nil when a relay carries
    /// no decodable message.
    static func dhcpv6(_ outer: DHCPv6Message) -> (payload: DHCPv6Observation, duidMAC: MACAddress?)? {
        var message = outer
        var closest: DHCPv6Message?
        var hops = 0
        while message.isRelay {
            guard hops < 32, let inner = message.relayedMessage else { return nil }
            closest = message
            hops += 1
            message = inner
        }
        guard let transactionID = message.transactionID else { return nil }
        let duid = message.clientDUID
        var o = DHCPv6Observation(
            messageType: DHCPv6Message.messageTypeName(message.messageType),
            fromClient: isClientMessage(message.messageType), transactionId: transactionID,
            optionCodes: message.options.map { Int($0.code) })
        if let duid {
            o.clientDuid = duid.hex
            o.clientDuidType = Int(duid.type)
            o.clientLinkLayerAddress = duid.linkLayerAddress.flatMap(linkLayerText)
            o.clientDuidEnterpriseNumber = duid.enterpriseNumber
        }
        o.optionRequestList = message.optionRequestList.map { $0.map(Int.init) }
        o.vendorClass = message.vendorClass.map {
            DHCPv6Observation.VendorClass(enterpriseNumber: $0.enterpriseNumber, data: $0.data.map(classDatum))
        }
        if let fqdn = message.clientFQDN {
            o.clientFqdn = fqdn.name.isEmpty ? nil : fqdn.name
            o.clientFqdnFlags = Int(fqdn.flags)
        }
        o.elapsedTime = message.elapsedTime.map(Int.init)
        if let closest {
            o.relayHops = hops
            o.relayLinkAddress = closest.linkAddress.map(text)
            o.relayPeerAddress = closest.peerAddress.map(text)
        }
        return (o, duid?.mac)
    }

    /// The option type numbers of RFC 4861 and RFC 8106.
    static func optionType(_ option: NDOption) -> Int {
        switch option {
        case .sourceLinkLayerAddress: 1
        case .targetLinkLayerAddress: 2
        case .prefixInformation: 3
        case .mtu: 5
        case .recursiveDNSServers: 25
        case .dnsSearchList: 31
        case .other(let type, _): Int(type)
        }
    }

    /// The payload of a neighbour discovery message of ICMPv6 type `type`.
    static func ndp(_ message: NDMessage, type: UInt8) -> NDPObservation {
        var o = NDPObservation(type: ICMPv6Message.typeName(type), targetAddress: message.target.map(text))
        for option in message.options {
            o.optionTypes.append(optionType(option))
            switch option {
            case .sourceLinkLayerAddress(let a) where o.sourceLinkLayerAddress == nil:
                o.sourceLinkLayerAddress = linkLayerText(a)
            case .targetLinkLayerAddress(let a) where o.targetLinkLayerAddress == nil:
                o.targetLinkLayerAddress = linkLayerText(a)
            default:
                break
            }
        }
        switch message {
        case .neighborAdvertisement(let router, let solicited, let override, _, _):
            if router { o.flags.append("router") }
            if solicited { o.flags.append("solicited") }
            if override { o.flags.append("override") }
        case .routerAdvertisement(let ra):
            if ra.managed { o.flags.append("managed") }
            if ra.otherConfiguration { o.flags.append("other") }
            o.hopLimit = Int(ra.currentHopLimit)
            o.routerLifetime = Int(ra.routerLifetime)
            for option in ra.options {
                switch option {
                case .prefixInformation(let p):
                    o.prefixes.append(
                        NDPObservation.Prefix(
                            prefix: text(p.prefix), length: Int(p.prefixLength), onLink: p.onLink,
                            autonomous: p.autonomous, validLifetime: p.validLifetime,
                            preferredLifetime: p.preferredLifetime))
                case .mtu(let mtu) where o.mtu == nil:
                    o.mtu = mtu
                case .recursiveDNSServers(_, let servers):
                    o.dnsServers.append(contentsOf: servers.map(text))
                default:
                    break
                }
            }
        default:
            break
        }
        return o
    }
}
