@testable import CaseBundle
import ChainOfCustody
import Testing

/// The bound `ZipContainer.extract` charges twice, with the declared sizes and
/// then with each inflated chunk before it is written (DESIGN §16 "Containers").
/// The command-line test (ZipBombTests) meets the declared check first; this one
/// drives the written check, which stops a zip mid-entry.
@Suite("zip extraction budget")
struct ZipBudgetTests {
    @Test("a 245,195-byte zip may write 64 MiB + 100 × 245,195 bytes and not one byte more, chunk by chunk")
    func expansionBound() throws {
        var budget = ZipContainer.Budget(path: "bomb.zip", containerSize: 245_195, available: .max, limits: .init())
        let bound: UInt64 = (64 << 20) + 100 * 245_195
        #expect(budget.expansionBound == bound)
        // 16 KiB chunks, as ZIPFoundation inflates them, up to the bound exactly.
        var charged: UInt64 = 0
        while charged + 16_384 <= bound {
            try budget.charge(16_384, writing: true)
            charged += 16_384
        }
        try budget.charge(bound - charged, writing: true)
        let error = #expect(throws: ExhibitError.self) { try budget.charge(1, writing: true) }
        #expect(error?.code == .storage)
        #expect(error?.message == "bomb.zip expanded to more than \(bound) bytes (64 MiB plus 100 times its own 245195 bytes), a zip bomb; extraction was stopped and what it wrote removed.")
    }

    @Test("the free space bounds it too, and so does the 8 GiB total; sizes that overflow are refused, not wrapped")
    func freeSpaceAndTotal() throws {
        var small = ZipContainer.Budget(path: "x.zip", containerSize: 1 << 30, available: 10 << 20, limits: .init())
        try small.charge(10 << 20, writing: true)
        let full = #expect(throws: ExhibitError.self) { try small.charge(1, writing: true) }
        #expect(full?.message.contains("more than the 10485760 bytes free where it is extracted") == true)

        var large = ZipContainer.Budget(path: "x.zip", containerSize: 1 << 40, available: .max, limits: .init())
        let total = #expect(throws: ExhibitError.self) { try large.charge(9 << 30, writing: false) }
        #expect(total?.message == "x.zip declares more than 8 GiB of content; refused, nothing was extracted.")

        var wrapped = ZipContainer.Budget(path: "x.zip", containerSize: .max, available: .max, limits: .init())
        #expect(wrapped.expansionBound == .max)
        try wrapped.charge(1 << 30, writing: false)
        #expect(throws: ExhibitError.self) { try wrapped.charge(.max, writing: false) }
    }
}
