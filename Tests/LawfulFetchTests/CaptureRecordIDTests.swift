import Foundation
import Testing
import WARC

/// Every WARC record a capture writes gets `WARCRecord.newRecordID()`: a random
/// version 4 UUID written as Foundation writes one, lower case.
@Suite("Capture record ids")
struct CaptureRecordIDTests {
    @Test("ids are random version 4 UUIDs in Foundation's spelling, all different")
    func recordIDs() throws {
        let ids = (0..<2000).map { _ in WARCRecord.newRecordID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.hasPrefix("<urn:uuid:") && id.hasSuffix(">"))
            let text = String(id.dropFirst(10).dropLast())
            let uuid = try #require(UUID(uuidString: text), "\(id)")
            #expect(uuid.uuidString.lowercased() == text)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 4, "version of \(id)")
            #expect(bytes[8] >> 6 == 2, "variant of \(id)")
        }
        // Random bits everywhere else: of the 32 hex digits only the version's is fixed
        // (the variant's is one of 8, 9, a, b).
        let varying = Array(ids[0].utf8).indices.filter { index in Set(ids.map { Array($0.utf8)[index] }).count > 1 }
        #expect(varying.count == 31, "\(varying.count) varying positions")
    }
}
