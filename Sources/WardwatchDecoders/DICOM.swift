/// The DICOM upper layer association PDUs (DICOM PS3.8, section 9.3): A-ASSOCIATE-RQ, A-ASSOCIATE-AC and
/// A-ASSOCIATE-RJ, found by content on any TCP port.
///
/// Privacy: only association fields are read (AE titles, application context, presentation contexts, user
/// information). P-DATA-TF PDUs, where patient data lives, are never decoded; nothing past the PDU length is read;
/// of user identity negotiation only the identity type is read, never the username, passcode, Kerberos ticket,
/// SAML assertion or JWT bytes, nor the server response.
public enum DICOMUpperLayer {
    /// The registered DICOM port and the common alternative; detection does not depend on them.
    public static let wellKnownPorts: [UInt16] = [104, 11112]

    /// PDU types (PS3.8 table 9-11).
    public enum PDUType: UInt8, Sendable {
        case associateRequest = 0x01, associateAccept = 0x02, associateReject = 0x03
        case dataTransfer = 0x04, releaseRequest = 0x05, releaseResponse = 0x06, abort = 0x07
    }

    /// One presentation context: proposed (RQ) or answered (AC).
    public struct PresentationContext: Equatable, Sendable {
        public var id: UInt8
        /// The abstract syntax (SOP class) UID; A-ASSOCIATE-RQ only.
        public var abstractSyntax: String?
        /// The proposed transfer syntaxes (RQ) or the one accepted (AC; none when the context was rejected).
        public var transferSyntaxes: [String]
        /// The result of an A-ASSOCIATE-AC context: 0 acceptance, 1 user rejection, 2 no reason (provider
        /// rejection), 3 abstract syntax not supported, 4 transfer syntaxes not supported; nil in an RQ.
        public var result: UInt8?

        public init(id: UInt8, abstractSyntax: String? = nil, transferSyntaxes: [String] = [], result: UInt8? = nil) {
            self.id = id
            self.abstractSyntax = abstractSyntax
            self.transferSyntaxes = transferSyntaxes
            self.result = result
        }

        public static func resultName(_ result: UInt8) -> String {
            switch result {
            case 0: "acceptance"
            case 1: "user-rejection"
            case 2: "no-reason"
            case 3: "abstract-syntax-not-supported"
            case 4: "transfer-syntaxes-not-supported"
            default: "result-\(result)"
            }
        }
    }

    /// The user information item (0x50) and the sub-items identity needs.
    public struct UserInformation: Equatable, Sendable {
        /// Maximum length sub-item (0x51); 0 means unlimited.
        public var maximumLength: UInt32?
        /// Implementation class UID sub-item (0x52).
        public var implementationClassUID: String?
        /// Implementation version name sub-item (0x55).
        public var implementationVersionName: String?
        /// The user identity type of an RQ's user identity sub-item (0x58): 1 username, 2 username and passcode,
        /// 3 Kerberos, 4 SAML, 5 JWT. Only this byte is read; the identity itself never is.
        public var userIdentityType: UInt8?
        /// True where an AC carries a user identity server response sub-item (0x59); its content is never read.
        public var hasUserIdentityServerResponse: Bool
        /// The sub-item types in wire order (0x51 to 0x59, or others): part of an implementation's fingerprint.
        public var subItemTypes: [UInt8]

        public init(
            maximumLength: UInt32? = nil, implementationClassUID: String? = nil, implementationVersionName: String? = nil,
            userIdentityType: UInt8? = nil, hasUserIdentityServerResponse: Bool = false, subItemTypes: [UInt8] = []
        ) {
            self.maximumLength = maximumLength
            self.implementationClassUID = implementationClassUID
            self.implementationVersionName = implementationVersionName
            self.userIdentityType = userIdentityType
            self.hasUserIdentityServerResponse = hasUserIdentityServerResponse
            self.subItemTypes = subItemTypes
        }

        public static func userIdentityTypeName(_ type: UInt8) -> String {
            switch type {
            case 1: "username"
            case 2: "username-and-passcode"
            case 3: "kerberos"
            case 4: "saml"
            case 5: "jwt"
            default: "type-\(type)"
            }
        }
    }

    /// The content of an A-ASSOCIATE-RQ or A-ASSOCIATE-AC.
    public struct Negotiation: Equatable, Sendable {
        public var protocolVersion: UInt16
        /// Called AE title, leading and trailing spaces removed.
        public var calledAETitle: String
        /// Calling AE title, leading and trailing spaces removed.
        public var callingAETitle: String
        /// Application context name UID (item 0x10); 1.2.840.10008.3.1.1.1 for DICOM.
        public var applicationContextName: String?
        /// Presentation contexts in wire order.
        public var presentationContexts: [PresentationContext]
        public var userInformation: UserInformation?
        /// The PDU length field: bytes after the 6-byte PDU header.
        public var pduLength: UInt32
        /// False where the buffer held only the first part of the PDU (a PDU split over TCP segments): then only
        /// the items wholly inside the buffer are decoded.
        public var isComplete: Bool

        /// Abstract syntaxes of the presentation contexts, in wire order (A-ASSOCIATE-RQ).
        public var abstractSyntaxes: [String] { presentationContexts.compactMap(\.abstractSyntax) }
    }

    /// An A-ASSOCIATE-RJ.
    public struct Rejection: Equatable, Sendable {
        /// 1 rejected-permanent, 2 rejected-transient.
        public var result: UInt8
        /// 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation).
        public var source: UInt8
        public var reason: UInt8

        public var resultName: String {
            switch result {
            case 1: "rejected-permanent"
            case 2: "rejected-transient"
            default: "result-\(result)"
            }
        }

        public var sourceName: String {
            switch source {
            case 1: "service-user"
            case 2: "service-provider-acse"
            case 3: "service-provider-presentation"
            default: "source-\(source)"
            }
        }

        public var reasonName: String {
            switch (source, reason) {
            case (1, 1): "no-reason-given"
            case (1, 2): "application-context-name-not-supported"
            case (1, 3): "calling-ae-title-not-recognized"
            case (1, 7): "called-ae-title-not-recognized"
            case (2, 1): "no-reason-given"
            case (2, 2): "protocol-version-not-supported"
            case (3, 1): "temporary-congestion"
            case (3, 2): "local-limit-exceeded"
            default: "reason-\(reason)"
            }
        }
    }

    /// A decoded association PDU.
    public enum PDU: Equatable, Sendable {
        case associateRequest(Negotiation)
        case associateAccept(Negotiation)
        case associateReject(Rejection)
    }

    public enum DecodeError: Error, Equatable, Sendable {
        /// Too few bytes for the fixed part of the PDU.
        case truncated
        /// A valid-looking PDU header of another type (P-DATA, release, abort): deliberately not decoded.
        case notAssociationPDU(type: UInt8)
        /// Not an association PDU: reserved bytes, version, AE titles, lengths or items do not fit.
        case malformed
    }

    /// Bytes of the fixed fields of an RQ or AC after the 6-byte PDU header: version, reserved, two AE titles,
    /// 32 reserved bytes.
    static let fixedFieldsLength = 68
    /// First variable item: 6-byte header plus the fixed fields.
    static let firstItemOffset = 74
    /// Association PDUs above this are not plausible (an RQ with 128 contexts of long UIDs stays under 64 KiB).
    static let maximumAssociatePDULength: UInt32 = 1 << 20

    /// True where `bytes` (a TCP payload) starts with an A-ASSOCIATE-RQ, -AC or -RJ: reserved bytes zero, protocol
    /// version 1, AE titles printable, a plausible PDU length and items of the right types that fit inside it.
    /// Works on the first TCP segment of a PDU split over several. Does not allocate.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch validate(bytes) {
        case .success: true
        case .failure: false
        }
    }

    /// Decodes an association PDU at the start of `bytes` (a TCP payload, or a reassembled stream).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<PDU, DecodeError> {
        let header: Header
        switch validate(bytes) {
        case .success(let h): header = h
        case .failure(let error): return .failure(error)
        }
        switch header.type {
        case .associateReject:
            return .success(.associateReject(Rejection(result: bytes[7], source: bytes[8], reason: bytes[9])))
        case .associateRequest, .associateAccept:
            let negotiation = decodeNegotiation(bytes, header)
            return .success(
                header.type == .associateRequest ? .associateRequest(negotiation) : .associateAccept(negotiation))
        default:
            return .failure(.notAssociationPDU(type: header.type.rawValue))
        }
    }

    struct Header {
        var type: PDUType
        var length: UInt32
        /// End of the PDU's bytes inside the buffer: min(count, 6 + length).
        var end: Int
        var isComplete: Bool
    }

    /// The strict checks behind `detect` and `decode`.
    static func validate(_ bytes: UnsafeRawBufferPointer) -> Result<Header, DecodeError> {
        guard let typeByte = bytes.readUInt8(at: 0), let reserved = bytes.readUInt8(at: 1),
            let length = bytes.readUInt32(at: 2)
        else { return .failure(.truncated) }
        guard reserved == 0, let type = PDUType(rawValue: typeByte) else { return .failure(.malformed) }
        switch type {
        case .associateReject:
            guard length == 4 else { return .failure(.malformed) }
            guard bytes.count >= 10 else { return .failure(.truncated) }
            guard bytes[6] == 0, validRejection(result: bytes[7], source: bytes[8], reason: bytes[9]) else {
                return .failure(.malformed)
            }
            return .success(Header(type: type, length: length, end: 10, isComplete: true))
        case .associateRequest, .associateAccept:
            guard length >= UInt32(fixedFieldsLength + 4), length <= maximumAssociatePDULength else {
                return .failure(.malformed)
            }
            // The fixed fields and at least the first item header must be in the buffer.
            guard bytes.count >= firstItemOffset + 4 else { return .failure(.truncated) }
            // An AC echoes the RQ's titles but they are not tested (PS3.8 9.3.3.2), so some send them blank.
            let blankAllowed = type == .associateAccept
            guard bytes.readUInt16(at: 6) == 1, bytes.readUInt16(at: 8) == 0,
                validAETitle(bytes, at: 10, blankAllowed: blankAllowed),
                validAETitle(bytes, at: 26, blankAllowed: blankAllowed)
            else { return .failure(.malformed) }
            for i in 42..<firstItemOffset where bytes[i] != 0 { return .failure(.malformed) }
            let pduEnd = 6 + Int(length)
            let end = min(bytes.count, pduEnd)
            let presentationItem: UInt8 = type == .associateRequest ? 0x20 : 0x21
            var seen: (context: Bool, presentation: Bool, user: Bool) = (false, false, false)
            var i = firstItemOffset
            while i < end {
                let itemType = bytes[i]
                switch itemType {
                case 0x10: seen.context = true
                case 0x50: seen.user = true
                case presentationItem: seen.presentation = true
                default: return .failure(.malformed)
                }
                if i + 1 < end, bytes[i + 1] != 0 { return .failure(.malformed) }
                // An item header cut by the end of the buffer: fine for a partial PDU.
                guard i + 4 <= end, let itemLength = bytes.readUInt16(at: i + 2) else { break }
                let next = i + 4 + Int(itemLength)
                guard next <= pduEnd else { return .failure(.malformed) }
                i = next
            }
            if end == pduEnd {
                // Whole PDU present: the items fill it exactly and the mandatory ones are all there.
                guard i == pduEnd, seen.context, seen.presentation, seen.user else { return .failure(.malformed) }
            }
            return .success(Header(type: type, length: length, end: end, isComplete: end == pduEnd))
        default:
            // Other PDU types are recognised but never decoded; their headers are too weak to detect by content.
            guard length > 0, length <= 0x7FFF_FFFF else { return .failure(.malformed) }
            return .failure(.notAssociationPDU(type: typeByte))
        }
    }

    static func validRejection(result: UInt8, source: UInt8, reason: UInt8) -> Bool {
        guard result == 1 || result == 2 else { return false }
        switch source {
        case 1: return reason >= 1 && reason <= 10  // 1, 2, 3, 7 defined; 4 to 6 and 8 to 10 reserved
        case 2: return reason == 1 || reason == 2
        case 3: return reason <= 7  // 1, 2 defined; 0 and 3 to 7 reserved
        default: return false
        }
    }

    /// An AE title field: 16 bytes of the default repertoire without backslash or control characters, space padded
    /// (trailing NULs tolerated), not blank unless `blankAllowed`.
    static func validAETitle(_ bytes: UnsafeRawBufferPointer, at offset: Int, blankAllowed: Bool = false) -> Bool {
        guard let field = bytes.slice(offset, 16) else { return false }
        var significant = false
        var inNULPadding = false
        for byte in field {
            if byte == 0 {
                inNULPadding = true
                continue
            }
            if inNULPadding { return false }
            guard byte >= 0x20, byte < 0x7F, byte != 0x5C else { return false }
            if byte != 0x20 { significant = true }
        }
        return significant || blankAllowed
    }

    static func decodeNegotiation(_ bytes: UnsafeRawBufferPointer, _ header: Header) -> Negotiation {
        var negotiation = Negotiation(
            protocolVersion: bytes.readUInt16(at: 6) ?? 0, calledAETitle: text(bytes.slice(10, 16)),
            callingAETitle: text(bytes.slice(26, 16)), applicationContextName: nil, presentationContexts: [],
            userInformation: nil, pduLength: header.length, isComplete: header.isComplete)
        forEachItem(bytes, from: firstItemOffset, to: header.end) { type, value in
            switch type {
            case 0x10:
                if negotiation.applicationContextName == nil { negotiation.applicationContextName = text(value) }
            case 0x20, 0x21:
                if let context = presentationContext(value, isAccept: type == 0x21) {
                    negotiation.presentationContexts.append(context)
                }
            case 0x50:
                if negotiation.userInformation == nil { negotiation.userInformation = userInformation(value) }
            default:
                break
            }
        }
        return negotiation
    }

    /// Calls `body` with each item (type, value) wholly inside `start..<end`; stops at the first that is not.
    static func forEachItem(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int,
        _ body: (UInt8, UnsafeRawBufferPointer) -> Void
    ) {
        var i = start
        while i + 4 <= end, let type = bytes.readUInt8(at: i), let length = bytes.readUInt16(at: i + 2) {
            let next = i + 4 + Int(length)
            guard next <= end, let value = bytes.slice(i + 4, Int(length)) else { return }
            body(type, value)
            i = next
        }
    }

    /// Presentation context item value: context id, reserved, result/reason (AC), reserved, then sub-items.
    static func presentationContext(_ value: UnsafeRawBufferPointer, isAccept: Bool) -> PresentationContext? {
        guard value.count >= 4 else { return nil }
        var context = PresentationContext(id: value[0], result: isAccept ? value[2] : nil)
        forEachItem(value, from: 4, to: value.count) { type, sub in
            switch type {
            case 0x30 where !isAccept:
                if context.abstractSyntax == nil { context.abstractSyntax = text(sub) }
            case 0x40:
                context.transferSyntaxes.append(text(sub))
            default:
                break
            }
        }
        return context
    }

    static func userInformation(_ value: UnsafeRawBufferPointer) -> UserInformation {
        var info = UserInformation()
        forEachItem(value, from: 0, to: value.count) { type, sub in
            if info.subItemTypes.count < 32 { info.subItemTypes.append(type) }
            switch type {
            case 0x51:
                if sub.count == 4 { info.maximumLength = sub.readUInt32(at: 0) }
            case 0x52:
                info.implementationClassUID = text(sub)
            case 0x55:
                info.implementationVersionName = text(sub)
            case 0x58:
                // User identity negotiation (RQ): the first byte is the identity type. The primary and secondary
                // fields that follow (username, passcode, ticket, assertion, token) are never read.
                info.userIdentityType = sub.readUInt8(at: 0)
            case 0x59:
                info.hasUserIdentityServerResponse = true
            default:
                break
            }
        }
        return info
    }

    /// Longest text kept from one field; UIDs are at most 64 characters, AE titles 16.
    static let maximumTextLength = 128

    /// An AE title or UID as text: leading spaces, trailing spaces and NUL padding removed, bytes outside
    /// printable ASCII replaced by "?", at most `maximumTextLength` characters.
    static func text(_ field: UnsafeRawBufferPointer?) -> String {
        guard let field else { return "" }
        var start = 0
        var end = field.count
        while start < end, field[start] == 0x20 { start += 1 }
        while end > start, field[end - 1] == 0x20 || field[end - 1] == 0 { end -= 1 }
        end = min(end, start + maximumTextLength)
        var out = [UInt8]()
        out.reserveCapacity(end - start)
        for i in start..<end {
            let byte = field[i]
            out.append(byte >= 0x20 && byte < 0x7F ? byte : 0x3F)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
