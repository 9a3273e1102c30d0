public import ChainOfCustody
public import Foundation

/// Headless Chromium spoken to over the DevTools pipe transport: Chromium reads
/// NUL-terminated JSON messages on its fd 3 and writes its own on fd 4
/// (its remote-debugging-pipe switch). Foundation's `Process` cannot hand a child
/// descriptors beyond 0–2, so the spawn uses `posix_spawn` with dup2 file
/// actions; that and the raw reads and writes are the only unsafe code here.
///
/// Chromium runs in its own process group, so ``terminate()`` kills it and every
/// helper process it started, and its temporary profile is removed.
public final class ChromiumProcess {
    public let pid: pid_t
    public let userDataDirectory: String
    private let toChromium: Int32
    private let fromChromium: Int32
    private var pending: [UInt8] = []
    /// The bytes of `pending` before this index hold no NUL: a long message (a
    /// screenshot) arriving 64 KiB at a time is scanned once, not once per read.
    private var scanned = 0
    private var readBuffer = [UInt8](repeating: 0, count: 1 << 16)
    private var finished = false

    /// The sentence DESIGN §12 asks for when Chromium is missing (exit 5).
    public static let missingMessage = "Chromium is not installed; install Debian's chromium package (sudo apt-get install chromium) or run make deps."

    /// `$EXHIBIT_CHROMIUM`, else Debian's `/usr/bin/chromium`; a storage error (exit 5)
    /// when it is not an executable file: ``missingMessage`` for the default, and for
    /// a path the user named, what is wrong with that path.
    public static func locate() throws(ExhibitError) -> String {
        let named = ProcessInfo.processInfo.environment["EXHIBIT_CHROMIUM"].flatMap { $0.isEmpty ? nil : $0 }
        let path = named ?? "/usr/bin/chromium"
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists, !isDirectory.boolValue, access(path, X_OK) == 0 else {
            guard named != nil else { throw ExhibitError(.storage, missingMessage) }
            let what = !exists ? "does not exist" : isDirectory.boolValue ? "is a directory" : "is not executable"
            throw ExhibitError(.storage, wrongPathMessage(path, what))
        }
        return path
    }

    /// `$EXHIBIT_CHROMIUM` names something that cannot be run: the path is wrong, not the installation.
    static func wrongPathMessage(_ path: String, _ what: String) -> String {
        "EXHIBIT_CHROMIUM names \(path), which \(what); point it at the Chromium binary (Debian's is /usr/bin/chromium) or unset it."
    }

    /// Starts `executable` on `url` with Chromium's command-line `switches` (named
    /// without their leading dashes, which are Chromium's syntax, added here) and a
    /// fresh profile directory (the user-data-dir switch is added here too).
    public init(executable: String, switches: [String], url: String) throws(ExhibitError) {
        let temporary = FileManager.default.temporaryDirectory.path
        Self.removeStaleProfiles(in: temporary)
        // The name carries this process's pid: a kill -9 runs no cleanup, and the next
        // start tells the profile it left from one a running process still uses.
        let template = temporary + "/" + Self.profilePrefix + "\(getpid())-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw AtomicFile.posixError("Cannot create a temporary profile directory for Chromium")
        }
        userDataDirectory = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        // Two pipes: commands (we write, Chromium reads on 3) and replies (Chromium writes on 4).
        var commands: [Int32] = [-1, -1]
        var replies: [Int32] = [-1, -1]
        guard Self.pipeCloseOnExec(&commands) else {
            try? FileManager.default.removeItem(atPath: userDataDirectory)
            throw AtomicFile.posixError("Cannot create a pipe to Chromium")
        }
        guard Self.pipeCloseOnExec(&replies) else {
            close(commands[0]); close(commands[1])
            try? FileManager.default.removeItem(atPath: userDataDirectory)
            throw AtomicFile.posixError("Cannot create a pipe from Chromium")
        }
        // dup2 onto 3 and 4 must not clobber a source that already sits there.
        func aboveFour(_ fd: Int32) -> Int32 {
            guard fd <= 4 else { return fd }
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            close(fd)
            return moved
        }
        let childRead = aboveFour(commands[0]), parentWrite = aboveFour(commands[1])
        let parentRead = aboveFour(replies[0]), childWrite = aboveFour(replies[1])

        let arguments = (switches + ["user-data-dir=\(userDataDirectory)"]).map { "--" + $0 } + [url]
        // The CLI ignores SIGPIPE; ChildSpawn gives Chromium the default back.
        let (child, status) = ChildSpawn.spawn(executable, argv: [executable] + arguments, fileActions: [
            .open(0, path: "/dev/null", flags: O_RDONLY),
            .open(1, path: "/dev/null", flags: O_WRONLY),
            .open(2, path: userDataDirectory + "/chromium.log", flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600),
            .duplicate(childRead, to: 3),
            .duplicate(childWrite, to: 4),
        ])
        close(childRead)
        close(childWrite)
        guard status == 0 else {
            close(parentWrite); close(parentRead)
            try? FileManager.default.removeItem(atPath: userDataDirectory)
            if status == ENOENT || status == EACCES {
                let named = ProcessInfo.processInfo.environment["EXHIBIT_CHROMIUM"].map { !$0.isEmpty } ?? false
                throw ExhibitError(.storage, named ? Self.wrongPathMessage(executable, "cannot be started (\(String(cString: strerror(status))))") : Self.missingMessage)
            }
            throw ExhibitError(.storage, "Cannot start Chromium (\(executable)): \(String(cString: strerror(status))).")
        }
        pid = child
        toChromium = parentWrite
        fromChromium = parentRead
    }

    deinit {
        terminate()
    }

    /// The descriptor Chromium's messages arrive on, for a caller that waits on it
    /// beside other descriptors; it may be readable while ``receive(until:)`` still
    /// holds a whole message read earlier, so read with that until it returns nil.
    public var messageDescriptor: Int32 { fromChromium }

    /// Sends one message (a JSON object) followed by NUL. A message made of the Swift
    /// types commands are written with (strings, Booleans, Ints, Doubles, arrays and
    /// dictionaries of them) is written by the canonical JSON writer, its members sorted
    /// (DevTools reads them in any order); anything else by JSONSerialization, which
    /// bridges every message to NSDictionary and was a fifth of a browser capture's own CPU.
    public func send(_ message: [String: Any]) throws(ExhibitError) {
        var bytes: [UInt8]
        if let value = Self.jsonValue(message), let canonical = try? value.canonicalBytes() {
            bytes = canonical
        } else if let data = try? JSONSerialization.data(withJSONObject: message) {
            bytes = Array(data)
        } else {
            throw ExhibitError(.storage, "Cannot encode a DevTools message.")
        }
        bytes.append(0)
        try AtomicFile.writeAll(toChromium, bytes, path: "the pipe to Chromium")
    }

    /// `object` as a ``JSONValue`` when it is built only of String, Bool, Int, Double,
    /// arrays and string-keyed dictionaries; nil otherwise. Numbers must be exactly those
    /// Swift types: an NSNumber (from a parsed reply) could pass for a Bool or an Int.
    static func jsonValue(_ object: Any) -> JSONValue? {
        switch object {
        case let string as String:
            return .string(string)
        case let list as [Any]:
            var values: [JSONValue] = []
            values.reserveCapacity(list.count)
            for item in list {
                guard let value = jsonValue(item) else { return nil }
                values.append(value)
            }
            return .array(values)
        case let members as [String: Any]:
            var values: [String: JSONValue] = [:]
            values.reserveCapacity(members.count)
            for (key, item) in members {
                guard let value = jsonValue(item) else { return nil }
                values[key] = value
            }
            return .object(values)
        default:
            let kind = type(of: object)
            if kind == Bool.self, let flag = object as? Bool { return .bool(flag) }
            if kind == Int.self, let integer = object as? Int { return .integer(Int64(integer)) }
            if kind == Double.self, let number = object as? Double { return .number(number) }
            return nil
        }
    }

    /// The next message from Chromium, or nil when `deadline` (CLOCK_MONOTONIC seconds) passes.
    public func receive(until deadline: Double) throws(ExhibitError) -> [String: Any]? {
        while true {
            if let end = pending[scanned...].firstIndex(of: 0) {
                let bytes = Data(pending[..<end])
                pending.removeSubrange(...end)
                scanned = 0
                guard let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] else {
                    throw ExhibitError(.storage, "Chromium sent a DevTools message that is not JSON.")
                }
                return object
            }
            scanned = pending.count
            // A deadline already past still reads what is waiting (one poll without a wait).
            let remaining = deadline - Self.now()
            var poller = pollfd(fd: fromChromium, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, remaining <= 0 ? 0 : Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw AtomicFile.posixError("Cannot wait for Chromium")
            }
            if ready == 0 {
                if remaining <= 0 { return nil }
                continue
            }
            let count = readBuffer.withUnsafeMutableBytes { read(fromChromium, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw AtomicFile.posixError("Cannot read from Chromium")
            }
            if count == 0 {
                throw ExhibitError(.captureFailed, "Chromium exited while it was working\(Self.lastLogLine(userDataDirectory).map { " (\($0))" } ?? "").")
            }
            pending.append(contentsOf: readBuffer[0..<count])
            guard pending.count <= 256 << 20 else {
                throw ExhibitError(.storage, "Chromium sent a DevTools message larger than 256 MiB.")
            }
        }
    }

    /// Asks nothing: kills Chromium's whole process group, reaps it, closes the
    /// pipes and removes the temporary profile. Idempotent.
    public func terminate() {
        guard !finished else { return }
        finished = true
        close(toChromium)
        close(fromChromium)
        // Give a Browser.close a moment to finish on its own, then kill what is left.
        var status: Int32 = 0
        let deadline = Self.now() + 2
        while waitpid(pid, &status, WNOHANG) == 0 && Self.now() < deadline { usleep(20_000) }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        try? FileManager.default.removeItem(atPath: userDataDirectory)
    }

    /// Profile directories are named `exhibit-chromium-<pid>-XXXXXX`, pid of the process that made them.
    static let profilePrefix = "exhibit-chromium-"

    /// Removes the profile directories in `directory` whose owning process no longer
    /// exists (no /proc/<pid>): what a killed capture left behind. A directory of a live
    /// process, of another user, or without a pid in its name is left alone.
    @discardableResult
    static func removeStaleProfiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(profilePrefix) {
            let rest = name.dropFirst(profilePrefix.count).split(separator: "-", maxSplits: 1)
            guard rest.count == 2, let owner = Int32(rest[0]), owner > 0, owner != getpid() else { continue }
            guard access("/proc/\(owner)", F_OK) != 0, errno == ENOENT else { continue }
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }

    /// pipe(2) with both ends close-on-exec (pipe2 is a GNU extension Glibc's module hides);
    /// only the ends dup2'd onto 3 and 4 reach Chromium.
    private static func pipeCloseOnExec(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private static func lastLogLine(_ directory: String) -> String? {
        guard let bytes = try? AtomicFile.read(directory + "/chromium.log") else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").last { !$0.contains("unexpected operator") }
            .map { String($0.prefix(200)) }
    }
}

@available(*, unavailable)
extension ChromiumProcess: Sendable {}
