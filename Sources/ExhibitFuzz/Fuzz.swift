import CaseBundle
import ChainOfCustody
import Foundation
import WARC
import PageAnalysis

// libFuzzer entry points for the parsers that read what others wrote (issue 9):
// the HTML shim and analysis, the WARC reader, the ledger parser and verifier,
// and bag/zip import. `make fuzz` builds this with `-sanitize=fuzzer,address
// -DFUZZING` and runs each target for a set time from the seeds in Fixtures/fuzz/.
// An ordinary build has no libFuzzer, so it gets a main that says how to fuzz.

#if FUZZING
/// Which parser to feed: `EXHIBIT_FUZZ_TARGET` = html, warc, ledger or zip.
let fuzzTarget = ProcessInfo.processInfo.environment["EXHIBIT_FUZZ_TARGET"] ?? "html"
/// Inputs that must be files (WARC, zip) are written here, one per process.
let scratch = NSTemporaryDirectory() + "/exhibit-fuzz-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(fuzzTarget, bytes, scratch: scratch)
    return 0
}

// SwiftPM links an executable target's entry point as `<Module>_main`; hand control
// to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("ExhibitFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
#else
@main
enum FuzzUsage {
    static func main() {
        print("exhibit-fuzz is built for fuzzing by `make fuzz` (libFuzzer); this build has no fuzzer.")
    }
}
#endif

/// The fuzz targets, also callable from tests to replay a crashing input.
public enum FuzzTargets {
    public static let names = ["html", "warc", "ledger", "zip"]

    public static func run(_ target: String, _ bytes: [UInt8], scratch: String) {
        switch target {
        case "html":
            let page = AnalyzedPage(html: bytes, url: "https://fuzz.example.org/a/b.html", contentType: nil)
            _ = (page.text.count, page.title, page.links.count, page.media.count, page.selectors.count, page.canonicalURL)
        case "warc":
            guard let path = write(bytes, named: "input.warc.gz", in: scratch) else { return }
            _ = try? WARCReader(path: path, keepBlocksUpTo: 1 << 20).records()
            _ = try? CDXJIndex.lines(of: [(path, "input.warc.gz")])
            _ = try? ArchivedResponse(warcPath: path, offset: 0)
        case "ledger":
            _ = Verifier.checkLedger(bytes: bytes, caseID: nil, keyFor: { _ in nil })
            for line in Ledger.lines(of: bytes) { _ = try? LedgerEntry(line: Array(line.bytes)) }
            _ = try? JSONValue(parsing: bytes)
        case "zip":
            guard let path = write(bytes, named: "input.zip", in: scratch) else { return }
            let target = scratch + "/extracted"
            try? FileManager.default.removeItem(atPath: target)
            _ = try? BundleVerification.verify(path)
            try? FileManager.default.removeItem(atPath: target)
        default:
            break
        }
    }

    static func write(_ bytes: [UInt8], named name: String, in directory: String) -> String? {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + name
        // No fsync: a fuzzer writes millions of these.
        return FileManager.default.createFile(atPath: path, contents: Data(bytes)) ? path : nil
    }
}
