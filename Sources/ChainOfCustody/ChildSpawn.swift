public import Glibc

/// Starts a child process with `posix_spawn` the way Exhibit runs outside programs
/// (media tools, Chromium): in a process group of its own, so a deadline or a
/// teardown kills whatever it started too, and with SIGPIPE back at its default
/// (the CLI ignores SIGPIPE; a child must not inherit that). Foundation's `Process`
/// cannot hand a child descriptors beyond 0–2, hence the raw spawn.
public enum ChildSpawn {
    /// What the child's descriptors are made of, applied in order before it runs.
    public enum FileAction: Sendable {
        /// Opens `path` with `flags` (and `mode`, when it creates) as descriptor `fd`.
        case open(Int32, path: String, flags: Int32, mode: mode_t = 0)
        /// Makes descriptor `to` a copy of the parent's `fd`.
        case duplicate(Int32, to: Int32)
    }

    /// Spawns `executable` with `argv` (its first element is the child's argv[0]) and
    /// this process's environment. Returns the child's pid and `posix_spawn`'s
    /// result: 0, or the errno that kept the child from starting (pid then meaningless).
    public static func spawn(_ executable: String, argv: [String], fileActions: [FileAction]) -> (child: pid_t, status: Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for action in fileActions {
            switch action {
            case let .open(fd, path, flags, mode): posix_spawn_file_actions_addopen(&actions, fd, path, flags, mode)
            case let .duplicate(fd, to): posix_spawn_file_actions_adddup2(&actions, fd, to)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let cArguments = argv.map { strdup($0) }
        defer { for pointer in cArguments { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, cArguments + [nil], environ)
        return (child, status)
    }
}
