// libFuzzer entry for DNS and mDNS: the decoded message and the in-place view, every accessor of each. The view must
// accept exactly what the decoder accepts, and keep as many questions and records.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let decoded = DNSMessage.decode(bytes)
    if case .success(let m) = decoded {
        _ = (m.modelTXTFields, m.answerHostNames, m.queriedHostNames, m.serviceInstances)
    }
    guard let view = DNSMessageView(bytes) else {
        if case .success = decoded { fatalError("the view refuses a message that decodes") }
        return 0
    }
    guard case .success(let m) = decoded else { fatalError("the view accepts a message that does not decode") }
    var nameBytes = 0
    let (questions, records) = view.withEntries { questions, records in
        for question in questions { nameBytes += view.withName(question) { $0.count } ?? 0 }
        for record in records {
            nameBytes += view.withName(record) { $0.count } ?? 0
            nameBytes += view.withTarget(record) { $0.count } ?? 0
            nameBytes += view.data(record).count
            view.forEachCharacterString(record) { nameBytes += $0.count }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: DNSMessageView.ipv6AddressTextLength) {
                nameBytes += view.writeIPv6AddressText(record, to: $0.baseAddress!) ?? 0
            }
        }
        return (questions.count, records.count)
    }
    if questions != m.questions.count || records != m.answers.count + m.authorities.count + m.additionals.count {
        fatalError("the view keeps \(questions) questions and \(records) records, the decoder \(m.questions.count) and \(m.records.count)")
    }
    return nameBytes == -1 ? 1 : 0
}
