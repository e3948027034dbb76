import WardwatchModel

extension IdentityEngine {
    /// The evidence one observation carries about its device (the observation's source).
    public func evidence(for o: Observation) -> [Evidence] {
        let t = o.time.microseconds
        var out: [Evidence] = []
        func rule(_ signal: String, _ value: String?) {
            guard let value, !value.isEmpty, let e = evaluate(signal: signal, value: value, time: t) else { return }
            out.append(e)
        }
        switch o.kind {
        case .dhcp:
            guard let d = o.dhcp, d.isFromClient else { break }
            rule("dhcp_vendor_class", d.vendorClass)
            rule("hostname", d.hostname)
            if let prl = d.parameterRequestList {
                rule("dhcp_prl", prl.map(String.init).joined(separator: ","))
            }
        case .dhcpv6:
            guard let d = o.dhcpv6, d.fromClient else { break }
            // The client FQDN's first label is the host name (RFC 4704), as DHCPv4 option 12 carries it.
            rule("hostname", d.clientFqdn.flatMap { $0.split(separator: ".").first.map(String.init) })
            if let v = d.vendorClass {
                rule("dhcpv6_vendor_class", ([String(v.enterpriseNumber)] + v.data).joined(separator: " "))
            }
            if let oro = d.optionRequestList { rule("dhcpv6_oro", oro.map(String.init).joined(separator: ",")) }
        case .ndp:
            guard let n = o.ndp else { break }
            rule("ndp", n.type)
        case .tcpSyn:
            guard let s = o.tcpSyn else { break }
            if DeviceIdentityState.hopDistance(s.signature) == 0, let label = stackLabel(s) {
                var e = evaluate(signal: "tcp_stack", value: label.label.description, time: t)
                    ?? Evidence(signal: "tcp_stack", value: label.label.description, weight: 10, time: t)
                if e.os == nil { e.os = label.label.description }
                e.value = label.label.description
                if label.quality == .fuzzy { e.weight = e.weight / 2 }
                out.append(e)
            }
            if s.role == "server" { rule("server_port", "tcp/\(s.connection.localPort)") }
        case .tlsClientHello:
            guard let h = o.tlsClientHello else { break }
            rule("ja4", h.ja4)
            rule("dns_query", h.serverName)
        case .tlsCertificate:
            guard let c = o.tlsCertificate else { break }
            rule("certificate", c.subject)
        case .http:
            guard let h = o.http else { break }
            if h.direction == "request" {
                if let ua = h.userAgent, !ua.isEmpty {
                    out.append(evaluate(signal: "user_agent", value: ua, time: t)
                        ?? Evidence(signal: "user_agent", value: ua, weight: 0, time: t))
                }
            } else {
                rule("http_server", h.server)
            }
        case .dns:
            guard let d = o.dns, !d.response else { break }
            for q in d.questions.prefix(8) { rule("dns_query", q.name) }
        case .mdns:
            guard let d = o.mdns else { break }
            for r in (d.questions + d.answers).prefix(16) { rule("mdns", r.name) }
            if let e = modelEvidence(signal: "mdns_model", fields: d.modelFields, time: t) { out.append(e) }
        case .ssdp:
            guard let s = o.ssdp else { break }
            let text = [s.server, s.usn, s.notificationType].compactMap { $0 }.joined(separator: " ")
            rule("ssdp", text)
        case .lldp, .cdp:
            guard let n = o.kind == .lldp ? o.lldp : o.cdp else { break }
            let signal = o.kind.rawValue
            let text = ([n.systemDescription, n.platform, n.softwareVersion].compactMap { $0 } + n.capabilities)
                .joined(separator: " ")
            var e = evaluate(signal: signal, value: text, time: t) ?? Evidence(signal: signal, value: text, weight: 0, time: t)
            let inv = Dictionary(n.inventory.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            e.model = inv["model"] ?? n.platform ?? e.model
            e.version = inv["software_revision"] ?? inv["firmware_revision"] ?? n.softwareVersion ?? e.version
            if let maker = inv["manufacturer"] { e.vendor = maker }
            if e.isInformative {
                e.weight = max(e.weight, 40)
                out.append(e)
            }
        case .wsdiscovery:
            guard let w = o.wsdiscovery, w.endpointReference != nil else { break }
            rule("sdc", (w.types + w.scopes).joined(separator: " "))
        case .dicomAssociation:
            guard let d = o.dicomAssociation else { break }
            if let uid = d.implementationClassUid {
                let m = manufacturer(dicomUID: uid)
                out.append(Evidence(
                    signal: "dicom_impl", value: uid + (d.implementationVersionName.map { " " + $0 } ?? ""),
                    deviceClass: m?.typicalClass, vendor: m?.name, version: d.implementationVersionName,
                    weight: m == nil ? 10 : (m!.medical ? 60 : 20), rule: m.map { "dicom-root:\($0.name)" }, time: t))
            }
            let signal = d.pdu == "A-ASSOCIATE-RQ" ? "dicom_sop_requested" : "dicom_sop_accepted"
            var best: Evidence?
            for sop in d.abstractSyntaxes.prefix(64) {
                if let e = evaluate(signal: signal, value: sop, time: t), e.weight > (best?.weight ?? -1) { best = e }
            }
            if let best { out.append(best) }
        case .hl7Message:
            guard let h = o.hl7Message else { break }
            rule("hl7_application", h.sendingApplication)
            rule("hl7_message_type", h.messageType)
            for id in h.deviceIdentifiers.prefix(4) {
                if var e = evaluate(signal: "hl7_device", value: id.value, time: t) {
                    e.value = id.field + " " + id.value
                    out.append(e)
                }
            }
        case .arp, .tcpTimestamps, .flow:
            break
        }
        return out
    }

    /// Model and vendor named in mDNS TXT fields (md, model, ty, usb_MDL, manufacturer, usb_MFG).
    func modelEvidence(signal: String, fields: [KeyValue], time: Int64) -> Evidence? {
        var model: String?
        var vendor: String?
        for f in fields {
            switch f.key.lowercased() {
            case "md", "model", "ty", "usb_mdl", "product": if model == nil { model = f.value }
            case "manufacturer", "usb_mfg", "mfg": if vendor == nil { vendor = f.value }
            default: break
            }
        }
        guard model != nil || vendor != nil else { return nil }
        return Evidence(
            signal: signal, value: [vendor, model].compactMap { $0 }.joined(separator: " "), vendor: vendor,
            model: model, weight: 45, rule: "mdns-txt", time: time)
    }
}
