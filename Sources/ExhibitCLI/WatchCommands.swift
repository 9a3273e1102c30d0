import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation
import LawfulFetch
import Watches

/// `exhibit watch add|list|remove|run` (DESIGN §18, docs/watches.md).
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Re-capture a URL on a schedule and record what changed, what was removed and when.",
        discussion: """
        Watches and every run are entries of the case's ledger. `exhibit watch run --due` \
        is what cron or a systemd timer calls (docs/watches.md gives both).
        """,
        subcommands: [WatchAddCommand.self, WatchListCommand.self, WatchRemoveCommand.self, WatchRunCommand.self])

    /// What this command line adds to a library error about one of the watch inputs.
    static let hints: [ExhibitError.Input: String] = [
        .watchInterval: " with --every",
        .watchEnd: " with --until",
        .diffCase: " with --case CASE",
    ]

    /// Runs `body`, naming the flag of a watch input a library error is about.
    static func withFlags<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExhibitError {
            guard let input = error.input, let hint = hints[input] else { throw error }
            var message = error.message
            if message.hasSuffix(".") { message.removeLast() }
            throw ExhibitError(error.code, message + hint + ".")
        }
    }
}

struct WatchAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Watch a URL: capture it again every DURATION into the case (investigator; recorded in the ledger).")

    @OptionGroup var options: CaseOptions
    @Argument(help: "The URL to watch.") var url: String
    @Option(name: .long, help: "How often: 30m, 6h, 1d, 2w or a sum such as 1h30m (at least 1m).") var every: String
    @Flag(name: .long, help: "Capture in headless Chromium, as `capture --browser` does (pages that JavaScript writes).") var browser = false
    @Option(name: .long, help: "Stop after this day (YYYY-MM-DD, UTC) or time (YYYY-MM-DDTHH:MM:SSZ).") var until: String?
    @Option(name: .long, help: "Open an address range (CIDR) for this watch's captures, e.g. an agency intranet (repeatable; needs --reason). Sealed with the watch and recorded at every run.")
    var allowNetwork: [String] = []
    @Option(name: .long, help: "Why --allow-network is used (recorded with the watch).") var reason: String?

    func validate() throws {
        if allowNetwork.isEmpty, reason != nil {
            throw ValidationError("--reason goes with --allow-network; a watch without a network override needs no reason.")
        }
        if !allowNetwork.isEmpty, reason == nil {
            throw ValidationError("--allow-network needs --reason TEXT saying why the range is opened.")
        }
    }

    func run() throws {
        var request = WatchBook.Request(url: url, every: every)
        request.until = until
        request.browser = browser
        request.allowNetworks = allowNetwork
        request.reason = reason
        let watch = try WatchCommand.withFlags { try WatchBook(session: options.session()).add(caseID: options.caseID, request) }
        if options.json { try Console.json(CreatedID(id: watch.id)); return }
        Console.line(watch.id)
    }
}

struct WatchListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the watches of a case, or of every case: URL, interval, state, last result, next run.")

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The case id (default: every case you may list).") var caseID: String?

    func run() throws {
        let listings = try WatchBook(session: options.session()).list(caseID: caseID)
        if options.json { try Console.json(WatchList(watches: listings)); return }
        if listings.isEmpty {
            Console.line(caseID.map { "No watches in \($0)." } ?? "No watches.")
            return
        }
        for listing in listings {
            let watch = listing.watch
            var text = "\(watch.id)  every \(watch.every)  \(listing.state)"
            if listing.state == "stopped" { text += " (case \(listing.caseStatus))" }
            text += "  runs \(watch.runs)"
            if let result = watch.lastResult {
                text += "  last \(result)"
                if result == "unreachable" { text += " (\(watch.consecutiveUnreachable) in a row)" }
                if let last = watch.lastRunStarted { text += " at \(last)" }
            }
            if let next = listing.nextDue { text += "  next \(next)" }
            if let until = watch.until { text += "  until \(until)" }
            if !watch.allowNetworks.isEmpty { text += "  allow-network \(watch.allowNetworks.joined(separator: " "))" }
            Console.line(text + "  \(watch.url)")
        }
    }

    struct WatchList: Encodable {
        var watches: [WatchBook.Listing]
    }
}

struct WatchRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "End a watch (investigator; recorded in the ledger). Its runs stay in the case.")

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The watch id that `watch add` printed (CASE-W0007).") var watchID: String
    @Option(name: .long, help: "Why the watch ends (recorded).") var reason: String?

    func run() throws {
        let watch = try WatchBook(session: options.session()).remove(watchID, reason: reason)
        if options.json { try Console.json(["id": watch.id, "removed_at": watch.removedAt ?? ""]); return }
        Console.line("removed \(watch.id) \(watch.url)")
    }
}

struct WatchRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Capture watched URLs again and record a change entry for each (what cron or a systemd timer calls with --due).",
        discussion: """
        Each run is a capture by the acting actor (investigator). Exit 6 when a watched \
        URL was unreachable (recorded, and retried at the next run); a watch on a closed \
        or held case is reported as stopped and not captured.
        """)

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Only the watches that are due now.") var due = false
    @Option(name: .customLong("case"), help: "Only this case's watches.") var caseID: String?
    @Option(name: .long, help: "Transfers at once, as for capture.") var concurrency = 4

    func run() throws {
        let json = options.json
        let report = try WatchRunner(session: options.session()).run(dueOnly: due, caseID: caseID, concurrency: concurrency, line: { line in
            if !json { Console.line(line) }
        })
        for skipped in report.stopped {
            Console.error("watch \(skipped.watch) stopped: \(skipped.reason).")
        }
        if json {
            try Console.json(report)
        } else {
            var counts: [String: Int] = [:]
            for outcome in report.ran { counts[outcome.result, default: 0] += 1 }
            let parts = ["captured", "unchanged", "changed", "removed", "unreachable"].compactMap { key in counts[key].map { "\($0) \(key)" } }
            var summary = "\(report.ran.count) watch\(report.ran.count == 1 ? "" : "es") ran"
            if !parts.isEmpty { summary += " (\(parts.joined(separator: ", ")))" }
            summary += "; \(report.stopped.count) stopped, \(report.busy.count) busy, \(report.failed.count) failed, \(report.notDue) not due"
            Console.line(summary)
        }
        if let code = report.exitCode { throw ExitCode(code.exitStatus) }
    }
}
