import ArgumentParser
import CaseManagement
import ChainOfCustody

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Set aside a torn last ledger line that a power loss left, so the case can be appended to again (custodian).",
        discussion: """
        `exhibit verify` reports such a line as TORN-TAIL. The torn bytes are kept as a \
        blob under custody, cut off the ledger, and a `recovery` entry records their \
        sha256: nothing is deleted and nothing hidden. A ledger that ends with a \
        complete line is left alone and nothing is recorded.
        """)

    @OptionGroup var options: CaseOptions

    func run() throws {
        let entry = try options.session().recover(options.caseID)
        let blob = entry?.subject?["blob"]
        if options.json {
            try Console.json(RecoverOutput(seq: entry?.seq, blob: blob?["path"]?.stringValue, sha256: blob?["sha256"]?.stringValue,
                                           size: blob?["size"]?.intValue))
        } else if let entry {
            print("\(entry.seq)")
            Console.error("set aside \(blob?["size"]?.intValue ?? 0) torn bytes as \(blob?["path"]?.stringValue ?? "a blob") (recovery entry \(entry.seq))")
        } else {
            Console.error("the ledger of \(options.caseID) ends with a complete line; nothing to recover")
        }
    }
}

/// `exhibit recover --json`: the recovery entry's seq and the blob, or nulls when nothing was torn.
struct RecoverOutput: Encodable {
    var seq: Int64?
    var blob: String?
    var sha256: String?
    var size: Int64?
}
