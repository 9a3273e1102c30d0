import Foundation

/// How a long command (capture, render, export, verify) shows its work while it
/// runs (DESIGN §12; issue 18 item 2).
///
/// - On a terminal: one live status line at the bottom (counts, rate, bytes, ETA),
///   redrawn in place; each item's line scrolls above it.
/// - When stdout is a pipe or a file: each item's line as soon as it is decided,
///   flushed at once. stdio buffers a pipe in 4 KiB blocks, so without the flush a
///   200-page crawl piped to `tee` showed nothing until the end.
/// - With `--json`: nothing until the JSON document.
enum ProgressMode {
    case terminal, lines, json

    static func current(json: Bool) -> ProgressMode {
        json ? .json : Console.isTerminal ? .terminal : .lines
    }
}

/// What a job has done so far, as its status line counts it.
struct WorkCounts: Sendable {
    /// Items decided: captured, failed or refused (capture); rendered or failed (render).
    var done = 0
    /// Items known and not yet decided.
    var queued = 0
    var failed = 0
    var refused = 0
    /// HTTP answers of 400 or more among the captured.
    var httpErrors = 0
    var bytes: Int64 = 0
}

/// The live status line and the item lines of one long command.
///
/// Item lines go through `Console.line` (inert, DESIGN §16). The status line is the
/// one thing written to the terminal directly, as `\r` + erase-line + the text, and
/// its text is passed through `InertText.escape` first: it may hold a case id or a
/// file name. Everything is written under one lock, from the job's thread and from
/// the ticker that keeps the elapsed time, rate and ETA moving while nothing is decided.
final class LiveProgress: @unchecked Sendable {
    typealias Describe = @Sendable (_ counts: WorkCounts, _ elapsed: Double) -> String

    let mode: ProgressMode
    private let describe: Describe
    private let started = LiveProgress.now()
    // Read and written only while `lock` is held.
    private let lock = NSLock()
    private var counts: WorkCounts
    private var drawn = false
    private var stopped = false

    /// Starts the display; on a terminal the status line is drawn at once and
    /// redrawn four times a second until `finish()`.
    init(mode: ProgressMode, counts: WorkCounts = WorkCounts(), describe: @escaping Describe) {
        self.mode = mode
        self.counts = counts
        self.describe = describe
        guard mode == .terminal else { return }
        lock.withLock { draw() }
        let ticker = Thread { [self] in
            while true {
                usleep(250_000)
                let running = lock.withLock { () -> Bool in
                    if !stopped { draw() }
                    return !stopped
                }
                if !running { return }
            }
        }
        ticker.name = "exhibit-progress"
        ticker.start()
    }

    /// Shows one item's line now: above the status line on a terminal, flushed on
    /// a pipe; nothing with `--json`.
    func line(_ text: String) {
        guard mode != .json else { return }
        lock.withLock {
            erase()
            Console.line(text)
            fflush(nil)
            if mode == .terminal && !stopped { draw() }
        }
    }

    /// Changes the counts; the status line shows them with the next `line` or tick.
    func update(_ change: (inout WorkCounts) -> Void) {
        lock.withLock { change(&counts) }
    }

    /// The counts so far.
    var current: WorkCounts { lock.withLock { counts } }

    /// Stops the ticker and erases the status line, so that what follows starts
    /// on a clean line. Safe to call more than once.
    func finish() {
        lock.withLock {
            stopped = true
            erase()
        }
    }

    /// Seconds on CLOCK_MONOTONIC.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    // MARK: Terminal writing (lock held)

    private func draw() {
        let text = Self.fit(InertText.escape(describe(counts, Self.now() - started)), width: Self.terminalWidth())
        write("\r\u{1B}[2K" + text)
        drawn = true
    }

    private func erase() {
        guard drawn else { return }
        write("\r\u{1B}[2K")
        drawn = false
    }

    private func write(_ text: String) {
        // What stdio holds goes first, so the line lands after it.
        fflush(nil)
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// A line longer than the terminal would wrap, and `\r` would then redraw only
    /// its last row: cut it to the width.
    static func fit(_ text: String, width: Int) -> String {
        guard text.count >= width else { return text }
        return String(text.prefix(max(width - 2, 1))) + "…"
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}

/// Words for the status line.
enum ProgressText {
    /// "512 B", "12 KB", "1.4 MB", "2.1 GB" (powers of 1000, as disks are sold).
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(max(count, 0))
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(count) B" }
        return (value < 10 ? String(format: "%.1f", value) : "\(Int(value.rounded()))") + " " + units[unit]
    }

    /// "45 s", "3 min 20 s", "2 h 5 min".
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        if total < 60 { return "\(total) s" }
        if total < 3600 { return total % 60 == 0 ? "\(total / 60) min" : "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \((total % 3600) / 60) min"
    }

    /// "1", "0.5", "2.25": seconds as the user would type them.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
    }

    /// "3.2", "12", "0.4": a rate per second.
    static func rate(_ perSecond: Double) -> String {
        perSecond < 10 ? String(format: "%.1f", perSecond) : "\(Int(perSecond.rounded()))"
    }

    /// " · ETA 9 s" when `remaining` items at the rate so far, "" before the first.
    static func eta(remaining: Double, done: Double, elapsed: Double) -> String {
        guard done > 0, elapsed > 0, remaining > 0 else { return "" }
        return " · ETA " + duration(remaining / (done / elapsed))
    }

    /// The capture status line: "capture OC-2026-0001: 13/43 done (12 captured, 1 failed,
    /// 0 refused) · 3.2 URLs/s · 1.4 MB · ETA 9 s".
    static func capture(_ caseID: String, _ counts: WorkCounts, elapsed: Double) -> String {
        let captured = counts.done - counts.failed - counts.refused
        var text = "capture \(caseID): \(counts.done)/\(counts.done + counts.queued) done (\(captured) captured"
        if counts.httpErrors > 0 { text += ", \(counts.httpErrors) with HTTP error\(counts.httpErrors == 1 ? "" : "s")" }
        text += ", \(counts.failed) failed, \(counts.refused) refused)"
        text += " · \(rate(elapsed > 0 ? Double(counts.done) / elapsed : 0)) URLs/s · \(bytes(counts.bytes))"
        text += eta(remaining: Double(counts.queued), done: Double(counts.done), elapsed: elapsed)
        return text
    }

    /// The render status line: "render OC-2026-0001: 3/10 pages (0 failed) · 0.5 pages/s · 2.1 MB · ETA 14 s".
    static func render(_ caseID: String, _ counts: WorkCounts, elapsed: Double) -> String {
        var text = "render \(caseID): \(counts.done)/\(counts.done + counts.queued) pages (\(counts.failed) failed)"
        text += " · \(rate(elapsed > 0 ? Double(counts.done) / elapsed : 0)) pages/s · \(bytes(counts.bytes))"
        text += eta(remaining: Double(counts.queued), done: Double(counts.done), elapsed: elapsed)
        return text
    }
}

/// The bytes this process has read and written (Linux `/proc/self/io`, every
/// thread; page-cache hits count too). Export and verify hash whole files with
/// plain reads, so these say how far they are without a hook in the library.
struct ProcessIO {
    var read: Int64
    var written: Int64

    static func now() -> ProcessIO? {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return nil }
        var read: Int64?
        var written: Int64?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "rchar" { read = Int64(parts[1]) }
            if parts[0] == "wchar" { written = Int64(parts[1]) }
        }
        guard let read, let written else { return nil }
        return ProcessIO(read: read, written: written)
    }

    /// The size of a file, or of every regular file under a directory (symbolic links not followed).
    static func size(of path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        if (info.st_mode & S_IFMT) == S_IFREG { return Int64(info.st_size) }
        guard (info.st_mode & S_IFMT) == S_IFDIR, let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        for case let relative as String in walker {
            if lstat(path + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { total += Int64(info.st_size) }
        }
        return total
    }

    /// A status line for work measured by bytes: "verify OC-2026-0001: 120 MB read of about
    /// 340 MB · 95 MB/s · ETA 3 s · 2 s". `expected` is the bytes the work reads (and, with
    /// `countingWrites`, writes) in all, as far as it can be known beforehand.
    /// Verify writes nothing but this line, so its writes are not counted.
    static func describe(_ label: String, expected: Int64, start: ProcessIO?, countingWrites: Bool) -> LiveProgress.Describe {
        { _, elapsed in
            guard let start, let now = ProcessIO.now() else { return "\(label): \(ProgressText.duration(elapsed))" }
            let read = now.read - start.read
            let written = countingWrites ? now.written - start.written : 0
            let moved = read + written
            var text = "\(label): \(ProgressText.bytes(read)) read"
            if written > 0 { text += ", \(ProgressText.bytes(written)) written" }
            if expected > 0 { text += " of about \(ProgressText.bytes(expected))" }
            // The first second's rate says little (caches, start-up).
            if elapsed >= 1 {
                text += " · \(ProgressText.bytes(Int64(Double(moved) / elapsed)))/s"
                if expected > moved { text += ProgressText.eta(remaining: Double(expected - moved), done: Double(moved), elapsed: elapsed) }
            }
            return text + " · \(ProgressText.duration(elapsed.rounded(.down)))"
        }
    }
}
