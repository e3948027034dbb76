// libFuzzer entry for the medical protocols: DICOM upper layer and HL7 over MLLP.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = DICOMUpperLayer.detect(bytes)
    _ = DICOMUpperLayer.decode(bytes)
    _ = HL7Message.detect(bytes)
    _ = HL7Message.decodeAll(bytes)
    return 0
}
