import ArgumentParser
import CaseManagement
import CaseReplay
import ChainOfCustody
import Foundation

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Screenshot captured pages from the case's own WARC files: a full-page PNG and a PDF per page, sealed as WARC resource records, blobs and a signed ledger entry.",
        discussion: """
        Replays each page on a loopback-only server that answers from the case's WARC files \
        and nothing else, and drives headless Chromium (Debian's chromium package; \
        $EXHIBIT_CHROMIUM names another binary) against it with every other network blocked. \
        Needs the investigator role and an open case. Exit 5 when Chromium is missing, \
        6 when a page could not be rendered (the others are recorded).
        """)

    @OptionGroup var options: CaseOptions
    @Argument(help: "One artifact to render (the id `exhibit artifacts` prints, or its full sha256); default: every captured HTML page.")
    var artifact: String?

    func run() throws {
        let session = try options.session(notices: { Console.error($0) })
        let report = try RenderProgressDisplay.run(RenderJob(session: session, caseID: options.caseID, options: RenderOptions(artifact: artifact)),
                                                   mode: ProgressMode.current(json: options.json))
        try RenderOutput.print(report, json: options.json, pageLines: false)
        if !options.json { RenderOutput.printFiles(report, caseDirectory: session.store.directory(of: options.caseID)) }
        if let code = report.exitCode { throw ExitCode(code.exitStatus) }
    }
}

/// How `render` (and `capture --screenshot`) prints a render job.
struct RenderOutput: Encodable {
    var `case`: String
    var render_id: String
    var warc: String?
    var chromium: String?
    var rendered: [RenderReport.Rendered]
    var failed: [RenderReport.Failure]
    var ledger_head: String?

    init(_ report: RenderReport) {
        self.case = report.caseID
        render_id = report.renderID
        warc = report.warc
        chromium = report.chromiumVersion
        rendered = report.rendered
        failed = report.failed
        ledger_head = report.ledgerHead
    }

    /// One line per rendered page (URL, PNG sha256, height) and per failure, or JSON.
    /// `pageLines` false: the job's progress has shown them already.
    static func print(_ report: RenderReport, json: Bool, pageLines: Bool = true) throws {
        if json {
            try Console.json(RenderOutput(report))
            return
        }
        guard pageLines else { return }
        for page in report.rendered {
            Console.line("rendered \(page.url)  png sha256 \(page.pngSHA256)  height \(page.height)")
        }
        for page in report.failed {
            Console.line("FAILED \(page.url) — \(page.reason)")
        }
    }
}

/// A render job with its progress shown (DESIGN §12): a status line of pages done,
/// failed, rate, bytes and ETA on a terminal; each page's line as soon as it is
/// rendered when stdout is a pipe.
enum RenderProgressDisplay {
    static func run(_ job: RenderJob, mode: ProgressMode) throws(ExhibitError) -> RenderReport {
        let caseID = job.caseID
        // Drawn once the job knows how many pages it has.
        var progress: LiveProgress?
        defer { progress?.finish() }
        let report = try job.run(events: { event in
            if progress == nil {
                progress = LiveProgress(mode: mode, counts: WorkCounts(queued: event.total)) { counts, elapsed in
                    ProgressText.render(caseID, counts, elapsed: elapsed)
                }
            }
            guard let progress else { return }
            progress.update { counts in
                counts.done = event.done
                counts.queued = event.total - event.done
                counts.bytes += event.bytes
                if event.failed { counts.failed += 1 }
            }
            if let line = event.line { progress.line(line) }
        })
        progress?.finish()
        return report
    }
}

extension RenderOutput {
    /// The files the job wrote, by their path under the case and their sha256
    /// (issue 18): each page's PNG and PDF blob, then the job's WARC file.
    static func printFiles(_ report: RenderReport, caseDirectory: String) {
        for page in report.rendered {
            Console.line("wrote \(page.png)  sha256 \(page.pngSHA256)  (screenshot of \(page.artifact), PNG \(page.width)x\(page.height))")
            Console.line("wrote \(page.pdf)  sha256 \(page.pdfSHA256)  (PDF of \(page.artifact))")
        }
        if let warc = report.warc, let sha = try? Digest.file(atPath: caseDirectory + "/" + warc).digests[.sha256] {
            Console.line("wrote \(warc)  sha256 \(sha)  (the PNGs and PDFs as WARC resource records)")
        }
    }
}
