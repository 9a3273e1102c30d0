@_spi(Benchmark) import Screening
import ChainOfCustody
import Foundation
import PageAnalysis

// `exhibit-bench`: the library calls `make bench` times against reference tools
// (docs/benchmarks.md). It is timed from outside, as a whole process, exactly as
// `openssl dgst` and `xmllint` are, so start-up is counted on both sides.
//
//   exhibit-bench digest [--all] FILE   the digests Exhibit computes over a file
//                                       (SHA-256; --all: SHA-256, SHA-512, SHA-1 and
//                                       MD5 in one pass), printed as `ALGO  HEX`
//   exhibit-bench analyze FILE...       Exhibit's full page analysis of each HTML file
//                                       (charset, parse, metadata, links, media, text,
//                                       selectors), printed as a one-line summary
//   exhibit-bench analyze --detail FILE   the same analysis printed in full (the
//                                       ledger summary, links, media, selectors), so
//                                       a change to PageAnalysis can be compared
//                                       against the previous build's output
//   exhibit-bench screen [--plain] [--runs N] FILE
//                                       protected-class screening (the lexicons compiled
//                                       in) of a UTF-8 text file, timed inside the process
//                                       (thread CPU time) so that start-up, reading and
//                                       other processes are not counted: the best of N
//                                       runs (default 3), printed as
//                                       `screen MODE BYTES SECONDS MB/s HITS`. --plain
//                                       reads the text as it is and matches terms only as
//                                       written (no DESIGN §23 normalisation), the
//                                       figure normalisation is measured against
//   exhibit-bench pdq … | similar …     media rows (MediaBench.swift)

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

let usage = "Usage: exhibit-bench digest [--all] FILE | exhibit-bench analyze [--detail] FILE... | exhibit-bench screen [--plain] [--runs N] FILE"
var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail(usage) }
arguments.removeFirst()

switch command {
case "digest":
    let all = arguments.contains("--all")
    let files = arguments.filter { $0 != "--all" }
    guard files.count == 1, let path = files.first else { fail(usage) }
    let algorithms: [DigestAlgorithm] = all ? [.sha256, .sha512, .sha1, .md5] : [.sha256]
    do throws(ExhibitError) {
        let (digests, _) = try Digest.file(atPath: path, algorithms: algorithms)
        for algorithm in algorithms {
            print("\(algorithm.rawValue.uppercased())  \(digests[algorithm] ?? "")")
        }
    } catch {
        fail(error.message, status: 5)
    }
case "analyze":
    let detail = arguments.contains("--detail")
    arguments.removeAll { $0 == "--detail" }
    guard !arguments.isEmpty else { fail(usage) }
    for path in arguments {
        guard let data = FileManager.default.contents(atPath: path) else {
            fail("Cannot read \(path).", status: 5)
        }
        let page = AnalyzedPage(html: [UInt8](data), url: "http://127.0.0.1/" + (path as NSString).lastPathComponent, contentType: "text/html")
        if detail {
            print("title=\(page.title ?? "-") text=\(page.text.count) links=\(page.links.count) media=\(page.media.count) selectors=\(page.selectors.count) canonical=\(page.canonicalURL ?? "-")")
            print("description=\(page.description ?? "-") published=\(page.publishedTime ?? "-") password=\(page.hasPasswordField)")
            print("og=\(page.openGraph.sorted { $0.key < $1.key }) twitter=\(page.twitter.sorted { $0.key < $1.key })")
            page.links.forEach { print("link \($0)") }
            page.media.forEach { print("media \($0)") }
            page.selectors.forEach { print("selector \($0.kind.rawValue) \($0.value) \($0.raw) \($0.source.rawValue) \($0.offset.map(String.init) ?? "-")") }
            print("text \(page.text)")
        }
        print("title=\(page.title ?? "-") links=\(page.links.count) media=\(page.media.count) text_bytes=\(page.text.utf8.count) selectors=\(page.selectors.count)")
    }
case "screen":
    let plain = arguments.contains("--plain")
    arguments.removeAll { $0 == "--plain" }
    var runs = 3
    if let flag = arguments.firstIndex(of: "--runs") {
        guard flag + 1 < arguments.count, let count = Int(arguments[flag + 1]), count > 0 else { fail(usage) }
        runs = count
        arguments.removeSubrange(flag...flag + 1)
    }
    guard arguments.count == 1, let path = arguments.first else { fail(usage) }
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        fail("Cannot read \(path) as UTF-8 text.", status: 5)
    }
    var screening: ProtectedClassScreening
    do throws(ExhibitError) {
        screening = try ProtectedClassScreening.embedded()
    } catch {
        fail(error.message, status: 5)
    }
    screening.normalizes = !plain
    var best = Double.infinity
    var hits = 0
    // This thread's CPU time, not wall time: on a machine shared with builds, a scan that
    // was descheduled half the time would measure the neighbours.
    let cpuSeconds = threadCPUSeconds
    for _ in 0..<runs {
        let start = cpuSeconds()
        hits = screening.hits(in: text).count
        best = min(best, cpuSeconds() - start)
    }
    let bytes = text.utf8.count
    print("screen \(plain ? "plain" : "normalised") \(bytes) \(String(format: "%.4f", best)) \(String(format: "%.1f", Double(bytes) / 1e6 / best)) \(hits)")
case "pdq":
    MediaBench.pdq(arguments)
case "similar":
    MediaBench.similar(arguments)
default:
    fail(usage + " | " + MediaBench.usage)
}
